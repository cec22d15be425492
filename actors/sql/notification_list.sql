-- Events and refused attempts merged, newest first (a refusal row is placed at
-- the first attempt of its minute).
SELECT date, username, message, attempts FROM notifications ORDER BY id DESC LIMIT ?1
