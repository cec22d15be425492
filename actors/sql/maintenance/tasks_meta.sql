-- The version of the maintenance task table's layout (SQLite, durable store).
-- The store is shared with other actors, so the version lives in a table of its
-- own rather than in PRAGMA user_version.
CREATE TABLE IF NOT EXISTS maintenance_schema (
    version INTEGER NOT NULL
);
