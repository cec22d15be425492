-- Asks the postmaster to read the configuration files again (true: it was signalled).
SELECT pg_reload_conf()
