-- Ask the postmaster to re-read its configuration files (used when no pg_ctl template is set).
SELECT pg_reload_conf()
