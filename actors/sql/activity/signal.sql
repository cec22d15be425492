-- Terminates backend $1 (int4) when $3 (bool) is true, else cancels its running
-- query, if, and only if, it is a client backend of this instance other than the
-- agent's own connections (pids $2, int4[]): the check and the signal are one
-- statement, so that no other process (postmaster, background worker, a pid of
-- another program) is ever signalled. false when nothing was signalled.
SELECT COALESCE((
    SELECT CASE WHEN $3::bool
                THEN pg_catalog.pg_terminate_backend(a.pid)
                ELSE pg_catalog.pg_cancel_backend(a.pid)
           END
    FROM pg_catalog.pg_stat_activity AS a
    WHERE a.pid = $1::int4
      AND a.backend_type = 'client backend'
      AND a.pid <> ALL ($2::int4[])
), false) AS signalled
