-- Keep the newest ?1 events only; refused attempts have their own cap
-- (notification_refusal_trim.sql) and never push an event out.
DELETE FROM notifications
 WHERE refusal_group IS NULL
   AND id <= (SELECT id FROM notifications
               WHERE refusal_group IS NULL
               ORDER BY id DESC LIMIT 1 OFFSET ?1)
