//! NotificationLog: the audit trail of the agent (logins, logouts, failed logins and
//! every change the agent makes), newest first. It owns its SQLite connection and runs
//! on its own thread (a SyncArbiter), so that a slow disk never stalls an async
//! worker. A notification is on disk before `Notify` answers (a refused attempt:
//! in the WAL, see `record_refusal`).
//!
//! Events (`Notify`) are capped to the newest `max_rows`. Refused attempts
//! (`NotifyRefusal`: failed logins, wrong agent keys, writes refused to a read-only
//! user) are what a client can make at will, so they must never flush the events:
//! one row per kind, client address (IPv6 by /64) and minute counts the attempts of
//! that minute, and those rows have their own cap, `max_refusals`. The count lives in
//! the row, so nothing in memory grows with the addresses, and it survives a restart.

use std::net::IpAddr;

use actix::prelude::*;
use chrono::{Local, NaiveDateTime};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::error::Error;
use crate::session_registry::guard_key;
use crate::store::Store;

/// The timestamp format of the spec's examples: local time, seconds, no offset.
const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";
/// The minute a refused attempt is counted in.
const MINUTE_FORMAT: &str = "%Y-%m-%dT%H:%M";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub date: String,
    pub username: String,
    pub message: String,
}

/// The caps of the two kinds of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Events kept.
    pub max_rows: usize,
    /// Rows of refused attempts kept (each counts one client's attempts of a minute).
    pub max_refusals: usize,
}

pub struct NotificationLog {
    conn: Connection,
    caps: Caps,
}

impl NotificationLog {
    pub fn open(store: &Store, caps: Caps) -> Result<NotificationLog, Error> {
        Ok(NotificationLog {
            conn: store.open()?,
            caps: Caps {
                max_rows: caps.max_rows.max(1),
                max_refusals: caps.max_refusals.max(1),
            },
        })
    }

    /// Starts the log on its own thread. The connection is opened there, since a
    /// SQLite connection stays with the thread that uses it.
    pub fn start(store: Store, caps: Caps, log: slog::Logger) -> Addr<NotificationLog> {
        SyncArbiter::start(1, move || match NotificationLog::open(&store, caps) {
            Ok(actor) => actor,
            Err(err) => {
                // Store::init succeeded at start-up, so this is a disk failure
                // happening right now: nothing sane is left to do.
                slog::crit!(log, "cannot open the notification log"; "error" => %err);
                std::process::exit(1);
            }
        })
    }

    fn record(&mut self, username: &str, message: &str, at: NaiveDateTime) -> Result<(), Error> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            include_str!("../sql/notification_insert.sql"),
            (at.format(DATE_FORMAT).to_string(), username, message),
        )?;
        tx.execute(
            include_str!("../sql/notification_trim.sql"),
            [self.caps.max_rows as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Counts a refused attempt in its client's row of this minute, or starts that
    /// row (trimming the oldest refusal rows, never an event).
    ///
    /// Written without waiting for the disk (synchronous=NORMAL: WAL written, not
    /// flushed): the row survives a `kill -9` of the agent, a power cut may lose the
    /// last counts, and a client cannot make the agent flush the disk at will.
    fn record_refusal(&mut self, refusal: &NotifyRefusal, at: NaiveDateTime) -> Result<(), Error> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let written = self.write_refusal(refusal, at);
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        written
    }

    fn write_refusal(&mut self, refusal: &NotifyRefusal, at: NaiveDateTime) -> Result<(), Error> {
        let group = refusal.group();
        let minute = at.format(MINUTE_FORMAT).to_string();
        // IMMEDIATE: the write lock is taken (waiting busy_timeout for it) before the
        // read, so another connection's commit cannot void this transaction at its
        // first write (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry).
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row: Option<i64> = tx
            .query_row(
                include_str!("../sql/notification_refusal_find.sql"),
                (&group, &minute),
                |r| r.get(0),
            )
            .optional()?;
        match row {
            Some(id) => {
                tx.execute(include_str!("../sql/notification_refusal_count.sql"), [id])?;
            }
            None => {
                tx.execute(
                    include_str!("../sql/notification_refusal_insert.sql"),
                    (
                        at.format(DATE_FORMAT).to_string(),
                        &refusal.username,
                        refusal.message(),
                        &group,
                        &minute,
                    ),
                )?;
                tx.execute(
                    include_str!("../sql/notification_refusal_trim.sql"),
                    [self.caps.max_refusals as i64],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn list(&self, limit: usize) -> Result<Vec<Notification>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(include_str!("../sql/notification_list.sql"))?;
        let rows = stmt.query_map([limit as i64], |row| {
            let message: String = row.get(2)?;
            let attempts: i64 = row.get(3)?;
            Ok(Notification {
                date: row.get(0)?,
                username: row.get(1)?,
                message: with_attempts(message, attempts),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// The message the web UI shows: a lone attempt reads as it always did.
fn with_attempts(message: String, attempts: i64) -> String {
    if attempts > 1 {
        format!("{message} ({attempts} attempts this minute)")
    } else {
        message
    }
}

impl Actor for NotificationLog {
    type Context = SyncContext<Self>;
}

/// Record one notification; answers once it is on disk.
#[derive(Message)]
#[rtype(result = "Result<(), Error>")]
pub struct Notify {
    pub username: String,
    pub message: String,
}

impl Notify {
    pub fn new(username: impl Into<String>, message: impl Into<String>) -> Notify {
        Notify {
            username: username.into(),
            message: message.into(),
        }
    }
}

impl Handler<Notify> for NotificationLog {
    type Result = Result<(), Error>;

    fn handle(&mut self, msg: Notify, _: &mut Self::Context) -> Self::Result {
        self.record(&msg.username, &msg.message, Local::now().naive_local())
    }
}

/// What was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A wrong user name or password at /login.
    FailedLogin,
    /// A wrong agent key.
    WrongKey,
    /// A write by a read-only user: `what` is the method and path.
    ReadOnly { what: String },
}

/// Record one refused attempt: counted in its client's row of the minute; answers
/// once it is on disk.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), Error>")]
pub struct NotifyRefusal {
    pub refusal: Refusal,
    /// The user name presented (failed login) or authenticated (read-only).
    pub username: String,
    pub client: IpAddr,
}

impl NotifyRefusal {
    pub fn failed_login(username: impl Into<String>, client: IpAddr) -> NotifyRefusal {
        NotifyRefusal {
            refusal: Refusal::FailedLogin,
            username: username.into(),
            client,
        }
    }

    /// Written under the name `key`, as the changes made with the agent key.
    pub fn wrong_key(client: IpAddr) -> NotifyRefusal {
        NotifyRefusal {
            refusal: Refusal::WrongKey,
            username: "key".to_string(),
            client,
        }
    }

    pub fn read_only(
        username: impl Into<String>,
        what: impl Into<String>,
        client: IpAddr,
    ) -> NotifyRefusal {
        NotifyRefusal {
            refusal: Refusal::ReadOnly { what: what.into() },
            username: username.into(),
            client,
        }
    }

    /// The message of the first attempt of a row.
    fn message(&self) -> String {
        match &self.refusal {
            Refusal::FailedLogin => format!("Failed login from {}", self.client),
            Refusal::WrongKey => format!("Wrong agent key from {}", self.client),
            Refusal::ReadOnly { what } => format!("Refused {what}: read-only user"),
        }
    }

    /// What the attempts of a minute are counted by: the kind and the client as the
    /// login guard counts it, plus, for a read-only user, the user (authenticated,
    /// so bounded by the users file; a failed login's user name is the client's
    /// choice and is not part of it).
    fn group(&self) -> String {
        let client = guard_key(self.client);
        match &self.refusal {
            Refusal::FailedLogin => format!("failed-login {client}"),
            Refusal::WrongKey => format!("wrong-key {client}"),
            Refusal::ReadOnly { .. } => format!("read-only {client} {}", self.username),
        }
    }
}

impl Handler<NotifyRefusal> for NotificationLog {
    type Result = Result<(), Error>;

    fn handle(&mut self, msg: NotifyRefusal, _: &mut Self::Context) -> Self::Result {
        self.record_refusal(&msg, Local::now().naive_local())
    }
}

/// The notifications, newest first.
#[derive(Message)]
#[rtype(result = "Result<Vec<Notification>, Error>")]
pub struct ListNotifications;

impl Handler<ListNotifications> for NotificationLog {
    type Result = Result<Vec<Notification>, Error>;

    fn handle(&mut self, _: ListNotifications, _: &mut Self::Context) -> Self::Result {
        self.list(self.caps.max_rows + self.caps.max_refusals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, DATE_FORMAT).unwrap()
    }

    fn caps(max_rows: usize, max_refusals: usize) -> Caps {
        Caps {
            max_rows,
            max_refusals,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn messages(log: &NotificationLog) -> Vec<String> {
        log.list(1000)
            .unwrap()
            .into_iter()
            .map(|n| n.message)
            .collect()
    }

    #[test]
    fn newest_first_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let mut log = NotificationLog::open(&store, caps(3, 3)).unwrap();
        for i in 0..5 {
            log.record(
                "alice",
                &format!("m{i}"),
                at(&format!("2026-01-01T00:00:0{i}")),
            )
            .unwrap();
        }
        let rows = log.list(100).unwrap();
        let messages: Vec<_> = rows.iter().map(|n| n.message.as_str()).collect();
        assert_eq!(messages, ["m4", "m3", "m2"]);
        assert_eq!(rows[0].date, "2026-01-01T00:00:04");
    }

    #[test]
    fn survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        NotificationLog::open(&store, caps(10, 10))
            .unwrap()
            .record("bob", "Login", at("2026-01-01T00:00:00"))
            .unwrap();
        let rows = NotificationLog::open(&store, caps(10, 10))
            .unwrap()
            .list(10)
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].username, "bob");
    }

    #[test]
    fn refusals_are_counted_per_client_and_minute() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let mut log = NotificationLog::open(&store, caps(10, 10)).unwrap();
        for second in 0..5 {
            let when = at(&format!("2026-01-01T10:00:{second:02}"));
            log.record_refusal(
                &NotifyRefusal::failed_login("mallory", ip("192.0.2.1")),
                when,
            )
            .unwrap();
        }
        // Another address, another kind, the next minute: rows of their own.
        let next = at("2026-01-01T10:01:00");
        let refusals = [
            NotifyRefusal::failed_login("eve", ip("192.0.2.2")),
            NotifyRefusal::wrong_key(ip("192.0.2.1")),
            NotifyRefusal::failed_login("mallory", ip("192.0.2.1")),
        ];
        for refusal in &refusals {
            log.record_refusal(refusal, next).unwrap();
        }
        log.record_refusal(&refusals[2], next).unwrap();
        let rows = log.list(100).unwrap();
        let shown: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|n| (n.date.as_str(), n.username.as_str(), n.message.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "2026-01-01T10:01:00",
                    "mallory",
                    "Failed login from 192.0.2.1 (2 attempts this minute)"
                ),
                (
                    "2026-01-01T10:01:00",
                    "key",
                    "Wrong agent key from 192.0.2.1"
                ),
                ("2026-01-01T10:01:00", "eve", "Failed login from 192.0.2.2"),
                (
                    "2026-01-01T10:00:00",
                    "mallory",
                    "Failed login from 192.0.2.1 (5 attempts this minute)"
                ),
            ]
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_64_and_read_only_users_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let mut log = NotificationLog::open(&store, caps(10, 10)).unwrap();
        let when = at("2026-01-01T10:00:00");
        for client in ["2001:db8::1", "2001:db8::ffff:2", "2001:db8:0:0:1::3"] {
            log.record_refusal(&NotifyRefusal::failed_login("x", ip(client)), when)
                .unwrap();
        }
        log.record_refusal(
            &NotifyRefusal::failed_login("x", ip("2001:db8:0:1::1")),
            when,
        )
        .unwrap();
        for user in ["reader", "reader", "auditor"] {
            let refusal = NotifyRefusal::read_only(user, "POST /activity/kill", ip("::1"));
            log.record_refusal(&refusal, when).unwrap();
        }
        assert_eq!(
            messages(&log),
            [
                "Refused POST /activity/kill: read-only user",
                "Refused POST /activity/kill: read-only user (2 attempts this minute)",
                "Failed login from 2001:db8:0:1::1",
                "Failed login from 2001:db8::1 (3 attempts this minute)",
            ]
        );
    }

    #[test]
    fn refusals_never_push_out_events_and_keep_their_own_cap() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let mut log = NotificationLog::open(&store, caps(3, 2)).unwrap();
        for i in 0..4 {
            log.record("alice", &format!("event {i}"), at("2026-01-01T09:00:00"))
                .unwrap();
        }
        // 100 minutes of attempts from 2 addresses: 200 rows made, 2 kept.
        for minute in 0..100 {
            let when = at("2026-01-01T10:00:00") + chrono::Duration::minutes(minute);
            for client in ["192.0.2.1", "192.0.2.2"] {
                log.record_refusal(&NotifyRefusal::failed_login("m", ip(client)), when)
                    .unwrap();
            }
        }
        assert_eq!(
            messages(&log),
            [
                "Failed login from 192.0.2.2",
                "Failed login from 192.0.2.1",
                "event 3",
                "event 2",
                "event 1",
            ]
        );
        // Events go on being trimmed at their own cap, whatever the refusals.
        log.record("alice", "event 4", at("2026-01-01T12:00:00"))
            .unwrap();
        assert_eq!(
            messages(&log),
            [
                "event 4",
                "Failed login from 192.0.2.2",
                "Failed login from 192.0.2.1",
                "event 3",
                "event 2",
            ]
        );
    }

    #[test]
    fn a_count_goes_on_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let refusal = NotifyRefusal::wrong_key(ip("127.0.0.1"));
        let when = at("2026-01-01T10:00:00");
        for _ in 0..2 {
            let mut log = NotificationLog::open(&store, caps(10, 10)).unwrap();
            log.record_refusal(&refusal, when).unwrap();
        }
        let log = NotificationLog::open(&store, caps(10, 10)).unwrap();
        assert_eq!(
            messages(&log),
            ["Wrong agent key from 127.0.0.1 (2 attempts this minute)"]
        );
    }
}
