-- No lines of the configuration files, for settings.sql (which follows this text),
-- for a role that may not read pg_file_settings: no value as written in the files,
-- and the built-in default of search_path.
WITH file AS (
    SELECT NULL::int4 AS seqno, NULL::text AS sourcefile, NULL::int4 AS sourceline,
           NULL::text AS name, NULL::text AS setting
    WHERE false
),
last_in_files AS (
    SELECT name, setting FROM file
)
