-- Forgets one-time tasks finished (done, failed, canceled) before ?1.
DELETE FROM maintenance_tasks
WHERE cron IS NULL
  AND status IN ('done', 'failed', 'canceled')
  AND finished < ?1
