-- pg_stat_statements 1.11 and later (PostgreSQL 17+): *_exec_time columns, and the
-- I/O times split into shared and local blocks. The spec's blk_read_time and
-- blk_write_time are their sums (what blk_*_time counted before the split).
-- $1: showtext (false: the query text file is not read), $2: text length cap.
SELECT userid, dbid, queryid, left(query, $2::int4) AS query,
       calls, total_exec_time AS total_time, min_exec_time AS min_time,
       max_exec_time AS max_time, mean_exec_time AS mean_time,
       stddev_exec_time AS stddev_time, rows,
       shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written,
       local_blks_hit, local_blks_read, local_blks_dirtied, local_blks_written,
       temp_blks_read, temp_blks_written,
       shared_blk_read_time + local_blk_read_time AS blk_read_time,
       shared_blk_write_time + local_blk_write_time AS blk_write_time,
       shared_blk_read_time, shared_blk_write_time,
       local_blk_read_time, local_blk_write_time
FROM /*schema*/.pg_stat_statements($1::boolean)
