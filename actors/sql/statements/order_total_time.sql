ORDER BY d_calls > 0 DESC, d_total_time DESC
