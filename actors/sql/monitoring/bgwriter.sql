-- Background writer and checkpointer counters (the registry reports the change
-- since the previous run; stats_reset tells when they were last reset).
SELECT checkpoints_timed,
       checkpoints_req,
       checkpoint_write_time,
       checkpoint_sync_time,
       buffers_checkpoint,
       buffers_clean,
       maxwritten_clean,
       buffers_backend,
       buffers_backend_fsync,
       buffers_alloc,
       stats_reset::text AS stats_reset
FROM pg_catalog.pg_stat_bgwriter;
