-- The heap bloat estimate of every table and materialized view of the database,
-- one row each, from the planner statistics only (no scan): the pages the live
-- rows would need at the table's fillfactor, from pg_stats widths and null
-- fractions, against the pages the table has (heap and TOAST). Adapted from
-- ioguide's pgsql-bloat-estimation (table_bloat.sql). A table without statistics
-- (never analyzed, or a column without a pg_stats row) or with a `name` column
-- (whose width the statistics get wrong) is flagged `is_na`: its estimate is not
-- trusted. Shared by maintenance/table_bloat.sql (per table) and
-- monitoring/heap_bloat.sql (per database), which follow it: they filter
-- `estimate` on `oid` or `relpersistence`, and PostgreSQL pushes that filter
-- down to pg_class, so only the tables asked for are estimated.
WITH estimate AS (
  SELECT oid, relpersistence, is_na,
         tblpages * bs AS table_bytes,
         GREATEST(tblpages - est_tblpages_ff, 0) * bs AS bloat_bytes
  FROM (
    SELECT ceil(reltuples / ((bs - page_hdr) * fillfactor / (tpl_size * 100)))
             + ceil(toasttuples / 4) AS est_tblpages_ff,
           tblpages, bs, oid, relpersistence, is_na
    FROM (
      SELECT (4 + tpl_hdr_size + tpl_data_size + (2 * ma)
                - CASE WHEN tpl_hdr_size % ma = 0 THEN ma ELSE tpl_hdr_size % ma END
                - CASE WHEN ceil(tpl_data_size)::int % ma = 0 THEN ma
                       ELSE ceil(tpl_data_size)::int % ma END
             ) AS tpl_size,
             (heappages + toastpages) AS tblpages,
             reltuples, toasttuples, bs, page_hdr, oid, relpersistence, fillfactor, is_na
      FROM (
        SELECT tbl.oid, tbl.relpersistence,
               GREATEST(tbl.reltuples, 0) AS reltuples,
               tbl.relpages AS heappages,
               COALESCE(toast.relpages, 0) AS toastpages,
               GREATEST(COALESCE(toast.reltuples, 0), 0) AS toasttuples,
               COALESCE(substring(pg_catalog.array_to_string(tbl.reloptions, ' ')
                                  FROM 'fillfactor=([0-9]+)')::smallint, 100) AS fillfactor,
               pg_catalog.current_setting('block_size')::numeric AS bs,
               CASE WHEN pg_catalog.version() ~ 'mingw32|64-bit|x86_64|ppc64|ia64|amd64|aarch64'
                    THEN 8 ELSE 4 END AS ma,
               24 AS page_hdr,
               23 + CASE WHEN max(COALESCE(s.null_frac, 0)) > 0
                         THEN (7 + count(s.attname)) / 8
                         ELSE 0::int END AS tpl_hdr_size,
               sum((1 - COALESCE(s.null_frac, 0)) * COALESCE(s.avg_width, 0)) AS tpl_data_size,
               bool_or(att.atttypid = 'pg_catalog.name'::regtype)
                 OR count(att.attname) <> count(s.attname)
                 OR tbl.reltuples < 0 AS is_na
        FROM pg_catalog.pg_class AS tbl
        JOIN pg_catalog.pg_namespace AS ns ON ns.oid = tbl.relnamespace
        JOIN pg_catalog.pg_attribute AS att ON att.attrelid = tbl.oid
        LEFT JOIN pg_catalog.pg_stats AS s
               ON s.schemaname = ns.nspname
              AND s.tablename = tbl.relname
              AND s.inherited = false
              AND s.attname = att.attname
        LEFT JOIN pg_catalog.pg_class AS toast ON toast.oid = tbl.reltoastrelid
        WHERE NOT att.attisdropped
          AND att.attnum > 0
          AND tbl.relkind IN ('r', 'm')
        GROUP BY tbl.oid, tbl.relpersistence, tbl.reltuples, tbl.relpages, toast.relpages,
                 toast.reltuples, tbl.reloptions
      ) AS s
    ) AS s2
  ) AS s3
)
