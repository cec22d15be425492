-- pg_stat_statements 1.8 to 1.10 (PostgreSQL 13 to 16): *_exec_time columns, named
-- here as the spec's *_time. Planning time (total_plan_time) is left out, as in the
-- spec. $1: showtext (false: the query text file is not read), $2: text length cap.
SELECT userid, dbid, queryid, left(query, $2::int4) AS query,
       calls, total_exec_time AS total_time, min_exec_time AS min_time,
       max_exec_time AS max_time, mean_exec_time AS mean_time,
       stddev_exec_time AS stddev_time, rows,
       shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written,
       local_blks_hit, local_blks_read, local_blks_dirtied, local_blks_written,
       temp_blks_read, temp_blks_written,
       blk_read_time, blk_write_time,
       0::float8 AS shared_blk_read_time, 0::float8 AS shared_blk_write_time,
       0::float8 AS local_blk_read_time, 0::float8 AS local_blk_write_time
FROM /*schema*/.pg_stat_statements($1::boolean)
