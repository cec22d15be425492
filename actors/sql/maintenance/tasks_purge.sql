-- Forgets tasks that ended (done, failed, canceled) before ?1: one-time tasks once
-- run, and cancelled ones, recurring or not (a recurring task that runs is `todo`
-- again: it ends only when cancelled).
DELETE FROM maintenance_tasks
WHERE status IN ('done', 'failed', 'canceled')
  AND finished < ?1
