-- Records taken at or after `start` (Unix seconds), oldest first, as 7.x
-- answers them.
SELECT record FROM monitoring_history WHERE at >= ?1 ORDER BY id LIMIT ?2;
