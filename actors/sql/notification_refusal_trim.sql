-- Keep the newest ?1 rows of refused attempts only; events are never touched.
DELETE FROM notifications
 WHERE refusal_group IS NOT NULL
   AND id <= (SELECT id FROM notifications
               WHERE refusal_group IS NOT NULL
               ORDER BY id DESC LIMIT 1 OFFSET ?1)
