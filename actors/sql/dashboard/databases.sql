-- Non-template databases: how many, their total size, commits and rollbacks.
SELECT count(d.oid)::bigint AS databases,
       pg_size_pretty(coalesce(sum(pg_database_size(d.datname)), 0)::bigint) AS total_size,
       to_char(now(), 'HH24:MI') AS time,
       coalesce(sum(s.xact_commit), 0)::bigint AS total_commit,
       coalesce(sum(s.xact_rollback), 0)::bigint AS total_rollback
  FROM pg_database AS d
  JOIN pg_stat_database AS s ON s.datid = d.oid
 WHERE NOT d.datistemplate
