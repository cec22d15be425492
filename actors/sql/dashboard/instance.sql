-- What the dashboard tells of the instance: version, settings and uptime.
SELECT version() AS pg_version,
       current_setting('max_connections')::integer AS max_connections,
       current_setting('data_directory') AS pg_data,
       current_setting('port') AS pg_port,
       (now() - pg_postmaster_start_time())::text AS pg_uptime
