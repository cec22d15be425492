-- Records after `start` (Unix seconds), oldest first.
SELECT record FROM monitoring_history WHERE at > ?1 ORDER BY id LIMIT ?2;
