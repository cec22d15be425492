-- Blocks read from outside shared buffers and found in them, per database
-- (counters; the registry reports the change since the previous run and derives
-- hitmiss_ratio from it).
SELECT d.datname AS dbname,
       s.blks_read,
       s.blks_hit
FROM pg_catalog.pg_database AS d
JOIN pg_catalog.pg_stat_database AS s ON s.datid = d.oid
WHERE d.datallowconn
ORDER BY d.datname;
