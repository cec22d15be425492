-- The indexes of the given tables with their definition, size and usage.
-- $1: table oids (bigint[]), joined through unnest so that a long list stays a
-- hash or index join.
SELECT i.indexrelid::bigint AS oid,
       i.indrelid::bigint AS table_oid,
       ci.relname AS name,
       ct.relname AS tablename,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS def,
       i.indisunique,
       i.indnatts::bigint AS number_of_columns,
       am.amname AS type,
       ts.spcname AS tablespace,
       COALESCE(pg_catalog.pg_relation_size(i.indexrelid), 0) AS total_bytes,
       COALESCE(s.idx_scan, 0) AS scans,
       COALESCE(s.idx_tup_read, 0) AS idx_tup_read,
       COALESCE(s.idx_tup_fetch, 0) AS idx_tup_fetch
FROM unnest($1::bigint[]) AS sel(oid)
JOIN pg_catalog.pg_index i ON i.indrelid = sel.oid::oid
JOIN pg_catalog.pg_class ci ON ci.oid = i.indexrelid
JOIN pg_catalog.pg_class ct ON ct.oid = i.indrelid
JOIN pg_catalog.pg_am am ON am.oid = ci.relam
LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = ci.reltablespace
LEFT JOIN pg_catalog.pg_stat_all_indexes s ON s.indexrelid = i.indexrelid
ORDER BY ct.relname, ci.relname
