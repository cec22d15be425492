-- What a history record tells of the instance.
SELECT current_setting('data_directory') AS data_directory,
       current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num,
       current_setting('max_connections') AS max_connections,
       pg_is_in_recovery() AS standby;
