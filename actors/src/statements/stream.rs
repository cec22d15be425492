//! One snapshot of pg_stat_statements, streamed: checks that the extension can be
//! read (before anything is answered, so that the HTTP layer can still say 404),
//! starts the snapshot statement on a dedicated connection to `[statements] dbname`,
//! then a task reads its rows one at a time, writes them as JSON into chunks of about
//! `CHUNK_BYTES` and sends them through a bounded channel. The channel's bound is the
//! backpressure: a slow client slows the reading of rows, and the agent holds at most
//! `CHANNEL_CHUNKS` chunks plus one row whatever the size of pg_stat_statements.
//!
//! The task also collects each entry's counters (numbers, not text) and, once the
//! answer is complete, hands them to the keeper for a later `since`.
//!
//! A failure after the first chunk (connection lost, statement timeout) cannot change
//! the status line any more: the task logs it and ends the stream with an error, so
//! the HTTP layer aborts the response and the client gets truncated, invalid JSON
//! rather than a complete-looking partial list. The snapshot is then not kept.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix::Recipient;
use chrono::{DateTime, FixedOffset};
use futures_util::StreamExt;
use slog::{debug, info, warn, Logger};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, RowStream};

use super::columns::{snapshot_sql, Naming, Order};
use super::counters::{Counters, Key};
use super::row_json::{write_entry, Entry};
use super::snapshot_time;
use crate::error::Error;
use crate::pg_access::PgAccess;
use crate::pg_row::Column;
use crate::pg_supervisor::describe_pg_error;

/// A piece of the JSON answer, or the error that cut it short.
pub type Chunk = Result<Vec<u8>, Error>;
/// The answer of `GET /statements`, chunk by chunk.
pub type Chunks = mpsc::Receiver<Chunk>;

/// Rows are sent once this many bytes of JSON are written.
pub const CHUNK_BYTES: usize = 32 * 1024;
/// Chunks waiting for the client at most.
pub const CHANNEL_CHUNKS: usize = 4;
/// A client that takes no chunk for this long is considered gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// The counters of every entry at one time, kept for a later `since`: a vector sorted
/// by key, the most compact form (about 180 bytes per entry, no hash table slack).
#[derive(Debug)]
pub struct Snapshot {
    pub taken_at: DateTime<FixedOffset>,
    entries: Vec<(Key, Counters)>,
}

impl Snapshot {
    pub fn new(taken_at: DateTime<FixedOffset>, mut entries: Vec<(Key, Counters)>) -> Snapshot {
        entries.sort_unstable_by_key(|(key, _)| *key);
        entries.shrink_to_fit();
        Snapshot { taken_at, entries }
    }

    pub fn get(&self, key: &Key) -> Option<&Counters> {
        self.entries
            .binary_search_by_key(key, |(k, _)| *k)
            .ok()
            .map(|i| &self.entries[i].1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = &(Key, Counters)> {
        self.entries.iter()
    }
}

/// A complete snapshot, for the keeper.
#[derive(actix::Message)]
#[rtype(result = "()")]
pub struct KeepSnapshot(pub Snapshot);

/// What one request asks for, settled by the keeper.
pub struct Plan {
    pub dbname: String,
    pub max_query_length: usize,
    pub text: bool,
    pub order: Option<Order>,
    pub limit: Option<u64>,
    pub earlier: Option<Arc<Snapshot>>,
    pub taken_at: DateTime<FixedOffset>,
    /// Held until the stream ends: bounds the snapshots read at once (each holds a
    /// connection and its entries' counters).
    pub permit: Arc<Semaphore>,
}

/// Starts a snapshot: Err (nothing answered yet) when pg_stat_statements cannot be
/// read, else the chunks a spawned task fills.
pub async fn start(
    plan: Plan,
    pg: PgAccess,
    keeper: Recipient<KeepSnapshot>,
    log: Logger,
) -> Result<Chunks, Error> {
    let permit = plan
        .permit
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Error::Mailbox("statements snapshots closed".to_string()))?;
    let dbname = plan.dbname.clone();
    check_database(&pg, &dbname).await?;
    let client = pg.connect_to(&dbname).await?;
    let (naming, schema) = extension_naming(&client, &dbname).await?;
    // A limit without an order would answer arbitrary rows: the most time first.
    let order = plan.order.or(plan.limit.map(|_| Order::TotalTime));
    let sql = snapshot_sql(naming, &schema, order);

    let max_query_length = i32::try_from(plan.max_query_length).unwrap_or(i32::MAX);
    let limit = plan.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
    let earlier = EarlierColumns::of(plan.earlier.as_deref());
    let params: [&(dyn ToSql + Sync); 8] = [
        &plan.text,
        &max_query_length,
        &limit,
        &earlier.userids,
        &earlier.dbids,
        &earlier.queryids,
        &earlier.calls,
        &earlier.total_times,
    ];
    let rows = client
        .query_raw(sql.as_str(), params)
        .await
        .map_err(|e| read_error(&e, &dbname))?;
    let mut rows = Box::pin(rows);
    // pg_stat_statements refuses to run when not preloaded only once the statement
    // executes: wait for the first row so that this is still a 404. Decoded here
    // too, so that a column of another type than the agent reads is still an error
    // answer rather than a stream cut before its first byte.
    let first = rows
        .next()
        .await
        .transpose()
        .map_err(|e| read_error(&e, &dbname))?
        .map(|row| Entry::from_row(&row))
        .transpose()?;

    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    let task = Task {
        client,
        rows,
        naming,
        limit: plan.limit,
        earlier: plan.earlier,
        taken_at: plan.taken_at,
        tx,
        dbname,
        log,
        _permit: permit,
    };
    actix::spawn(task.run(first, keeper));
    Ok(rx)
}

/// A missing database is the configuration's fault: say which key to fix.
async fn check_database(pg: &PgAccess, dbname: &str) -> Result<(), Error> {
    let conn = pg.conn().await?;
    let found = conn
        .query_opt(
            include_str!("../../sql/statements/database_exists.sql"),
            &[&dbname],
        )
        .await
        .map_err(|e| Error::query("look for the statements database", describe_pg_error(&e)))?;
    match found {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!(
            "Database {dbname} ([statements] dbname) does not exist: create it or set \
             [statements] dbname to the database where pg_stat_statements is installed."
        ))),
    }
}

/// The installed version's naming, and the extension's schema (quoted by the server)
/// that qualifies its function.
async fn extension_naming(client: &Client, dbname: &str) -> Result<(Naming, String), Error> {
    let row = client
        .query_opt(include_str!("../../sql/statements/extension.sql"), &[])
        .await
        .map_err(|e| read_error(&e, dbname))?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "pg_stat_statements is not installed in database {dbname}: run \
                 CREATE EXTENSION pg_stat_statements; in database {dbname} \
                 ([statements] dbname)."
            ))
        })?;
    let version: String = row.col("extversion")?;
    let schema: String = row.col("schema")?;
    let naming = Naming::of_version(&version).ok_or_else(|| {
        Error::NotFound(format!(
            "pg_stat_statements {version} in database {dbname} is too old (1.3 or later \
             is needed): run ALTER EXTENSION pg_stat_statements UPDATE; in it."
        ))
    })?;
    Ok((naming, schema))
}

fn read_error(err: &tokio_postgres::Error, dbname: &str) -> Error {
    if err.code() == Some(&SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE) {
        return Error::NotFound(format!(
            "pg_stat_statements is installed in database {dbname} but not loaded: add \
             pg_stat_statements to shared_preload_libraries in postgresql.conf and \
             restart PostgreSQL."
        ));
    }
    Error::query(
        format!("read pg_stat_statements in database {dbname}"),
        describe_pg_error(err),
    )
}

/// An earlier snapshot's keys and the counters the statement orders by, as arrays
/// bound to the statement (empty without `since`).
#[derive(Default)]
struct EarlierColumns {
    userids: Vec<u32>,
    dbids: Vec<u32>,
    queryids: Vec<Option<i64>>,
    calls: Vec<i64>,
    total_times: Vec<f64>,
}

impl EarlierColumns {
    fn of(snapshot: Option<&Snapshot>) -> EarlierColumns {
        let mut columns = EarlierColumns::default();
        for (key, counters) in snapshot.iter().flat_map(|s| s.iter()) {
            columns.userids.push(key.userid);
            columns.dbids.push(key.dbid);
            columns.queryids.push(key.queryid);
            columns.calls.push(counters.calls);
            columns.total_times.push(counters.total_time);
        }
        columns
    }
}

/// Every row read: the answer's last chunk, and how many rows it answered.
struct End {
    last_chunk: Vec<u8>,
    answered: u64,
}

struct Task {
    /// Owned here so that the connection lives as long as the rows are read.
    client: Client,
    rows: Pin<Box<RowStream>>,
    naming: Naming,
    limit: Option<u64>,
    earlier: Option<Arc<Snapshot>>,
    taken_at: DateTime<FixedOffset>,
    tx: mpsc::Sender<Chunk>,
    dbname: String,
    log: Logger,
    _permit: OwnedSemaphorePermit,
}

impl Task {
    async fn run(mut self, first: Option<Entry>, keeper: Recipient<KeepSnapshot>) {
        let mut counters = Vec::new();
        match self.pump(first, &mut counters).await {
            Ok(Some(End {
                last_chunk,
                answered,
            })) => {
                debug!(self.log, "pg_stat_statements snapshot";
                       "database" => &self.dbname, "entries" => counters.len(),
                       "answered" => answered);
                // Every row is read: the counters are complete whether or not the client
                // takes the last chunk. Kept before that chunk is sent, so that a client
                // asking `since` this snapshot right after its answer finds it.
                keeper.do_send(KeepSnapshot(Snapshot::new(self.taken_at, counters)));
                if !self.send(last_chunk).await {
                    self.client_gone();
                }
            }
            Ok(None) => self.client_gone(),
            Err(err) => {
                warn!(self.log, "pg_stat_statements snapshot failed midway; the client got a \
                                 truncated answer and the snapshot is not kept";
                      "database" => &self.dbname, "error" => %err);
                let _ = tokio::time::timeout(SEND_TIMEOUT, self.tx.send(Err(err))).await;
            }
        }
        drop(self.client);
    }

    fn client_gone(&self) {
        info!(self.log, "statements client went away before the end of the answer";
              "database" => &self.dbname);
    }

    /// Reads every row and sends the answer but its last chunk; None when the client
    /// went away.
    async fn pump(
        &mut self,
        first: Option<Entry>,
        counters: &mut Vec<(Key, Counters)>,
    ) -> Result<Option<End>, Error> {
        let mut buf = Vec::with_capacity(CHUNK_BYTES * 2);
        buf.extend_from_slice(b"{\"snapshot_datetime\":");
        let _ = serde_json::to_writer(&mut buf, &snapshot_time::format(&self.taken_at));
        buf.extend_from_slice(b",\"data\":[");
        let mut answered: u64 = 0;
        let mut next = first;
        while let Some(entry) = next {
            let difference = self
                .earlier
                .as_ref()
                .map(|earlier| match earlier.get(&entry.key) {
                    Some(before) => entry.counters.since(before),
                    None => entry.counters,
                });
            let ran = difference.is_none_or(|d| d.calls > 0);
            if ran && self.limit.is_none_or(|limit| answered < limit) {
                if answered > 0 {
                    buf.push(b',');
                }
                write_entry(&mut buf, &entry, difference.as_ref(), self.naming);
                answered += 1;
            }
            counters.push((entry.key, entry.counters));
            if buf.len() >= CHUNK_BYTES {
                let full = std::mem::replace(&mut buf, Vec::with_capacity(CHUNK_BYTES * 2));
                if !self.send(full).await {
                    return Ok(None);
                }
            }
            next = self
                .rows
                .next()
                .await
                .transpose()
                .map_err(|e| read_error(&e, &self.dbname))?
                .map(|row| Entry::from_row(&row))
                .transpose()?;
        }
        buf.extend_from_slice(b"]}");
        Ok(Some(End {
            last_chunk: buf,
            answered,
        }))
    }

    /// False when the client is gone (or stopped reading for `SEND_TIMEOUT`).
    async fn send(&self, chunk: Vec<u8>) -> bool {
        matches!(
            tokio::time::timeout(SEND_TIMEOUT, self.tx.send(Ok(chunk))).await,
            Ok(Ok(()))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(userid: u32, queryid: Option<i64>) -> Key {
        Key {
            userid,
            dbid: 1,
            queryid,
        }
    }

    #[test]
    fn a_snapshot_finds_each_entry_by_key() {
        let entries: Vec<(Key, Counters)> = [(3, Some(9)), (1, None), (2, Some(-4)), (1, Some(7))]
            .iter()
            .enumerate()
            .map(|(i, (u, q))| {
                let counters = Counters {
                    calls: i as i64,
                    ..Counters::default()
                };
                (key(*u, *q), counters)
            })
            .collect();
        let snapshot = Snapshot::new(snapshot_time::now(), entries);
        assert_eq!(snapshot.len(), 4);
        assert_eq!(snapshot.get(&key(3, Some(9))).map(|c| c.calls), Some(0));
        assert_eq!(snapshot.get(&key(1, None)).map(|c| c.calls), Some(1));
        assert_eq!(snapshot.get(&key(2, Some(-4))).map(|c| c.calls), Some(2));
        assert_eq!(snapshot.get(&key(1, Some(7))).map(|c| c.calls), Some(3));
        assert_eq!(snapshot.get(&key(1, Some(8))), None);
    }
}
