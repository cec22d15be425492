-- On a standby, whether its WAL receiver streams from the upstream server:
-- `upstream` is the sender's host as 7.x reports it (the host of
-- primary_conninfo; NULL without a WAL receiver), `connected` 1 when streaming,
-- 0 otherwise. No row on a primary.
SELECT r.sender_host AS upstream,
       CASE WHEN r.status = 'streaming' THEN 1 ELSE 0 END AS connected
FROM (SELECT 1) AS one
LEFT JOIN pg_catalog.pg_stat_wal_receiver AS r ON true
WHERE pg_catalog.pg_is_in_recovery();
