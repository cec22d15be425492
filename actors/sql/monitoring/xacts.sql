-- Transactions committed and rolled back per database since the statistics were
-- reset (counters; the registry reports the change since the previous run).
SELECT d.datname AS dbname,
       s.xact_commit AS n_commit,
       s.xact_rollback AS n_rollback
FROM pg_catalog.pg_database AS d
JOIN pg_catalog.pg_stat_database AS s ON s.datid = d.oid
WHERE d.datallowconn
ORDER BY d.datname;
