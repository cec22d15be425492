-- The durable store of the agent (SQLite). Each statement is idempotent: it runs
-- at every start.
CREATE TABLE IF NOT EXISTS notifications (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    date     TEXT    NOT NULL,
    username TEXT    NOT NULL,
    message  TEXT    NOT NULL
);
