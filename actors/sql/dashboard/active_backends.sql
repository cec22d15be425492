-- Backends running something (not idle), this one included, as temBoard counts them.
-- Background processes without a state (NULL) are not counted.
SELECT count(*) AS nb FROM pg_stat_activity WHERE state <> 'idle'
