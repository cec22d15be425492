-- Records older than the window go.
DELETE FROM monitoring_history WHERE at < ?1;
