-- Client backends of the instance, longest running first: neither the agent's own
-- connections (their pids, $5: an application_name is any client's to set) nor
-- background processes.
-- duration: seconds since the current or last query started (since the connection
-- for a backend that never ran one), never negative.
-- $1 min_duration (seconds) or NULL, $2 database or NULL, $3 user or NULL, $4 limit,
-- $5 the agent's own backends' pids (int4[]).
SELECT b.pid, b.database, b."user", b.client, b.duration, b.state, b.query, b.waiting
FROM (
    SELECT a.pid,
           a.datname::text AS database,
           a.usename::text AS "user",
           pg_catalog.host(a.client_addr) AS client,
           GREATEST(EXTRACT(EPOCH FROM now() - COALESCE(a.query_start, a.backend_start)), 0)::float8
               AS duration,
           a.state,
           a.query,
           a.wait_event_type IS NOT DISTINCT FROM 'Lock' AS waiting
    FROM pg_catalog.pg_stat_activity AS a
    WHERE a.backend_type = 'client backend'
      AND a.pid <> ALL ($5::int4[])
      AND a.pid <> pg_catalog.pg_backend_pid()
) AS b
WHERE ($1::float8 IS NULL OR b.duration >= $1)
  AND ($2::text IS NULL OR b.database = $2)
  AND ($3::text IS NULL OR b."user" = $3)
ORDER BY b.duration DESC, b.pid
LIMIT $4::int8
