-- Background writer and checkpointer counters, PostgreSQL 17 and later: the
-- checkpoint counters moved to pg_stat_checkpointer, and the writes and fsyncs
-- of backends to pg_stat_io; they keep the pg_stat_bgwriter names of older
-- servers. buffers_backend and buffers_backend_fsync are the shared-buffer writes
-- and fsyncs of every process that is neither the checkpointer nor the background
-- writer (as they were before 17). On a standby, 17 counts restartpoints apart
-- (restartpoints_timed, restartpoints_req) where older servers counted them as
-- checkpoints: they are added back, so that checkpoints_timed and checkpoints_req
-- go on meaning what they meant (write and sync times always included both).
-- stats_reset is the latest reset of either view.
SELECT c.num_timed + c.restartpoints_timed AS checkpoints_timed,
       c.num_requested + c.restartpoints_req AS checkpoints_req,
       c.write_time AS checkpoint_write_time,
       c.sync_time AS checkpoint_sync_time,
       c.buffers_written AS buffers_checkpoint,
       b.buffers_clean,
       b.maxwritten_clean,
       io.writes AS buffers_backend,
       io.fsyncs AS buffers_backend_fsync,
       b.buffers_alloc,
       GREATEST(b.stats_reset, c.stats_reset)::text AS stats_reset
FROM pg_catalog.pg_stat_bgwriter AS b
CROSS JOIN pg_catalog.pg_stat_checkpointer AS c
CROSS JOIN (
  SELECT COALESCE(sum(writes), 0)::bigint AS writes,
         COALESCE(sum(fsyncs), 0)::bigint AS fsyncs
  FROM pg_catalog.pg_stat_io
  WHERE object = 'relation'
    AND backend_type NOT IN ('checkpointer', 'background writer')
) AS io;
