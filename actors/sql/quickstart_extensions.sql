-- Quick start: the extensions the statements plugin reads (the quick start
-- cluster preloads pg_stat_statements).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
