-- The wal_files probe, after the server's variant (wal_files.sql,
-- wal_files.120000.sql) has defined `archive_status`, the files of
-- pg_wal/archive_status: WAL segments in pg_wal (count and bytes), segments
-- waiting for the archiver (.ready files), the current write position, and the
-- position in bytes from 0/0 as written_size (a counter: the registry reports the
-- bytes written since the previous run). No row on a standby, which writes no WAL
-- of its own.
SELECT w.total,
       w.total_size,
       a.archive_ready,
       pg_catalog.pg_current_wal_lsn()::text AS current_location,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), '0/0')::bigint
         AS written_size
FROM (
  SELECT count(*) AS total,
         COALESCE(sum(size), 0)::float8 AS total_size
  FROM pg_catalog.pg_ls_waldir()
  WHERE name ~ '^[0-9A-F]{24}$'
) AS w
CROSS JOIN (
  SELECT count(*) AS archive_ready
  FROM archive_status
  WHERE name ~ '\.ready$'
) AS a
WHERE NOT pg_catalog.pg_is_in_recovery();
