-- Every maintenance task, oldest first (ties of `created`, which counts whole
-- seconds, in the order they were written first: an update keeps the rowid).
SELECT rowid, id, operation, dbname, schema_name, table_name, index_name, index_table,
       mode, datetime, cron, status, username, created, started, finished, error
FROM maintenance_tasks
ORDER BY created, rowid
