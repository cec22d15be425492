-- Every setting of pg_settings, as the pgconf API shows it, after the lines of the
-- configuration files (file_settings.sql, or no_file_settings.sql). file_setting is
-- the value as written in a configuration file: the line in force (sourcefile,
-- sourceline), or, for a setting waiting for a restart, the last line that sets it.
-- search_path is the one setting the agent's own connections override (pg_catalog,
-- pg_temp: no object another role creates is found unqualified): the instance's
-- value is shown instead, as the files set it, else the built-in default.
SELECT s.category,
       s.name,
       CASE WHEN s.name = 'search_path' AND s.source = 'client'
            THEN COALESCE(l.setting, s.boot_val) ELSE s.setting END AS setting,
       CASE WHEN s.name = 'search_path' AND s.source = 'client'
            THEN COALESCE(l.setting, s.boot_val) ELSE current_setting(s.name) END AS shown,
       s.unit,
       s.vartype,
       s.min_val,
       s.max_val,
       s.enumvals,
       s.context,
       concat_ws(' ', s.short_desc, s.extra_desc) AS description,
       s.boot_val,
       CASE WHEN s.name = 'search_path' AND s.source = 'client'
            THEN COALESCE(l.setting, s.boot_val) ELSE s.reset_val END AS reset_val,
       s.pending_restart,
       CASE
           WHEN s.pending_restart THEN l.setting
           WHEN s.source = 'configuration file' THEN f.setting
       END AS file_setting
FROM pg_settings s
LEFT JOIN file f ON f.sourcefile = s.sourcefile AND f.sourceline = s.sourceline
LEFT JOIN last_in_files l ON l.name = lower(s.name)
ORDER BY s.category, s.name
