-- Size in bytes of every tablespace. pg_tablespace_size answers NULL (no error)
-- when the tablespace's directory is missing or cannot be opened, which is the
-- `null` size of a tablespace whose location cannot be read.
SELECT spcname,
       pg_catalog.pg_tablespace_size(oid) AS size
FROM pg_catalog.pg_tablespace
ORDER BY spcname;
