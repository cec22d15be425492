-- Whether a table exists in the store. ?1: its name.
SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1
