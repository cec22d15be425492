-- The most recent record: what 7.x answers without `start`.
SELECT record FROM monitoring_history ORDER BY id DESC LIMIT 1;
