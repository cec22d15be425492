-- Databases the per-database probes may visit: those that accept connections.
SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname;
