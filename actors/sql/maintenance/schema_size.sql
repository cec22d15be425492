-- Names are bound as text: a parameter typed `name` fails over 63 bytes
-- ("identifier too long"), where such a name must simply match nothing (404).
-- Total size of the tables of a schema (as tables.sql counts them), for a paged
-- schema page. $1: schema name.
SELECT COALESCE(sum(COALESCE(pg_catalog.pg_table_size(c.oid), 0)
                    + COALESCE(pg_catalog.pg_indexes_size(c.oid), 0)), 0)::bigint
         AS total_bytes
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 'p')
  AND c.relpersistence <> 't'
  AND n.nspname = $1::text
