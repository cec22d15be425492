-- Names are bound as text: a parameter typed `name` fails over 63 bytes
-- ("identifier too long"), where such a name must simply match nothing (404).
-- Does the database named by [statements] dbname exist? $1: its name.
SELECT datname FROM pg_catalog.pg_database WHERE datname = $1::text
