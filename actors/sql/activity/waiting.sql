-- Client backends waiting for a lock (one not granted), longest running first,
-- with the lock they wait for (after backends.sql and locks.sql); $4 limit.
SELECT b.pid, b.database, b."user", b.duration, b.state, b.query,
       l.locktype, l.mode, l.relation_oid, l.relation_database, l.relation_name
FROM locks AS l
JOIN backends AS b ON b.pid = l.pid
WHERE NOT l.granted
ORDER BY b.duration DESC, b.pid
LIMIT $4::int8
