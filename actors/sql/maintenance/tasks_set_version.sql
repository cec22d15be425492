-- Records the layout version of maintenance_tasks. ?1: the version.
DELETE FROM maintenance_schema;
INSERT INTO maintenance_schema (version) VALUES (?1);
