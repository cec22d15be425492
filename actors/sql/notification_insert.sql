INSERT INTO notifications (date, username, message) VALUES (?1, ?2, ?3)
