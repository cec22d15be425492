//! ActivityMonitor: the actor that serves the activity listings and signals backends. It
//! owns the last /proc reading of each backend (`Readings`), so that CPU and disk
//! rates come from two readings without ever waiting inside a request: a listing
//! runs its SQL, then reads /proc once for the pids it got (`/proc/<pid>/{stat,io}`,
//! in parallel on blocking threads, no process spawned) and compares with the
//! previous readings. When a pid had no recent reading, one second reading of those
//! pids is taken a moment later, in the background, for the next listing to compare
//! with.
//!
//! Listings are shared (`Flights`): requests that come while a listing of their
//! kind is being read wait for it, and a listing read less than `[activity]
//! max_age_ms` before a request came is served to it again; each request gets its
//! own filters applied to the shared, unfiltered listing. `max_age_ms = 0` reads
//! for every request, with its filters in the SQL.
//!
//! It runs on its own arbiter, so that listings never delay the other actors. It
//! never holds a PostgreSQL connection between messages.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use serde::Serialize;
use tokio::sync::oneshot;

use super::flights::{Flights, Plan};
use super::proc_reader::{Batch, ProcReader};
use super::queries::{self, BackendRow, Detail, Filters, Kind, Signal, MAX_LIMIT};
use super::readings::{OsView, Readings};
use crate::error::Error;
use crate::notification_log::{NotificationLog, Notify};
use crate::pg_access::PgAccess;

/// When a listing found backends without a recent reading, their second reading is
/// taken this long after it.
const FOLLOW_UP_DELAY: Duration = Duration::from_secs(1);

/// A request waiting for a shared listing, with its own filters.
type Waiter = (Filters, oneshot::Sender<Result<Rows, Error>>);

/// A listing of every backend of a kind (up to `MAX_LIMIT`, longest running first),
/// for the requests' filters to select from.
#[derive(Debug)]
pub struct Shared {
    rows: Rows,
    /// The listing stopped at `MAX_LIMIT`: a filtered request may miss rows in it.
    truncated: bool,
}

pub struct ActivityMonitor {
    pg: PgAccess,
    notifications: Addr<NotificationLog>,
    proc: ProcReader,
    readings: Readings,
    /// One per kind: all, waiting, blocking.
    flights: [Flights<Shared, Waiter>; 3],
    /// Pids that want a second reading, and whether it is scheduled.
    pending: HashSet<i32>,
    follow_up_scheduled: bool,
    log: slog::Logger,
}

impl ActivityMonitor {
    pub fn new(
        pg: PgAccess,
        notifications: Addr<NotificationLog>,
        proc: ProcReader,
        max_age: Duration,
        log: slog::Logger,
    ) -> ActivityMonitor {
        let units = proc.host_units();
        if units.mem_total.is_none() {
            slog::warn!(log, "cannot read MemTotal from /proc/meminfo: activity rows will have no memory percent");
        }
        ActivityMonitor {
            pg,
            notifications,
            proc,
            readings: Readings::new(units),
            flights: [
                Flights::new(max_age),
                Flights::new(max_age),
                Flights::new(max_age),
            ],
            pending: HashSet::new(),
            follow_up_scheduled: false,
            log,
        }
    }

    /// Starts the actor on its own arbiter (thread).
    pub fn start_in_own_arbiter(
        pg: PgAccess,
        notifications: Addr<NotificationLog>,
        max_age: Duration,
        log: slog::Logger,
    ) -> Addr<ActivityMonitor> {
        let arbiter = Arbiter::new();
        ActivityMonitor::start_in_arbiter(&arbiter.handle(), move |_| {
            ActivityMonitor::new(pg, notifications, ProcReader::system(), max_age, log)
        })
    }

    /// The OS view of each pid of `batch` (read in that order), against the
    /// previous readings.
    fn os_views(&mut self, pids: &[i32], batch: Batch, ctx: &mut Context<Self>) -> Vec<OsView> {
        self.readings.forget_stale(batch.at);
        let views = pids
            .iter()
            .zip(batch.samples)
            .map(|(&pid, sample)| {
                let (view, wants_second) =
                    self.readings.observe(pid, sample, batch.at, batch.uptime);
                if wants_second {
                    self.pending.insert(pid);
                }
                view
            })
            .collect();
        self.schedule_follow_up(ctx);
        views
    }

    fn schedule_follow_up(&mut self, ctx: &mut Context<Self>) {
        if self.pending.is_empty() || self.follow_up_scheduled {
            return;
        }
        self.follow_up_scheduled = true;
        ctx.run_later(FOLLOW_UP_DELAY, |act, _| {
            act.follow_up_scheduled = false;
            let uptime = act.proc.uptime();
            for pid in std::mem::take(&mut act.pending) {
                let sample = act.proc.sample(pid);
                act.readings.observe(pid, sample, Instant::now(), uptime);
            }
            act.readings.forget_stale(Instant::now());
        });
    }

    /// Reads a listing: its SQL with `filters`, then /proc for the pids it names
    /// (off the actor's thread), then the rates against the actor's readings.
    fn read(
        &mut self,
        kind: Kind,
        filters: Filters,
    ) -> impl ActorFuture<Self, Output = Result<Rows, Error>> + 'static {
        let pg = self.pg.clone();
        let proc = self.proc.clone();
        let reading = async move {
            let started = Instant::now();
            let rows = queries::list(&pg, kind, &filters).await?;
            let sql_time = started.elapsed();
            let pids: Vec<i32> = rows.iter().map(|r| r.backend.pid).collect();
            let batch = proc.read_batch(&pids).await;
            let proc_time = batch
                .at
                .saturating_duration_since(started)
                .saturating_sub(sql_time);
            Ok::<_, Error>((rows, pids, batch, sql_time, proc_time))
        };
        reading.into_actor(self).map(move |result, act, ctx| {
            let (rows, pids, batch, sql_time, proc_time) = result?;
            Ok(act.rows(kind, rows, &pids, batch, sql_time, proc_time, ctx))
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn rows(
        &mut self,
        kind: Kind,
        rows: Vec<BackendRow>,
        pids: &[i32],
        batch: Batch,
        sql_time: Duration,
        proc_time: Duration,
        ctx: &mut Context<Self>,
    ) -> Rows {
        let views = self.os_views(pids, batch, ctx);
        slog::debug!(self.log, "backends listed"; "kind" => ?kind, "rows" => pids.len(),
            "sql_ms" => format!("{:.2}", sql_time.as_secs_f64() * 1000.0),
            "proc_ms" => format!("{:.2}", proc_time.as_secs_f64() * 1000.0));
        let rows = rows.into_iter().zip(views);
        match kind {
            Kind::All => Rows::Activity(rows.map(|(r, os)| ActivityRow::new(r, os)).collect()),
            Kind::Waiting | Kind::Blocking => {
                Rows::Locks(rows.map(|(r, os)| LockRow::new(r, os)).collect())
            }
        }
    }
}

impl Actor for ActivityMonitor {
    type Context = Context<Self>;
}

/// A row of `GET /activity`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityRow {
    pub pid: i32,
    pub database: Option<String>,
    pub user: Option<String>,
    pub client: Option<String>,
    #[serde(flatten)]
    pub os: OsView,
    pub wait: &'static str,
    pub duration: f64,
    pub state: Option<String>,
    pub query: Option<String>,
}

impl ActivityRow {
    fn new(row: BackendRow, os: OsView) -> ActivityRow {
        let (client, waiting) = match row.detail {
            Detail::Activity { client, waiting } => (client, waiting),
            Detail::Lock { .. } => (None, false),
        };
        let b = row.backend;
        ActivityRow {
            pid: b.pid,
            database: b.database,
            user: b.user,
            client,
            os,
            wait: if waiting { "Y" } else { "N" },
            duration: b.duration,
            state: b.state,
            query: b.query,
        }
    }
}

/// A row of `GET /activity/waiting` and `/activity/blocking`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LockRow {
    pub pid: i32,
    pub database: Option<String>,
    pub user: Option<String>,
    #[serde(flatten)]
    pub os: OsView,
    /// Qualified name, or `" "` when the lock is not on a relation (as 7.x).
    pub relation: String,
    #[serde(rename = "type")]
    pub locktype: String,
    pub mode: String,
    pub state: Option<String>,
    pub duration: f64,
    pub query: Option<String>,
}

impl LockRow {
    fn new(row: BackendRow, os: OsView) -> LockRow {
        let (locktype, mode, relation) = match row.detail {
            Detail::Lock {
                locktype,
                mode,
                relation,
            } => (locktype, mode, relation),
            Detail::Activity { .. } => (String::new(), String::new(), None),
        };
        let b = row.backend;
        LockRow {
            pid: b.pid,
            database: b.database,
            user: b.user,
            os,
            relation: relation.unwrap_or_else(|| " ".to_string()),
            locktype,
            mode,
            state: b.state,
            duration: b.duration,
            query: b.query,
        }
    }
}

/// The rows of a listing, serialized as a plain list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Rows {
    Activity(Vec<ActivityRow>),
    Locks(Vec<LockRow>),
}

impl Rows {
    /// The rows `filters` keep, in order (longest running first), at most `limit`.
    pub fn select(&self, filters: &Filters) -> Rows {
        let keep = |database: &Option<String>, user: &Option<String>, duration: f64| {
            filters
                .dbname
                .as_ref()
                .is_none_or(|d| database.as_ref() == Some(d))
                && filters
                    .user
                    .as_ref()
                    .is_none_or(|u| user.as_ref() == Some(u))
                && filters.min_duration.is_none_or(|m| duration >= m)
        };
        let limit = filters.limit as usize;
        match self {
            Rows::Activity(rows) => Rows::Activity(
                rows.iter()
                    .filter(|r| keep(&r.database, &r.user, r.duration))
                    .take(limit)
                    .cloned()
                    .collect(),
            ),
            Rows::Locks(rows) => Rows::Locks(
                rows.iter()
                    .filter(|r| keep(&r.database, &r.user, r.duration))
                    .take(limit)
                    .cloned()
                    .collect(),
            ),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Rows::Activity(rows) => rows.len(),
            Rows::Locks(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// List the backends of `kind` matching `filters`, longest running first.
#[derive(Message)]
#[rtype(result = "Result<Rows, Error>")]
pub struct ListBackends {
    pub kind: Kind,
    pub filters: Filters,
}

impl Filters {
    /// Whether these filters drop rows other than by `limit`.
    fn narrows(&self) -> bool {
        self.dbname.is_some() || self.user.is_some() || self.min_duration.is_some()
    }
}

fn slot(kind: Kind) -> usize {
    match kind {
        Kind::All => 0,
        Kind::Waiting => 1,
        Kind::Blocking => 2,
    }
}

impl ActivityMonitor {
    /// Answers `filters` from a shared listing, or reads for them alone when the
    /// shared listing stopped short of what they may select.
    fn answer(&mut self, kind: Kind, shared: &Shared, waiter: Waiter, ctx: &mut Context<Self>) {
        let (filters, reply) = waiter;
        if shared.truncated && filters.narrows() {
            ctx.spawn(self.read(kind, filters).map(move |rows, _, _| {
                let _ = reply.send(rows);
            }));
        } else {
            let _ = reply.send(Ok(shared.rows.select(&filters)));
        }
    }

    /// Starts the shared reading `id` of `kind`: every backend, up to `MAX_LIMIT`.
    fn start_shared(&mut self, kind: Kind, id: u64, began: Instant, ctx: &mut Context<Self>) {
        let everything = Filters {
            limit: MAX_LIMIT,
            ..Filters::default()
        };
        ctx.spawn(self.read(kind, everything).map(move |result, act, ctx| {
            let (shared, error) = match result {
                Ok(rows) => {
                    let truncated = rows.len() >= MAX_LIMIT as usize;
                    (Some(Arc::new(Shared { rows, truncated })), None)
                }
                Err(err) => (None, Some(err)),
            };
            let waiters = act.flights[slot(kind)].finish(id, began, shared.clone());
            for waiter in waiters {
                match (&shared, &error) {
                    (Some(shared), _) => act.answer(kind, shared, waiter, ctx),
                    (None, Some(err)) => {
                        let _ = waiter.1.send(Err(err.clone()));
                    }
                    (None, None) => unreachable!("a reading gives rows or an error"),
                }
            }
        }));
    }
}

impl Handler<ListBackends> for ActivityMonitor {
    type Result = ResponseActFuture<Self, Result<Rows, Error>>;

    fn handle(&mut self, msg: ListBackends, ctx: &mut Self::Context) -> Self::Result {
        let kind = msg.kind;
        let now = Instant::now();
        let (reply, answer) = oneshot::channel();
        let waiter = (msg.filters, reply);
        match self.flights[slot(kind)].plan(now) {
            Plan::ReadAlone => return Box::pin(self.read(kind, waiter.0)),
            Plan::Serve(shared) => self.answer(kind, &shared, waiter, ctx),
            Plan::Join(id) => self.flights[slot(kind)].wait(id, waiter),
            Plan::Start(id) => {
                self.flights[slot(kind)].wait(id, waiter);
                self.start_shared(kind, id, now, ctx);
            }
        }
        Box::pin(
            async move {
                answer
                    .await
                    .unwrap_or_else(|_| Err(Error::Mailbox("the activity actor stopped".into())))
            }
            .into_actor(self),
        )
    }
}

/// Terminate the backends (or cancel their queries) of `pids`, on behalf of
/// `username`; each one signalled is written to the notification log.
#[derive(Message)]
#[rtype(result = "Result<Vec<Signalled>, Error>")]
pub struct SignalBackends {
    pub pids: Vec<i32>,
    pub signal: Signal,
    pub username: String,
}

/// Whether one pid was signalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signalled {
    pub pid: i32,
    pub done: bool,
}

impl Handler<SignalBackends> for ActivityMonitor {
    type Result = ResponseActFuture<Self, Result<Vec<Signalled>, Error>>;

    fn handle(&mut self, msg: SignalBackends, _: &mut Self::Context) -> Self::Result {
        let pg = self.pg.clone();
        let notifications = self.notifications.clone();
        let log = self.log.clone();
        Box::pin(
            async move {
                let results = queries::signal(&pg, msg.signal, &msg.pids, &log).await?;
                for &(pid, done) in &results {
                    if !done {
                        continue;
                    }
                    let message = match msg.signal {
                        Signal::Terminate => format!("Backend {pid} terminated"),
                        Signal::Cancel => format!("Query of backend {pid} cancelled"),
                    };
                    slog::info!(log, "{}", message; "user" => &msg.username);
                    // The backend is signalled whatever happens here: a failed audit
                    // write is logged, not answered as a failure of the kill.
                    let written = notifications
                        .send(Notify::new(msg.username.as_str(), message.as_str()))
                        .await
                        .map_err(Error::from)
                        .and_then(|r| r);
                    if let Err(err) = written {
                        slog::error!(log, "cannot write to the notification log";
                        "message" => &message, "error" => %err);
                    }
                }
                Ok(results
                    .into_iter()
                    .map(|(pid, done)| Signalled { pid, done })
                    .collect::<Vec<_>>())
            }
            .into_actor(self)
            .map(|result, act, _| {
                // Listings read before the signal must not be served after it.
                if result.as_ref().is_ok_and(|r| r.iter().any(|s| s.done)) {
                    for flights in &mut act.flights {
                        flights.invalidate();
                    }
                }
                result
            }),
        )
    }
}
