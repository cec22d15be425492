SELECT date, username, message FROM notifications ORDER BY id DESC LIMIT ?1
