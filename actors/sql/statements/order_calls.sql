ORDER BY d_calls DESC, d_total_time DESC
