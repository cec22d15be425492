-- {target}: a quoted schema.table.
REINDEX TABLE {target}
