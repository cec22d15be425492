-- pg_stat_statements 1.3 to 1.7 (PostgreSQL 9.5 to 12): the spec's column names.
-- $1: showtext (false: the query text file is not read at all), $2: text length cap.
SELECT userid, dbid, queryid, left(query, $2::int4) AS query,
       calls, total_time, min_time, max_time, mean_time, stddev_time, rows,
       shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written,
       local_blks_hit, local_blks_read, local_blks_dirtied, local_blks_written,
       temp_blks_read, temp_blks_written,
       blk_read_time, blk_write_time,
       0::float8 AS shared_blk_read_time, 0::float8 AS shared_blk_write_time,
       0::float8 AS local_blk_read_time, 0::float8 AS local_blk_write_time
FROM /*schema*/.pg_stat_statements($1::boolean)
