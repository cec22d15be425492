-- Writes one maintenance task, new or changed.
INSERT INTO maintenance_tasks (id, operation, dbname, schema_name, table_name,
    index_name, index_table, mode, datetime, cron, status, username, created,
    started, finished, error)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
ON CONFLICT (id) DO UPDATE SET
    datetime = excluded.datetime,
    status = excluded.status,
    started = excluded.started,
    finished = excluded.finished,
    error = excluded.error
