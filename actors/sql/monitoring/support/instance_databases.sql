-- Databases of a history record's instance: name, encoding, size in bytes (null
-- where the agent's role may not connect: pg_database_size would fail).
SELECT datname AS dbname,
       pg_encoding_to_char(encoding) AS encoding,
       CASE WHEN has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid) END AS size
FROM pg_database
WHERE datallowconn
ORDER BY datname;
