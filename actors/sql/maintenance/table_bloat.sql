-- Estimated bloat of the given tables (bloat/heap.sql, which this follows), in
-- bytes; `is_na`: the estimate is not trusted. $1: table oids (bigint[]).
SELECT oid::bigint AS oid,
       bloat_bytes::float8 AS bloat_bytes,
       is_na
FROM estimate
WHERE oid = ANY ($1::bigint[]::oid[])
