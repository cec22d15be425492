-- {options}: nothing or a list of FULL, FREEZE, ANALYZE made by the agent;
-- {target}: nothing (the whole database) or a quoted schema.table.
VACUUM {options} {target}
