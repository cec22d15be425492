-- Asks the postmaster to read the configuration files again.
SELECT pg_reload_conf()
