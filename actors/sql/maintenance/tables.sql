-- Tables (plain, partitioned) and materialized views of the current database with
-- their sizes, ordered by schema and name. Sizes follow the PostgreSQL wiki's "disk
-- usage" split: total = pg_total_relation_size (computed as pg_table_size +
-- pg_indexes_size, which stats each file once instead of twice), index =
-- pg_indexes_size, toast = the TOAST table with its index, table = the rest (main
-- fork, FSM and VM). The page is chosen first so that only its tables are sized.
-- Relations dropped while this runs get NULL sizes, hence the COALESCEs.
-- $1: schema name or NULL for every schema; $2: table name or NULL for every
-- table; $3: LIMIT; $4: OFFSET.
SELECT c.oid::bigint AS oid,
       c.schema,
       c.name,
       GREATEST(c.reltuples, 0)::float8 AS row_estimate,
       sz.table_and_toast + sz.index_bytes AS total_bytes,
       sz.index_bytes,
       sz.toast_bytes,
       (SELECT count(*) FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid) AS n_indexes,
       COALESCE(substring(pg_catalog.array_to_string(c.reloptions, ' ')
                          FROM 'fillfactor=([0-9]+)')::bigint, 100) AS fillfactor
FROM (
  SELECT c.oid, n.nspname AS schema, c.relname AS name, c.reltuples, c.reloptions,
         c.reltoastrelid
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'm', 'p')
    AND c.relpersistence <> 't'
    AND ($1::text IS NULL OR n.nspname = $1::text)
    AND ($2::text IS NULL OR c.relname = $2::text)
  ORDER BY n.nspname, c.relname
  LIMIT $3 OFFSET $4
) AS c
CROSS JOIN LATERAL (
  SELECT COALESCE(pg_catalog.pg_table_size(c.oid), 0) AS table_and_toast,
         COALESCE(pg_catalog.pg_indexes_size(c.oid), 0) AS index_bytes,
         COALESCE(pg_catalog.pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)
           AS toast_bytes
) AS sz
ORDER BY c.schema, c.name
