-- Bytes written to temporary files per database (a counter; the registry reports
-- the change since the previous run as `size`).
SELECT d.datname AS dbname,
       s.temp_bytes AS size
FROM pg_catalog.pg_database AS d
JOIN pg_catalog.pg_stat_database AS s ON s.datid = d.oid
WHERE d.datallowconn
ORDER BY d.datname;
