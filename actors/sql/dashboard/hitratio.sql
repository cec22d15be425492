-- Global cache hit ratio over all databases, integer-truncated percent; NULL while no
-- block was accessed yet.
SELECT CASE sum(blks_hit + blks_read)
         WHEN 0 THEN NULL
         ELSE trunc(sum(blks_hit) / sum(blks_hit + blks_read) * 100)::float8
       END AS hitratio
  FROM pg_stat_database
