ORDER BY d_calls > 0 DESC, d_total_time / nullif(d_calls, 0) DESC NULLS LAST
