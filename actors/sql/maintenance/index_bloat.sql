-- Estimated bloat of the btree indexes of the given tables (bloat/btree.sql,
-- which this follows), in bytes; `is_na`: the estimate is not trusted. Indexes of
-- another access method, empty or without statistics, get no row. $1: table
-- oids (bigint[]).
SELECT oid::bigint AS oid,
       table_oid::bigint AS table_oid,
       bloat_bytes::float8 AS bloat_bytes,
       is_na
FROM estimate
WHERE table_oid = ANY ($1::bigint[]::oid[])
