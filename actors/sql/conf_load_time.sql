-- When this session last read the configuration files (text: compared for change
-- only). A new backend inherits the postmaster's value; an open session's changes
-- once it has processed a reload, which the postmaster signals only after its own.
SELECT pg_conf_load_time()::text
