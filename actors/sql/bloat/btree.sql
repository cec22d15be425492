-- The bloat estimate of every btree index of the database, one row each, from
-- the planner statistics only (no scan): the pages the index entries would need
-- at the index's fillfactor against the pages it has. Adapted from ioguide's
-- pgsql-bloat-estimation (btree_bloat.sql). Empty indexes and indexes without
-- statistics on their columns get no row; those on a `name` column (whose width
-- the statistics get wrong) are flagged `is_na`: their estimate is not trusted.
-- Shared by maintenance/index_bloat.sql (per table) and monitoring/btree_bloat.sql
-- (per database), which follow it: they filter `estimate` on `table_oid` or
-- `relpersistence`, and PostgreSQL pushes that filter down to pg_index, so only
-- the indexes asked for are estimated.
WITH estimate AS (
  SELECT idxoid AS oid, tbloid AS table_oid, relpersistence, is_na,
         bs * relpages AS index_bytes,
         CASE WHEN relpages > est_pages_ff THEN bs * (relpages - est_pages_ff) ELSE 0 END
           AS bloat_bytes
  FROM (
    SELECT COALESCE(1 + ceil(reltuples / floor((bs - pageopqdata - pagehdr) * fillfactor
                                               / (100 * (4 + nulldatahdrwidth)::float))), 0)
             AS est_pages_ff,
           bs, relpages, idxoid, tbloid, relpersistence, is_na
    FROM (
      SELECT maxalign, bs, reltuples, relpages, idxoid, tbloid, relpersistence, fillfactor,
             (index_tuple_hdr_bm
                + maxalign - CASE WHEN index_tuple_hdr_bm % maxalign = 0 THEN maxalign
                                  ELSE index_tuple_hdr_bm % maxalign END
                + nulldatawidth + maxalign - CASE WHEN nulldatawidth = 0 THEN 0
                                                 WHEN nulldatawidth::integer % maxalign = 0 THEN maxalign
                                                 ELSE nulldatawidth::integer % maxalign END
             )::numeric AS nulldatahdrwidth,
             pagehdr, pageopqdata, is_na
      FROM (
        SELECT i.reltuples, i.relpages, i.idxoid, i.tbloid, i.relpersistence, i.fillfactor,
               pg_catalog.current_setting('block_size')::numeric AS bs,
               CASE WHEN pg_catalog.version() ~ 'mingw32|64-bit|x86_64|ppc64|ia64|amd64|aarch64'
                    THEN 8 ELSE 4 END AS maxalign,
               24 AS pagehdr,
               16 AS pageopqdata,
               CASE WHEN max(COALESCE(s.null_frac, 0)) = 0
                    THEN 8
                    ELSE 8 + ((32 + 8 - 1) / 8)
               END AS index_tuple_hdr_bm,
               sum((1 - COALESCE(s.null_frac, 0)) * COALESCE(s.avg_width, 1024)) AS nulldatawidth,
               max(CASE WHEN i.atttypid = 'pg_catalog.name'::regtype THEN 1 ELSE 0 END) > 0
                 AS is_na
        FROM (
          SELECT ct.relname AS tblname, ct.relnamespace, ic.idxname, ic.reltuples,
                 ic.relpages, ic.idxoid, ic.tbloid, ic.relpersistence, ic.fillfactor,
                 COALESCE(a1.attname, a2.attname) AS attname,
                 COALESCE(a1.atttypid, a2.atttypid) AS atttypid,
                 CASE WHEN a1.attnum IS NULL THEN ic.idxname ELSE ct.relname END AS attrelname
          FROM (
            SELECT idxname, reltuples, relpages, tbloid, idxoid, relpersistence, fillfactor,
                   indkey, pg_catalog.generate_series(1, indnatts) AS attpos
            FROM (
              SELECT ci.relname AS idxname,
                     GREATEST(ci.reltuples, 0) AS reltuples,
                     ci.relpages,
                     i.indrelid AS tbloid,
                     i.indexrelid AS idxoid,
                     ci.relpersistence,
                     COALESCE(substring(pg_catalog.array_to_string(ci.reloptions, ' ')
                                        FROM 'fillfactor=([0-9]+)')::smallint, 90) AS fillfactor,
                     i.indnatts,
                     pg_catalog.string_to_array(pg_catalog.textin(
                       pg_catalog.int2vectorout(i.indkey)), ' ')::int[] AS indkey
              FROM pg_catalog.pg_index AS i
              JOIN pg_catalog.pg_class AS ci ON ci.oid = i.indexrelid
              JOIN pg_catalog.pg_am AS am ON am.oid = ci.relam
              WHERE am.amname = 'btree'
                AND ci.relpages > 0
            ) AS idx_data
          ) AS ic
          JOIN pg_catalog.pg_class AS ct ON ct.oid = ic.tbloid
          LEFT JOIN pg_catalog.pg_attribute AS a1
                 ON ic.indkey[ic.attpos] <> 0
                AND a1.attrelid = ic.tbloid
                AND a1.attnum = ic.indkey[ic.attpos]
          LEFT JOIN pg_catalog.pg_attribute AS a2
                 ON ic.indkey[ic.attpos] = 0
                AND a2.attrelid = ic.idxoid
                AND a2.attnum = ic.attpos
        ) AS i
        JOIN pg_catalog.pg_namespace AS n ON n.oid = i.relnamespace
        JOIN pg_catalog.pg_stats AS s
          ON s.schemaname = n.nspname
         AND s.tablename = i.attrelname
         AND s.attname = i.attname
        GROUP BY i.reltuples, i.relpages, i.idxoid, i.tbloid, i.relpersistence, i.fillfactor
      ) AS rows_data_stats
    ) AS rows_hdr_pdg_stats
  ) AS relation_stats
)
