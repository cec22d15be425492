-- Backends per database by state, for every database that accepts connections
-- (zeros included). As 7.x counts them, `active` and `waiting` split the active
-- backends: `waiting` are those waiting for a heavyweight lock (wait_event_type
-- 'Lock'), `active` the others. `no_priv`: backends the agent's role may not look
-- into (their query reads '<insufficient privilege>'). The probe's own backend is
-- not counted: it is the measurement, not the workload.
SELECT d.datname AS dbname,
       count(a.pid) FILTER (WHERE a.state = 'active'
                              AND a.wait_event_type IS DISTINCT FROM 'Lock')::int AS active,
       count(a.pid) FILTER (WHERE a.state = 'active' AND a.wait_event_type = 'Lock')::int
         AS waiting,
       count(a.pid) FILTER (WHERE a.state = 'idle')::int AS idle,
       count(a.pid) FILTER (WHERE a.state = 'idle in transaction')::int AS idle_in_xact,
       count(a.pid) FILTER (WHERE a.state = 'idle in transaction (aborted)')::int
         AS idle_in_xact_aborted,
       count(a.pid) FILTER (WHERE a.state = 'fastpath function call')::int AS fastpath,
       count(a.pid) FILTER (WHERE a.state = 'disabled')::int AS disabled,
       count(a.pid) FILTER (WHERE a.query = '<insufficient privilege>')::int AS no_priv
FROM pg_catalog.pg_database AS d
LEFT JOIN pg_catalog.pg_stat_activity AS a
       ON a.datid = d.oid
      AND a.pid <> pg_catalog.pg_backend_pid()
WHERE d.datallowconn
GROUP BY d.datname
ORDER BY d.datname;
