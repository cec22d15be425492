-- Where unreadable task rows are set aside (same columns as maintenance_tasks).
CREATE TABLE IF NOT EXISTS maintenance_tasks_rejected AS
SELECT * FROM maintenance_tasks WHERE 0
