-- {target}: nothing (the whole database) or a quoted schema.table.
ANALYZE {target}
