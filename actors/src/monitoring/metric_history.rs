//! MetricHistory: the collector's records in the durable store, for
//! /monitoring/history. It owns its SQLite connection on its own thread (a
//! SyncArbiter) so a slow disk never stalls an async worker. `Append` answers once
//! the record is committed (synchronous=FULL): a record the API has shown survives
//! a `kill -9`. Records older than the window are dropped at each append.

use actix::prelude::*;
use rusqlite::Connection;

use crate::error::Error;
use crate::store::Store;

pub struct MetricHistory {
    conn: Connection,
    /// Seconds a record is kept.
    window: i64,
}

impl MetricHistory {
    pub fn open(store: &Store, window_secs: u64) -> Result<MetricHistory, Error> {
        Ok(MetricHistory {
            conn: store.open()?,
            window: window_secs.min(i64::MAX as u64) as i64,
        })
    }

    /// Starts the history on its own thread, where its connection lives.
    pub fn start(store: Store, window_secs: u64, log: slog::Logger) -> Addr<MetricHistory> {
        SyncArbiter::start(1, move || match MetricHistory::open(&store, window_secs) {
            Ok(actor) => actor,
            Err(err) => {
                // Store::init succeeded at start-up: the disk is failing now.
                slog::crit!(log, "cannot open the monitoring history"; "error" => %err);
                std::process::exit(1);
            }
        })
    }

    fn append(&mut self, at: i64, record: &str) -> Result<(), Error> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            include_str!("../../sql/monitoring/support/history_insert.sql"),
            (at, record),
        )?;
        tx.execute(
            include_str!("../../sql/monitoring/support/history_trim.sql"),
            [at.saturating_sub(self.window)],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn list(&self, start: Option<i64>, limit: usize) -> Result<Vec<String>, Error> {
        let Some(start) = start else {
            let mut stmt = self.conn.prepare_cached(include_str!(
                "../../sql/monitoring/support/history_latest.sql"
            ))?;
            let rows = stmt.query_map([], |row| row.get(0))?;
            return Ok(rows.collect::<Result<Vec<String>, _>>()?);
        };
        let mut stmt = self.conn.prepare_cached(include_str!(
            "../../sql/monitoring/support/history_list.sql"
        ))?;
        let rows = stmt.query_map((start, limit.min(i64::MAX as usize) as i64), |row| {
            row.get(0)
        })?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    }
}

impl Actor for MetricHistory {
    type Context = SyncContext<Self>;
}

/// Store a record (JSON text) taken at `at` (Unix seconds).
#[derive(Message)]
#[rtype(result = "Result<(), Error>")]
pub struct Append {
    pub at: i64,
    pub record: String,
}

impl Handler<Append> for MetricHistory {
    type Result = Result<(), Error>;

    fn handle(&mut self, msg: Append, _: &mut SyncContext<Self>) -> Self::Result {
        self.append(msg.at, &msg.record)
    }
}

/// Up to `limit` records taken at or after `start` (Unix seconds), oldest first, as
/// JSON text each; without `start`, the most recent record only (as 7.x answers).
#[derive(Message)]
#[rtype(result = "Result<Vec<String>, Error>")]
pub struct ListRecords {
    pub start: Option<i64>,
    pub limit: usize,
}

impl Handler<ListRecords> for MetricHistory {
    type Result = Result<Vec<String>, Error>;

    fn handle(&mut self, msg: ListRecords, _: &mut SyncContext<Self>) -> Self::Result {
        self.list(msg.start, msg.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(window: u64) -> (tempfile::TempDir, MetricHistory) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let h = MetricHistory::open(&store, window).unwrap();
        (dir, h)
    }

    #[test]
    fn records_come_back_oldest_first_from_start_and_limited() {
        let (_dir, mut h) = history(3600);
        for at in [100, 200, 300] {
            h.append(at, &format!("{{\"at\":{at}}}")).unwrap();
        }
        assert_eq!(h.list(Some(0), 50).unwrap().len(), 3);
        assert_eq!(
            h.list(Some(200), 50).unwrap(),
            ["{\"at\":200}", "{\"at\":300}"]
        );
        assert_eq!(h.list(Some(201), 50).unwrap(), ["{\"at\":300}"]);
        assert_eq!(h.list(Some(0), 1).unwrap(), ["{\"at\":100}"]);
        assert_eq!(h.list(None, 50).unwrap(), ["{\"at\":300}"]);
    }

    #[test]
    fn the_window_is_enforced_at_each_append() {
        let (_dir, mut h) = history(150);
        for at in [100, 200, 300] {
            h.append(at, "{}").unwrap();
        }
        // 300 - 150 = 150: the record at 100 is gone.
        assert_eq!(h.list(Some(0), 50).unwrap().len(), 2);
    }
}
