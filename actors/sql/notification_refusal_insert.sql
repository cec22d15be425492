INSERT INTO notifications (date, username, message, refusal_group, refusal_minute, attempts)
VALUES (?1, ?2, ?3, ?4, ?5, 1)
