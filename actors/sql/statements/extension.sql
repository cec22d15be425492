-- The installed version of pg_stat_statements in the current database (no row when
-- it is not installed), and the search path set to find its function: pg_catalog
-- first so that nothing in the extension's schema shadows the catalog.
SELECT e.extversion,
       pg_catalog.set_config(
           'search_path',
           'pg_catalog, ' || pg_catalog.quote_ident(n.nspname),
           false
       ) AS search_path
FROM pg_catalog.pg_extension AS e
JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'
