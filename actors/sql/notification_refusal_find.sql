-- The row of this client's refused attempts of this kind in this minute, if any.
SELECT id FROM notifications
 WHERE refusal_group = ?1 AND refusal_minute = ?2
 ORDER BY id DESC LIMIT 1
