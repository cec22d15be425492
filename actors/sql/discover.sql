-- What /discover tells of the instance.
SELECT version() AS version,
       current_setting('server_version') AS server_version,
       current_setting('server_version_num')::integer AS server_version_num,
       current_setting('data_directory') AS data_directory,
       current_setting('port')::integer AS port
