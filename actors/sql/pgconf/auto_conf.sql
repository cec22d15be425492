-- The lines of postgresql.auto.conf (what ALTER SYSTEM wrote), in file order: the
-- previous state of a setting, to undo a change when a later one of the same
-- request fails.
SELECT lower(name) AS name, setting
FROM pg_file_settings
WHERE sourcefile = current_setting('data_directory') || '/postgresql.auto.conf'
ORDER BY seqno
