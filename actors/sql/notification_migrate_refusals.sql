-- Layout 1 -> 2 of the notification log: refused attempts (failed logins, refused
-- writes) get their own rows, counted per client and minute, under their own cap.
-- `refusal_group` is NULL for an event; for a refused attempt it names the kind
-- and the client (`failed-login 192.0.2.1`), `refusal_minute` its minute
-- (`2026-01-01T10:00`) and `attempts` how many came in that minute.
ALTER TABLE notifications ADD COLUMN refusal_group TEXT;
ALTER TABLE notifications ADD COLUMN refusal_minute TEXT;
ALTER TABLE notifications ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
-- The rows that layout 1 wrote for refused attempts, one per attempt, move under
-- the refusals' cap, so that they stop counting against the events'.
UPDATE notifications
   SET refusal_group = 'before-migration', refusal_minute = substr(date, 1, 16)
 WHERE message GLOB 'Failed login from *'
    OR message GLOB 'Refused *: read-only user';
CREATE INDEX notifications_refusal
    ON notifications (refusal_group, refusal_minute) WHERE refusal_group IS NOT NULL;
