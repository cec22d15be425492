-- The durable store of the agent (SQLite). Each statement is idempotent: it runs
-- at every start.

-- The notification log, as its first layout; store.rs then adds the columns of
-- refused attempts (notification_migrate_refusals.sql), on a new store as on an
-- older one, so that both end with the same table.
CREATE TABLE IF NOT EXISTS notifications (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    date     TEXT    NOT NULL,
    username TEXT    NOT NULL,
    message  TEXT    NOT NULL
);

-- Monitoring collector records (the JSON the web UI reads), oldest first by id;
-- `at` is the record's time in Unix seconds, for the window and `start`.
CREATE TABLE IF NOT EXISTS monitoring_history (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    record TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS monitoring_history_at ON monitoring_history (at);
