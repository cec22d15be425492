-- The installed version of pg_stat_statements in the current database (no row when
-- it is not installed), and the schema it is installed in, quoted as an identifier:
-- the snapshot names the function with it, since the connection's search path is
-- pg_catalog only (a schema such as public may hold other roles' objects).
SELECT e.extversion, pg_catalog.quote_ident(n.nspname) AS schema
FROM pg_catalog.pg_extension AS e
JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'
