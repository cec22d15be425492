-- Every setting of pg_settings, as the pgconf API shows it, for a role that may not
-- read pg_file_settings: no value as written in the files.
SELECT s.category,
       s.name,
       s.setting,
       current_setting(s.name) AS shown,
       s.unit,
       s.vartype,
       s.min_val,
       s.max_val,
       s.enumvals,
       s.context,
       concat_ws(' ', s.short_desc, s.extra_desc) AS description,
       s.boot_val,
       s.reset_val,
       s.pending_restart,
       NULL::text AS file_setting
FROM pg_settings s
ORDER BY s.category, s.name
