-- The locks of the instance, for waiting.sql and blocking.sql (after backends.sql).
-- The relation is named here when it belongs to the database this query runs in
-- (or is a shared catalog); otherwise its database and oid are answered for the
-- agent to name it there.
, locks AS (
    SELECT l.pid, l.granted, l.locktype, l.mode,
           l.database, l.relation, l.page, l.tuple, l.virtualxid,
           l.transactionid, l.classid, l.objid, l.objsubid,
           l.relation AS relation_oid,
           d.datname::text AS relation_database,
           CASE WHEN c.oid IS NOT NULL
                THEN pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
           END AS relation_name
    FROM pg_catalog.pg_locks AS l
    LEFT JOIN pg_catalog.pg_database AS d ON d.oid = l.database
    LEFT JOIN pg_catalog.pg_class AS c
           ON c.oid = l.relation
          AND (l.database = 0 OR d.datname = pg_catalog.current_database())
    LEFT JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
)
