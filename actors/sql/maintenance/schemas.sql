-- The schemas of the current database, without the TOAST and temporary schemas
-- (their relations belong to the tables they serve or to other sessions).
SELECT nspname AS name
FROM pg_catalog.pg_namespace
WHERE nspname <> 'pg_toast'
  AND nspname NOT LIKE 'pg\_temp\_%'
  AND nspname NOT LIKE 'pg\_toast\_temp\_%'
ORDER BY nspname
