-- Does the database named by [statements] dbname exist? $1: its name.
SELECT datname FROM pg_catalog.pg_database WHERE datname = $1
