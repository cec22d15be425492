-- Asks PostgreSQL to parse and check a value (type, range, check hook) without
-- keeping it: run inside a transaction that is rolled back. Only settings a session
-- may change (contexts user and superuser) can be checked this way.
SELECT set_config($1, $2, true)
