-- Client backends holding a lock that another backend waits for, longest running
-- first, one row per such lock (after backends.sql and locks.sql): a granted lock on
-- the very object a backend waits for, held by one of the pids that
-- pg_blocking_pids() names for that waiter (so that a holder of a compatible lock
-- is not listed); $4 limit.
, waiting AS (
    SELECT w.locktype, w.database, w.relation, w.page, w.tuple, w.virtualxid,
           w.transactionid, w.classid, w.objid, w.objsubid,
           pg_catalog.pg_blocking_pids(w.pid) AS blockers
    FROM pg_catalog.pg_locks AS w
    WHERE NOT w.granted
)
SELECT DISTINCT b.pid, b.database, b."user", b.duration, b.state, b.query,
       l.locktype, l.mode, l.relation_oid, l.relation_database, l.relation_name
FROM locks AS l
JOIN waiting AS w
  ON ROW(l.locktype, l.database, l.relation, l.page, l.tuple, l.virtualxid,
         l.transactionid, l.classid, l.objid, l.objsubid)
     IS NOT DISTINCT FROM
     ROW(w.locktype, w.database, w.relation, w.page, w.tuple, w.virtualxid,
         w.transactionid, w.classid, w.objid, w.objsubid)
 AND l.pid = ANY (w.blockers)
JOIN backends AS b ON b.pid = l.pid
WHERE l.granted
ORDER BY b.duration DESC, b.pid
LIMIT $4::int8
