-- {target}: a quoted schema.index.
REINDEX INDEX {target}
