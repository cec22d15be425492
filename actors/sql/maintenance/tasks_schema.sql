-- The maintenance tasks, layout version 1 (see tasks_meta.sql). Datetimes are
-- UTC text 'YYYY-MM-DDTHH:MM:SSZ'. A database-wide task has no schema; a table
-- task has schema_name and table_name; an index task has schema_name,
-- index_name and index_table (the table the index belongs to).
CREATE TABLE IF NOT EXISTS maintenance_tasks (
    id          TEXT PRIMARY KEY,
    operation   TEXT NOT NULL,
    dbname      TEXT NOT NULL,
    schema_name TEXT,
    table_name  TEXT,
    index_name  TEXT,
    index_table TEXT,
    mode        TEXT,
    datetime    TEXT NOT NULL,
    cron        TEXT,
    status      TEXT NOT NULL,
    username    TEXT NOT NULL,
    created     TEXT NOT NULL,
    started     TEXT,
    finished    TEXT,
    error       TEXT
);
