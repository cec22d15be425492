-- Backends per database by state, for every database that accepts connections
-- (zeros included). `waiting`: backends waiting for a heavyweight lock
-- (wait_event_type 'Lock'), whatever their state. `no_priv`: backends whose state
-- the agent's role may not see (NULL state). The probe's own backend is not
-- counted: it is the measurement, not the workload.
SELECT d.datname AS dbname,
       count(a.pid) FILTER (WHERE a.state = 'active')::int AS active,
       count(a.pid) FILTER (WHERE a.wait_event_type = 'Lock')::int AS waiting,
       count(a.pid) FILTER (WHERE a.state = 'idle')::int AS idle,
       count(a.pid) FILTER (WHERE a.state = 'idle in transaction')::int AS idle_in_xact,
       count(a.pid) FILTER (WHERE a.state = 'idle in transaction (aborted)')::int
         AS idle_in_xact_aborted,
       count(a.pid) FILTER (WHERE a.state = 'fastpath function call')::int AS fastpath,
       count(a.pid) FILTER (WHERE a.state = 'disabled')::int AS disabled,
       count(a.pid) FILTER (WHERE a.state IS NULL)::int AS no_priv
FROM pg_catalog.pg_database AS d
LEFT JOIN pg_catalog.pg_stat_activity AS a
       ON a.datid = d.oid
      AND a.pid <> pg_catalog.pg_backend_pid()
WHERE d.datallowconn
GROUP BY d.datname
ORDER BY d.datname;
