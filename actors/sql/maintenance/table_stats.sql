-- Activity statistics of one table (pg_stat_all_tables, so that catalog tables
-- answer too). Timestamps as ISO 8601 text with the offset. $1: the table oid.
SELECT relid::text AS relid,
       schemaname,
       relname,
       seq_scan,
       seq_tup_read,
       idx_scan,
       idx_tup_fetch,
       n_tup_ins,
       n_tup_upd,
       n_tup_del,
       n_tup_hot_upd,
       n_live_tup,
       n_dead_tup,
       n_mod_since_analyze,
       pg_catalog.to_json(last_vacuum) #>> '{}' AS last_vacuum,
       pg_catalog.to_json(last_autovacuum) #>> '{}' AS last_autovacuum,
       pg_catalog.to_json(last_analyze) #>> '{}' AS last_analyze,
       pg_catalog.to_json(last_autoanalyze) #>> '{}' AS last_autoanalyze,
       vacuum_count,
       autovacuum_count,
       analyze_count,
       autoanalyze_count
FROM pg_catalog.pg_stat_all_tables
WHERE relid = $1::bigint::oid
