-- Names are bound as text: a parameter typed `name` fails over 63 bytes
-- ("identifier too long"), where such a name must simply match nothing (404).
-- The table an index belongs to, if the index exists. $1: schema; $2: index name.
SELECT ct.relname AS tablename
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ci ON ci.oid = i.indexrelid
JOIN pg_catalog.pg_class ct ON ct.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ci.relnamespace
WHERE n.nspname = $1::text
  AND ci.relname = $2::text
