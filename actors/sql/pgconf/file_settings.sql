-- The lines of the configuration files, for settings.sql (which follows this text).
-- Reading pg_file_settings needs superuser; no_file_settings.sql is the fallback.
WITH file AS (
    SELECT seqno, sourcefile, sourceline, lower(name) AS name, setting
    FROM pg_file_settings
),
last_in_files AS (
    SELECT DISTINCT ON (name) name, setting
    FROM file
    ORDER BY name, seqno DESC
)
