-- {target}: the quoted name of the database the connection is in.
REINDEX DATABASE {target}
