-- Quick start (the binary's own statement, not an actor's): the extensions the
-- statements plugin reads (the quick start cluster preloads pg_stat_statements).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
