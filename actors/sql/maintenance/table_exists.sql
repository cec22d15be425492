-- Names are bound as text: a parameter typed `name` fails over 63 bytes
-- ("identifier too long"), where such a name must simply match nothing (404).
-- Whether a table (plain, partitioned) or materialized view exists.
-- $1: schema; $2: table name.
SELECT c.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1::text
  AND c.relname = $2::text
  AND c.relkind IN ('r', 'm', 'p')
