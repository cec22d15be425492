-- Whether a schema exists in the current database. $1: schema name.
SELECT nspname
FROM pg_catalog.pg_namespace
WHERE nspname = $1
