-- Heavyweight locks per database and mode, for every database that accepts
-- connections (zeros included): `<mode>` counts the locks granted, `waiting_<mode>`
-- the requests waiting for one. A lock belongs to the database of the object it
-- locks (pg_locks.database): transaction-id and virtual-transaction-id locks, and
-- locks on shared catalogs, belong to no database and are not counted.
-- SIReadLock (serializable predicate locks) is never waited for.
SELECT d.datname AS dbname,
       count(l.mode) FILTER (WHERE l.mode = 'AccessShareLock' AND l.granted)::int AS access_share,
       count(l.mode) FILTER (WHERE l.mode = 'AccessShareLock' AND NOT l.granted)::int AS waiting_access_share,
       count(l.mode) FILTER (WHERE l.mode = 'RowShareLock' AND l.granted)::int AS row_share,
       count(l.mode) FILTER (WHERE l.mode = 'RowShareLock' AND NOT l.granted)::int AS waiting_row_share,
       count(l.mode) FILTER (WHERE l.mode = 'RowExclusiveLock' AND l.granted)::int AS row_exclusive,
       count(l.mode) FILTER (WHERE l.mode = 'RowExclusiveLock' AND NOT l.granted)::int AS waiting_row_exclusive,
       count(l.mode) FILTER (WHERE l.mode = 'ShareUpdateExclusiveLock' AND l.granted)::int AS share_update_exclusive,
       count(l.mode) FILTER (WHERE l.mode = 'ShareUpdateExclusiveLock' AND NOT l.granted)::int AS waiting_share_update_exclusive,
       count(l.mode) FILTER (WHERE l.mode = 'ShareLock' AND l.granted)::int AS share,
       count(l.mode) FILTER (WHERE l.mode = 'ShareLock' AND NOT l.granted)::int AS waiting_share,
       count(l.mode) FILTER (WHERE l.mode = 'ShareRowExclusiveLock' AND l.granted)::int AS share_row_exclusive,
       count(l.mode) FILTER (WHERE l.mode = 'ShareRowExclusiveLock' AND NOT l.granted)::int AS waiting_share_row_exclusive,
       count(l.mode) FILTER (WHERE l.mode = 'ExclusiveLock' AND l.granted)::int AS exclusive,
       count(l.mode) FILTER (WHERE l.mode = 'ExclusiveLock' AND NOT l.granted)::int AS waiting_exclusive,
       count(l.mode) FILTER (WHERE l.mode = 'AccessExclusiveLock' AND l.granted)::int AS access_exclusive,
       count(l.mode) FILTER (WHERE l.mode = 'AccessExclusiveLock' AND NOT l.granted)::int AS waiting_access_exclusive,
       count(l.mode) FILTER (WHERE l.mode = 'SIReadLock')::int AS siread
FROM pg_catalog.pg_database AS d
LEFT JOIN pg_catalog.pg_locks AS l ON l.database = d.oid
WHERE d.datallowconn
GROUP BY d.datname
ORDER BY d.datname;
