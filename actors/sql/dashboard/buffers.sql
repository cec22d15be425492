-- Buffers allocated since the statistics reset (background writer statistics).
SELECT buffers_alloc FROM pg_stat_bgwriter
