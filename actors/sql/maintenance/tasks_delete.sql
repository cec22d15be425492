-- Removes one task row. ?1: its rowid.
DELETE FROM maintenance_tasks WHERE rowid = ?1
