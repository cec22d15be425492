-- Size in bytes of every database that accepts connections. pg_database_size
-- fails for a database the agent's role may not connect to (without
-- pg_read_all_stats): its size is null rather than the whole probe failing.
SELECT datname AS dbname,
       CASE WHEN has_database_privilege(oid, 'CONNECT')
                 OR pg_has_role('pg_read_all_stats', 'USAGE')
            THEN pg_database_size(oid)
       END AS size
FROM pg_database
WHERE datallowconn
ORDER BY datname;
