-- Estimated bloat of the database's btree indexes, in percent of their size:
-- bloat/btree.sql, which this follows, over every btree index of the database,
-- system catalogs included, other sessions' temporary tables excluded. Indexes
-- whose estimate is not trusted (on a `name` column) are skipped, and so are
-- empty ones and those without statistics; NULL when none is left. Runs in each
-- selected database (the runner adds dbname).
SELECT (100 * sum(bloat_bytes) / NULLIF(sum(index_bytes), 0))::float8 AS ratio
FROM estimate
WHERE relpersistence <> 't'
  AND NOT is_na;
