-- The layout version of maintenance_tasks, NULL when never recorded.
SELECT max(version) FROM maintenance_schema
