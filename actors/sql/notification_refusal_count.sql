UPDATE notifications SET attempts = attempts + 1 WHERE id = ?1
