-- On a standby, how far replay is behind the primary, in bytes: from the latest
-- WAL position the primary announced to the WAL receiver (or, without one, the
-- last position received) to the last position replayed. NULL when the standby
-- has neither (WAL from the archive only). No row on a primary.
SELECT pg_catalog.pg_wal_lsn_diff(
         GREATEST(pg_catalog.pg_last_wal_receive_lsn(), r.latest_end_lsn),
         pg_catalog.pg_last_wal_replay_lsn()
       )::bigint AS lag
FROM (SELECT 1) AS one
LEFT JOIN pg_catalog.pg_stat_wal_receiver AS r ON true
WHERE pg_catalog.pg_is_in_recovery();
