-- One snapshot of pg_stat_statements, one row per (user, database, query).
--
-- Assembled by actors/src/statements/columns.rs from SQL files only: the source
-- mark below is replaced by the source_*.sql file of the installed extension
-- version, the two order marks by one of the order_*.sql files or nothing.
--
-- $1 showtext (boolean), $2 text length cap (int4), $3 how many rows the agent
-- answers (int8, NULL: all), $4..$8 the counters of an earlier snapshot (empty
-- arrays: none): userid oid[], dbid oid[], queryid int8[], calls int8[],
-- total_time float8[].
--
-- Every row is returned, since the agent keeps every entry's counters for a later
-- `since`; only the first $3 rows in the requested order carry their text, so that
-- the text of rows the agent does not answer never leaves the server. The order is
-- on the difference since the earlier snapshot (the cumulative counters when there
-- is none), entries that did not run in between last.
WITH source AS (
/*source*/
),
-- pg_stat_statements 1.9+ keeps top-level and nested executions of a statement
-- apart (pg_stat_statements.track = all): merged here, with the pooled (population)
-- standard deviation, so that there is one row per (user, database, query).
cur AS (
    SELECT userid, dbid, queryid, min(query) AS query,
           sum(calls)::int8 AS calls,
           sum(total_time) AS total_time,
           min(min_time) AS min_time,
           max(max_time) AS max_time,
           CASE WHEN count(*) = 1 THEN max(mean_time)
                ELSE coalesce(sum(total_time) / nullif(sum(calls), 0), 0)
           END AS mean_time,
           CASE WHEN count(*) = 1 THEN max(stddev_time)
                ELSE coalesce(sqrt(greatest(0,
                    sum(calls * (stddev_time ^ 2 + mean_time ^ 2)) / nullif(sum(calls), 0)
                    - (sum(total_time) / nullif(sum(calls), 0)) ^ 2)), 0)
           END AS stddev_time,
           sum(rows)::int8 AS rows,
           sum(shared_blks_hit)::int8 AS shared_blks_hit,
           sum(shared_blks_read)::int8 AS shared_blks_read,
           sum(shared_blks_dirtied)::int8 AS shared_blks_dirtied,
           sum(shared_blks_written)::int8 AS shared_blks_written,
           sum(local_blks_hit)::int8 AS local_blks_hit,
           sum(local_blks_read)::int8 AS local_blks_read,
           sum(local_blks_dirtied)::int8 AS local_blks_dirtied,
           sum(local_blks_written)::int8 AS local_blks_written,
           sum(temp_blks_read)::int8 AS temp_blks_read,
           sum(temp_blks_written)::int8 AS temp_blks_written,
           sum(blk_read_time) AS blk_read_time,
           sum(blk_write_time) AS blk_write_time,
           sum(shared_blk_read_time) AS shared_blk_read_time,
           sum(shared_blk_write_time) AS shared_blk_write_time,
           sum(local_blk_read_time) AS local_blk_read_time,
           sum(local_blk_write_time) AS local_blk_write_time
    FROM source
    GROUP BY userid, dbid, queryid
),
prev AS (
    SELECT *
    FROM unnest($4::oid[], $5::oid[], $6::int8[], $7::int8[], $8::float8[])
         AS p(userid, dbid, queryid, calls, total_time)
),
-- An entry with fewer calls than before was evicted and created again (or reset):
-- all its counters are new. Entries of a role or database dropped since they ran
-- stay in pg_stat_statements: the inner joins leave them out, as 7.x does, so that
-- rolname and datname are always names.
delta AS (
    SELECT c.*, r.rolname, d.datname,
           CASE WHEN p.calls IS NULL OR c.calls < p.calls THEN c.calls
                ELSE c.calls - p.calls END AS d_calls,
           CASE WHEN p.calls IS NULL OR c.calls < p.calls THEN c.total_time
                ELSE c.total_time - p.total_time END AS d_total_time
    FROM cur AS c
    LEFT JOIN prev AS p
           ON p.userid = c.userid AND p.dbid = c.dbid
          AND coalesce(p.queryid, 0) = coalesce(c.queryid, 0)
    JOIN pg_roles AS r ON r.oid = c.userid
    JOIN pg_database AS d ON d.oid = c.dbid
),
ranked AS (
    SELECT delta.*, row_number() OVER (/*order*/) AS rank
    FROM delta
)
SELECT rolname, datname, userid, dbid, queryid,
       CASE WHEN $3::int8 IS NULL OR rank <= $3::int8 THEN query END AS query,
       calls, total_time, min_time, max_time, mean_time, stddev_time, rows,
       shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written,
       local_blks_hit, local_blks_read, local_blks_dirtied, local_blks_written,
       temp_blks_read, temp_blks_written, blk_read_time, blk_write_time,
       shared_blk_read_time, shared_blk_write_time,
       local_blk_read_time, local_blk_write_time
FROM ranked
/*order*/
