-- The databases of the instance that accept connections, with their size on disk.
SELECT datname,
       pg_catalog.pg_database_size(oid) AS total_bytes
FROM pg_catalog.pg_database
WHERE datallowconn
  AND NOT datistemplate
ORDER BY datname
