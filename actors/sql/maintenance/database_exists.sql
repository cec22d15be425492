-- Names are bound as text: a parameter typed `name` fails over 63 bytes
-- ("identifier too long"), where such a name must simply match nothing (404).
-- Whether a database can be browsed or maintained: it exists and accepts
-- connections. $1: the database name (a bind parameter, never formatted in).
SELECT datname
FROM pg_catalog.pg_database
WHERE datname = $1::text
  AND datallowconn
