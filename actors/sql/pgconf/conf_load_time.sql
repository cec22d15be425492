-- When this session last read the configuration files: it changes once the session
-- has processed a reload, which the postmaster signals only after its own.
SELECT pg_conf_load_time()::text
