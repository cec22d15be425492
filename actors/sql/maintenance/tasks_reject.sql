-- Sets one unreadable task row aside. ?1: its rowid.
INSERT INTO maintenance_tasks_rejected SELECT * FROM maintenance_tasks WHERE rowid = ?1;
