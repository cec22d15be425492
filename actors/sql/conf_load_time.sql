-- When the postmaster last loaded its configuration files (text: compared for change only).
SELECT pg_conf_load_time()::text
