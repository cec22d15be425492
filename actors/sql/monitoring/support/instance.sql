-- What a history record tells of the instance. data_directory is read from
-- pg_settings, which hides it (null) from a role without pg_read_all_settings
-- instead of failing the whole reading.
SELECT (SELECT setting FROM pg_settings WHERE name = 'data_directory') AS data_directory,
       current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num,
       current_setting('max_connections') AS max_connections,
       pg_is_in_recovery() AS standby;
