//! Activity: the actor that serves the activity listings and signals backends. It
//! owns the last /proc reading of each backend (`Readings`), so that CPU and disk
//! rates come from two readings without ever waiting inside a request: a listing
//! runs its SQL, then reads /proc once for the pids it got (one pass over
//! `/proc/<pid>/{stat,io}`, no process spawned) and compares with the previous
//! readings. When a pid had no recent reading, one second reading of those pids is
//! taken a moment later, in the background, for the next listing to compare with.
//!
//! It runs on its own arbiter, so that a /proc pass over hundreds of backends never
//! delays the other actors. It never holds a PostgreSQL connection between messages.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use actix::prelude::*;
use serde::Serialize;

use super::proc_reader::ProcReader;
use super::queries::{self, BackendRow, Detail, Filters, Kind, Signal};
use super::readings::{OsView, Readings};
use crate::error::Error;
use crate::notification_log::{NotificationLog, Notify};
use crate::pg_access::PgAccess;

/// When a listing found backends without a recent reading, their second reading is
/// taken this long after it.
const FOLLOW_UP_DELAY: Duration = Duration::from_secs(1);

pub struct Activity {
    pg: PgAccess,
    notifications: Addr<NotificationLog>,
    proc: ProcReader,
    readings: Readings,
    /// Pids that want a second reading, and whether it is scheduled.
    pending: HashSet<i32>,
    follow_up_scheduled: bool,
    log: slog::Logger,
}

impl Activity {
    pub fn new(
        pg: PgAccess,
        notifications: Addr<NotificationLog>,
        proc: ProcReader,
        log: slog::Logger,
    ) -> Activity {
        let units = proc.host_units();
        if units.mem_total.is_none() {
            slog::warn!(log, "cannot read MemTotal from /proc/meminfo: activity rows will have no memory percent");
        }
        Activity {
            pg,
            notifications,
            proc,
            readings: Readings::new(units),
            pending: HashSet::new(),
            follow_up_scheduled: false,
            log,
        }
    }

    /// Starts the actor on its own arbiter (thread).
    pub fn start_in_own_arbiter(
        pg: PgAccess,
        notifications: Addr<NotificationLog>,
        log: slog::Logger,
    ) -> Addr<Activity> {
        let arbiter = Arbiter::new();
        Activity::start_in_arbiter(&arbiter.handle(), move |_| {
            Activity::new(pg, notifications, ProcReader::system(), log)
        })
    }

    /// The OS view of each pid, from one reading each, in the same order.
    fn os_views(&mut self, pids: &[i32], ctx: &mut Context<Self>) -> Vec<OsView> {
        self.readings.forget_stale(Instant::now());
        let uptime = self.proc.uptime();
        let views = pids
            .iter()
            .map(|&pid| {
                let sample = self.proc.sample(pid);
                let (view, wants_second) =
                    self.readings.observe(pid, sample, Instant::now(), uptime);
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

    fn rows(
        &mut self,
        kind: Kind,
        rows: Vec<BackendRow>,
        sql_time: Duration,
        ctx: &mut Context<Self>,
    ) -> Rows {
        let pids: Vec<i32> = rows.iter().map(|r| r.backend.pid).collect();
        let started = Instant::now();
        let views = self.os_views(&pids, ctx);
        slog::debug!(self.log, "backends listed"; "kind" => ?kind, "rows" => pids.len(),
            "sql_ms" => format!("{:.2}", sql_time.as_secs_f64() * 1000.0),
            "proc_ms" => format!("{:.2}", started.elapsed().as_secs_f64() * 1000.0));
        let rows = rows.into_iter().zip(views);
        match kind {
            Kind::All => Rows::Activity(rows.map(|(r, os)| ActivityRow::new(r, os)).collect()),
            Kind::Waiting | Kind::Blocking => {
                Rows::Locks(rows.map(|(r, os)| LockRow::new(r, os)).collect())
            }
        }
    }
}

impl Actor for Activity {
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

impl Handler<ListBackends> for Activity {
    type Result = ResponseActFuture<Self, Result<Rows, Error>>;

    fn handle(&mut self, msg: ListBackends, _: &mut Self::Context) -> Self::Result {
        let pg = self.pg.clone();
        let kind = msg.kind;
        let query = async move {
            let started = Instant::now();
            let rows = queries::list(&pg, kind, &msg.filters).await?;
            Ok::<_, Error>((rows, started.elapsed()))
        };
        Box::pin(query.into_actor(self).map(move |result, act, ctx| {
            let (rows, sql_time) = result?;
            Ok(act.rows(kind, rows, sql_time, ctx))
        }))
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

impl Handler<SignalBackends> for Activity {
    type Result = ResponseFuture<Result<Vec<Signalled>, Error>>;

    fn handle(&mut self, msg: SignalBackends, _: &mut Self::Context) -> Self::Result {
        let pg = self.pg.clone();
        let notifications = self.notifications.clone();
        let log = self.log.clone();
        Box::pin(async move {
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
                .collect())
        })
    }
}
