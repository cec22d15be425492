-- wal_files on PostgreSQL 10 and 11 (support/wal_files.sql follows):
-- pg_ls_archive_statusdir() does not exist yet, the archive status folder is
-- listed with pg_ls_dir() (superuser only there).
WITH archive_status AS (
  SELECT name FROM pg_catalog.pg_ls_dir('pg_wal/archive_status') AS f(name)
)
