-- Cancels the running query of backend $1 (int4) if, and only if, it is a client
-- backend of this instance other than the agent's own connections (pids $2,
-- int4[]; see terminate.sql). false when nothing was signalled.
SELECT COALESCE((
    SELECT pg_catalog.pg_cancel_backend(a.pid)
    FROM pg_catalog.pg_stat_activity AS a
    WHERE a.pid = $1::int4
      AND a.backend_type = 'client backend'
      AND a.pid <> ALL ($2::int4[])
), false) AS signalled
