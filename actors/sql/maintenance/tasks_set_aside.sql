-- Moves an unreadable or unknown maintenance_tasks table out of the way, keeping
-- its rows for a human to look at. {name} is made by the agent (a fixed prefix and
-- a timestamp), never taken from a request.
ALTER TABLE maintenance_tasks RENAME TO {name}
