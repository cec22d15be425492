//! The actors of temboard-agent and what they run. This crate knows nothing of HTTP:
//! the binary's `src/http` maps replies to status codes and JSON.
//!
//! `start_all` starts every actor and answers their addresses; the binary calls it
//! once, inside the actix system.
//!
//! Code map:
//! - `session_registry`: users, login sessions, brute-force guard.
//! - `notification_log`: the audit trail, in the durable store.
//! - `pg_supervisor`: the connection pool to the instance and its state.
//! - `pg_access`: the shared pool and connections to other databases, for every actor.
//! - `dashboard`, `monitoring`, `activity`, `pgconf`, `maintenance`, `statements`: one folder per
//!   plugin, with its actors and what they run; `start` starts them.
//! - `agent_status`: start and reload times of the agent.
//! - `store`: the embedded SQLite database in `home` (what survives a restart).
//! - `users`: the users file and password hashes (pure functions).
//! - `host`: pure functions over /proc and statvfs (CPU times, memory, load, processes,
//!   filesystems, IP addresses, OS, host name).
//! - `sql_quote`: identifier and literal quoting, for statements without parameters.
//! - `error`: the error of every actor reply, with context.
//!
//! Invariants: an actor owns its state, nobody else holds it; SQL lives in `sql/`;
//! every PostgreSQL query runs with a statement and a lock timeout.

pub mod activity;
pub mod agent_status;
pub mod dashboard;
pub mod error;
pub mod host;
pub mod maintenance;
pub mod monitoring;
pub mod notification_log;
pub mod pg_access;
pub mod pg_row;
pub mod pg_supervisor;
pub mod pgconf;
pub mod session_registry;
pub mod sql_quote;
pub mod statements;
pub mod store;
pub mod users;

pub use error::Error;

use actix::{Actor, Addr};

use agent_status::AgentStatus;
use notification_log::NotificationLog;
use pg_access::PgAccess;
use pg_supervisor::{PgSettings, PgSupervisor};
use session_registry::{SessionRegistry, SessionSettings};
use store::Store;
use users::Users;

/// What the actors need to start.
pub struct Settings {
    pub store: Store,
    pub notifications_max: usize,
    /// Rows of refused attempts kept, apart from the `notifications_max` events.
    pub notifications_max_refusals: usize,
    pub users: Users,
    pub sessions: SessionSettings,
    pub pg: PgSettings,
    pub dashboard: dashboard::Settings,
    pub activity: activity::Settings,
    pub pgconf: pgconf::Settings,
    pub maintenance: maintenance::Settings,
    pub monitoring: monitoring::Settings,
    pub statements: statements::Settings,
    pub log: slog::Logger,
}

/// What every plugin's actors may use: PostgreSQL access, the supervisor (instance
/// state), the audit trail, the durable store (each actor opens its own connection)
/// and the logger.
pub struct Common {
    pub pg: PgAccess,
    pub pg_supervisor: Addr<PgSupervisor>,
    pub notifications: Addr<NotificationLog>,
    pub store: Store,
    pub log: slog::Logger,
}

/// The address of every actor.
#[derive(Clone)]
pub struct Actors {
    pub sessions: Addr<SessionRegistry>,
    pub notifications: Addr<NotificationLog>,
    pub pg: Addr<PgSupervisor>,
    pub agent: Addr<AgentStatus>,
    pub dashboard: dashboard::Handles,
    pub activity: activity::Handles,
    pub pgconf: pgconf::Handles,
    pub maintenance: maintenance::Handles,
    pub monitoring: monitoring::Handles,
    pub statements: statements::Handles,
}

/// Starts every actor; call from inside a running actix system.
pub fn start_all(settings: Settings) -> Actors {
    let log = settings.log;
    let store = settings.store;
    let caps = notification_log::Caps {
        max_rows: settings.notifications_max,
        max_refusals: settings.notifications_max_refusals,
    };
    let notifications = NotificationLog::start(store.clone(), caps, log.clone());
    let sessions = SessionRegistry::new(
        settings.users,
        settings.sessions,
        notifications.clone(),
        log.clone(),
    )
    .start();
    let pg_access = PgAccess::new(settings.pg.clone());
    let pg = PgSupervisor::start_in_own_arbiter(
        settings.pg,
        pg_access.pool().clone(),
        notifications.clone().recipient(),
        log.clone(),
    );
    let agent = AgentStatus::new().start();
    let common = Common {
        pg: pg_access,
        pg_supervisor: pg.clone(),
        notifications: notifications.clone(),
        store,
        log,
    };
    Actors {
        sessions,
        notifications,
        pg,
        agent,
        dashboard: dashboard::start(settings.dashboard, &common),
        activity: activity::start(settings.activity, &common),
        pgconf: pgconf::start(settings.pgconf, &common),
        maintenance: maintenance::start(settings.maintenance, &common),
        monitoring: monitoring::start(settings.monitoring, &common),
        statements: statements::start(settings.statements, &common),
    }
}
