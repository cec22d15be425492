-- Size in bytes of every database that accepts connections.
SELECT datname AS dbname, pg_database_size(oid) AS size
FROM pg_database
WHERE datallowconn
ORDER BY datname;
