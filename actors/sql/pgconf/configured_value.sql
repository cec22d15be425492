-- The value a setting gets from the configuration files once they are all read
-- (the last line that sets it), else its built-in default.
SELECT coalesce(
    (SELECT f.setting
     FROM pg_file_settings f
     WHERE lower(f.name) = lower($1)
     ORDER BY f.seqno DESC
     LIMIT 1),
    (SELECT s.boot_val FROM pg_settings s WHERE s.name = $1)
) AS configured
