-- Every client backend of backends.sql (which this text follows), longest running
-- first; $4 limit.
SELECT b.pid, b.database, b."user", b.client, b.duration, b.state, b.query, b.waiting
FROM backends AS b
ORDER BY b.duration DESC, b.pid
LIMIT $4::int8
