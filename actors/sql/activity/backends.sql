-- The client backends a listing may show, filtered by the request; activity.sql,
-- waiting.sql and blocking.sql follow this text (queries.rs composes them), so
-- that each listing sees the same backends with the same filters: neither the
-- agent's own connections (their pids, $5 int4[]: an application_name is any
-- client's to set) nor background processes; $1 min_duration (seconds) or NULL,
-- $2 database or NULL, $3 user or NULL.
-- duration: seconds since the current or last query started (since the connection
-- for a backend that never ran one), never negative.
WITH backends AS (
    SELECT *
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
)
