-- Size in bytes of every tablespace. pg_tablespace_size answers NULL (no error)
-- when the tablespace's directory is missing or cannot be opened, which is the
-- `null` size of a tablespace whose location cannot be read. It fails for a
-- tablespace the agent's role has no CREATE on (without pg_read_all_stats; the
-- database's default tablespace is always allowed): null there too.
SELECT spcname,
       CASE WHEN has_tablespace_privilege(oid, 'CREATE')
                 OR pg_has_role('pg_read_all_stats', 'USAGE')
                 OR oid = (SELECT dattablespace FROM pg_database
                           WHERE datname = current_database())
            THEN pg_catalog.pg_tablespace_size(oid)
       END AS size
FROM pg_catalog.pg_tablespace
ORDER BY spcname;
