-- Asks PostgreSQL to parse and check a value (type, range, check hook) without
-- keeping it: is_local lasts until the end of the transaction, and this statement
-- runs alone in its implicit transaction. Only settings a session may change
-- (contexts user and superuser) can be checked this way.
SELECT set_config($1, $2, true)
