-- Every maintenance task, oldest first.
SELECT rowid, id, operation, dbname, schema_name, table_name, index_name, index_table,
       mode, datetime, cron, status, username, created, started, finished, error
FROM maintenance_tasks
ORDER BY created, id
