-- Size on disk of the database the connection is in.
SELECT pg_catalog.pg_database_size(pg_catalog.current_database()) AS total_bytes
