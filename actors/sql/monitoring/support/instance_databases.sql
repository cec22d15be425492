-- Databases of a history record's instance: name, encoding, size in bytes.
SELECT datname AS dbname,
       pg_encoding_to_char(encoding) AS encoding,
       pg_database_size(oid) AS size
FROM pg_database
WHERE datallowconn
ORDER BY datname;
