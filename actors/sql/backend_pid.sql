-- The pid of the server process of this connection: the agent's own backends are
-- recognised by it (an application_name is set by any client at will).
SELECT pg_catalog.pg_backend_pid() AS pid
