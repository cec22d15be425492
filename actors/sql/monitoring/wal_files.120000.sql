-- wal_files from PostgreSQL 12 (support/wal_files.sql follows): the archive
-- status folder listed with pg_ls_archive_statusdir(), which pg_monitor may run.
WITH archive_status AS (
  SELECT name FROM pg_catalog.pg_ls_archive_statusdir()
)
