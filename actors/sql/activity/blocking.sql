-- Client backends holding a lock that another backend waits for, longest running
-- first, one row per such lock: a granted lock on the very object a backend waits
-- for, held by one of the pids that pg_blocking_pids() names for that waiter (so
-- that a holder of a compatible lock is not listed). Relation naming, backends and
-- filters as in waiting.sql: $1 min_duration or NULL, $2 database or NULL, $3 user
-- or NULL, $4 limit, $5 the agent's own backends' pids.
WITH waiting AS (
    SELECT w.locktype, w.database, w.relation, w.page, w.tuple, w.virtualxid,
           w.transactionid, w.classid, w.objid, w.objsubid,
           pg_catalog.pg_blocking_pids(w.pid) AS blockers
    FROM pg_catalog.pg_locks AS w
    WHERE NOT w.granted
)
SELECT b.pid, b.database, b."user", b.duration, b.state, b.query,
       b.locktype, b.mode, b.relation_oid, b.relation_database, b.relation_name
FROM (
    SELECT DISTINCT
           a.pid,
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
    JOIN waiting AS w
      ON ROW(l.locktype, l.database, l.relation, l.page, l.tuple, l.virtualxid,
             l.transactionid, l.classid, l.objid, l.objsubid)
         IS NOT DISTINCT FROM
         ROW(w.locktype, w.database, w.relation, w.page, w.tuple, w.virtualxid,
             w.transactionid, w.classid, w.objid, w.objsubid)
     AND l.pid = ANY (w.blockers)
    JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
    LEFT JOIN pg_catalog.pg_database AS d ON d.oid = l.database
    LEFT JOIN pg_catalog.pg_class AS c
           ON c.oid = l.relation
          AND (l.database = 0 OR d.datname = pg_catalog.current_database())
    LEFT JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE l.granted
      AND a.backend_type = 'client backend'
      AND a.pid <> ALL ($5::int4[])
      AND a.pid <> pg_catalog.pg_backend_pid()
) AS b
WHERE ($1::float8 IS NULL OR b.duration >= $1)
  AND ($2::text IS NULL OR b.database = $2)
  AND ($3::text IS NULL OR b."user" = $3)
ORDER BY b.duration DESC, b.pid
LIMIT $4::int8
