-- Keep the newest ?1 rows only.
DELETE FROM notifications
 WHERE id <= (SELECT id FROM notifications ORDER BY id DESC LIMIT 1 OFFSET ?1)
