-- Estimated bloat of the database's tables and materialized views, in percent of
-- their size (heap and TOAST pages): bloat/heap.sql, which this follows, over
-- every table of the database, system catalogs included, other sessions'
-- temporary tables excluded. Tables whose estimate is not trusted (no
-- statistics, a `name` column) are skipped; NULL when none is left. Runs in each
-- selected database (the runner adds dbname).
SELECT (100 * sum(bloat_bytes) / NULLIF(sum(table_bytes), 0))::float8 AS ratio
FROM estimate
WHERE relpersistence <> 't'
  AND NOT is_na;
