-- The server's version number, to pick each probe's SQL variant.
SELECT current_setting('server_version_num')::int AS server_version_num;
