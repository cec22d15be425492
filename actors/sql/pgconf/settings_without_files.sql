-- Every setting of pg_settings, as the pgconf API shows it, for a role that may not
-- read pg_file_settings: no value as written in the files. search_path: the agent's
-- connections override it (see settings.sql); the built-in default is shown.
SELECT s.category,
       s.name,
       CASE WHEN s.name = 'search_path' AND s.source = 'client'
            THEN s.boot_val ELSE s.setting END AS setting,
       CASE WHEN s.name = 'search_path' AND s.source = 'client'
            THEN s.boot_val ELSE current_setting(s.name) END AS shown,
       s.unit,
       s.vartype,
       s.min_val,
       s.max_val,
       s.enumvals,
       s.context,
       concat_ws(' ', s.short_desc, s.extra_desc) AS description,
       s.boot_val,
       CASE WHEN s.name = 'search_path' AND s.source = 'client'
            THEN s.boot_val ELSE s.reset_val END AS reset_val,
       s.pending_restart,
       NULL::text AS file_setting
FROM pg_settings s
ORDER BY s.category, s.name
