-- Whether a database can be browsed or maintained: it exists and accepts
-- connections. $1: the database name (a bind parameter, never formatted in).
SELECT datname
FROM pg_catalog.pg_database
WHERE datname = $1
  AND datallowconn
