INSERT INTO monitoring_history (at, record) VALUES (?1, ?2);
