//! SnapshotKeeper: the statements actor. It owns the counters of the last
//! `KEPT_SNAPSHOTS` complete snapshots (numbers only, never query text), gives each
//! new snapshot its time, and starts its stream (`stream::start`). It does not read
//! rows itself: each snapshot's task does, so a long answer never blocks the actor.

use std::collections::VecDeque;
use std::sync::Arc;

use actix::{Actor, AsyncContext, Context, Handler, ResponseFuture};
use chrono::{DateTime, FixedOffset, TimeDelta};
use slog::Logger;
use tokio::sync::Semaphore;

use super::columns::Order;
use super::snapshot_time;
use super::stream::{self, Chunks, KeepSnapshot, Plan, Snapshot};
use super::Settings;
use crate::error::Error;
use crate::pg_access::PgAccess;

/// Snapshots whose counters are kept for `since`. Each holds about 180 bytes per
/// pg_stat_statements entry (pg_stat_statements.max, 5000 by default: ~1 MB).
pub const KEPT_SNAPSHOTS: usize = 10;
/// Snapshots read at once; more requests wait for their turn.
pub const CONCURRENT_SNAPSHOTS: usize = 4;

/// `GET /statements`: the answer's chunks, or why pg_stat_statements cannot be read.
#[derive(Debug, actix::Message)]
#[rtype(result = "Result<Chunks, Error>")]
pub struct TakeSnapshot {
    /// Whether to read the query texts at all (`pg_stat_statements(false)` does not).
    pub text: bool,
    pub order: Option<Order>,
    pub limit: Option<u64>,
    /// Answer what ran since this earlier snapshot.
    pub since: Option<DateTime<FixedOffset>>,
}

pub struct SnapshotKeeper {
    settings: Settings,
    pg: PgAccess,
    log: Logger,
    /// Oldest first.
    kept: VecDeque<Arc<Snapshot>>,
    last_taken: Option<DateTime<FixedOffset>>,
    /// Permits for `CONCURRENT_SNAPSHOTS` streams; each stream holds one until it ends.
    streams: Arc<Semaphore>,
}

impl SnapshotKeeper {
    pub fn new(settings: Settings, pg: PgAccess, log: Logger) -> SnapshotKeeper {
        SnapshotKeeper {
            settings,
            pg,
            log,
            kept: VecDeque::new(),
            last_taken: None,
            streams: Arc::new(Semaphore::new(CONCURRENT_SNAPSHOTS)),
        }
    }

    /// Now, made later than any earlier snapshot so that each time names one.
    fn next_time(&mut self) -> DateTime<FixedOffset> {
        let mut now = snapshot_time::now();
        if let Some(last) = self.last_taken {
            if now <= last {
                now = last + TimeDelta::microseconds(1);
            }
        }
        self.last_taken = Some(now);
        now
    }

    fn find(&self, at: &DateTime<FixedOffset>) -> Option<Arc<Snapshot>> {
        self.kept.iter().find(|s| s.taken_at == *at).cloned()
    }
}

impl Actor for SnapshotKeeper {
    type Context = Context<Self>;
}

impl Handler<TakeSnapshot> for SnapshotKeeper {
    type Result = ResponseFuture<Result<Chunks, Error>>;

    fn handle(&mut self, msg: TakeSnapshot, ctx: &mut Context<Self>) -> Self::Result {
        let earlier = match &msg.since {
            None => None,
            Some(at) => match self.find(at) {
                Some(snapshot) => Some(snapshot),
                None => {
                    let error = Error::NotFound(format!(
                        "No snapshot taken at {} is kept: the agent keeps the counters of \
                         its last {KEPT_SNAPSHOTS} complete snapshots; take one without \
                         since first.",
                        snapshot_time::format(at)
                    ));
                    return Box::pin(async move { Err(error) });
                }
            },
        };
        let plan = Plan {
            dbname: self.settings.dbname.clone(),
            max_query_length: self.settings.max_query_length,
            text: msg.text,
            order: msg.order,
            limit: msg.limit,
            earlier,
            taken_at: self.next_time(),
            permit: self.streams.clone(),
        };
        Box::pin(stream::start(
            plan,
            self.pg.clone(),
            ctx.address().recipient(),
            self.log.clone(),
        ))
    }
}

impl Handler<KeepSnapshot> for SnapshotKeeper {
    type Result = ();

    fn handle(&mut self, msg: KeepSnapshot, _: &mut Context<Self>) {
        // Streams may end out of order: keep the newest, oldest first.
        let at = self
            .kept
            .iter()
            .position(|s| s.taken_at > msg.0.taken_at)
            .unwrap_or(self.kept.len());
        self.kept.insert(at, Arc::new(msg.0));
        while self.kept.len() > KEPT_SNAPSHOTS {
            self.kept.pop_front();
        }
    }
}
