-- Client backends waiting for a lock (one not granted), longest running first,
-- with the lock they wait for. The relation is named here when it belongs to the
-- database this query runs in (or is a shared catalog); otherwise its database and
-- oid are answered for the agent to name it there. Same backends and filters as
-- activity.sql: $1 min_duration or NULL, $2 database or NULL, $3 user or NULL,
-- $4 limit, $5 the agent's own backends' pids (int4[]), never listed.
SELECT b.pid, b.database, b."user", b.duration, b.state, b.query,
       b.locktype, b.mode, b.relation_oid, b.relation_database, b.relation_name
FROM (
    SELECT a.pid,
           a.datname::text AS database,
           a.usename::text AS "user",
           GREATEST(EXTRACT(EPOCH FROM now() - COALESCE(a.query_start, a.backend_start)), 0)::float8
               AS duration,
           a.state,
           a.query,
           l.locktype,
           l.mode,
           l.relation AS relation_oid,
           d.datname::text AS relation_database,
           CASE WHEN c.oid IS NOT NULL
                THEN pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
           END AS relation_name
    FROM pg_catalog.pg_locks AS l
    JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
    LEFT JOIN pg_catalog.pg_database AS d ON d.oid = l.database
    LEFT JOIN pg_catalog.pg_class AS c
           ON c.oid = l.relation
          AND (l.database = 0 OR d.datname = pg_catalog.current_database())
    LEFT JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE NOT l.granted
      AND a.backend_type = 'client backend'
      AND a.pid <> ALL ($5::int4[])
      AND a.pid <> pg_catalog.pg_backend_pid()
) AS b
WHERE ($1::float8 IS NULL OR b.duration >= $1)
  AND ($2::text IS NULL OR b.database = $2)
  AND ($3::text IS NULL OR b."user" = $3)
ORDER BY b.duration DESC, b.pid
LIMIT $4::int8
