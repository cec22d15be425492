-- Names are bound as text: a parameter typed `name` fails over 63 bytes
-- ("identifier too long"), where such a name must simply match nothing (404).
-- Whether a schema exists in the current database. $1: schema name.
SELECT nspname
FROM pg_catalog.pg_namespace
WHERE nspname = $1::text
