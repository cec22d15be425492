//! NotificationLog: the audit trail of the agent (logins, logouts, failed logins and
//! every change the agent makes), newest first. It owns its SQLite connection and runs
//! on its own thread (a SyncArbiter), so that a slow disk never stalls an async
//! worker. A notification is on disk before `Notify` answers, and the log is capped
//! to the newest `max_rows` rows.

use actix::prelude::*;
use chrono::{Local, NaiveDateTime};
use rusqlite::Connection;
use serde::Serialize;

use crate::error::Error;
use crate::store::Store;

/// The timestamp format of the spec's examples: local time, seconds, no offset.
const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub date: String,
    pub username: String,
    pub message: String,
}

pub struct NotificationLog {
    conn: Connection,
    max_rows: usize,
}

impl NotificationLog {
    pub fn open(store: &Store, max_rows: usize) -> Result<NotificationLog, Error> {
        Ok(NotificationLog {
            conn: store.open()?,
            max_rows: max_rows.max(1),
        })
    }

    /// Starts the log on its own thread. The connection is opened there, since a
    /// SQLite connection stays with the thread that uses it.
    pub fn start(store: Store, max_rows: usize, log: slog::Logger) -> Addr<NotificationLog> {
        SyncArbiter::start(1, move || match NotificationLog::open(&store, max_rows) {
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
        let tx = self.conn.transaction()?;
        tx.execute(
            include_str!("../sql/notification_insert.sql"),
            (at.format(DATE_FORMAT).to_string(), username, message),
        )?;
        tx.execute(
            include_str!("../sql/notification_trim.sql"),
            [self.max_rows as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn list(&self, limit: usize) -> Result<Vec<Notification>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(include_str!("../sql/notification_list.sql"))?;
        let rows = stmt.query_map([limit as i64], |row| {
            Ok(Notification {
                date: row.get(0)?,
                username: row.get(1)?,
                message: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
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

/// The notifications, newest first.
#[derive(Message)]
#[rtype(result = "Result<Vec<Notification>, Error>")]
pub struct ListNotifications;

impl Handler<ListNotifications> for NotificationLog {
    type Result = Result<Vec<Notification>, Error>;

    fn handle(&mut self, _: ListNotifications, _: &mut Self::Context) -> Self::Result {
        self.list(self.max_rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, DATE_FORMAT).unwrap()
    }

    #[test]
    fn newest_first_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let mut log = NotificationLog::open(&store, 3).unwrap();
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
        NotificationLog::open(&store, 10)
            .unwrap()
            .record("bob", "Login", at("2026-01-01T00:00:00"))
            .unwrap();
        let rows = NotificationLog::open(&store, 10).unwrap().list(10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].username, "bob");
    }
}
