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
//! - `agent_status`: start and reload times of the agent.
//! - `store`: the embedded SQLite database in `home` (what survives a restart).
//! - `users`: the users file and password hashes (pure functions).
//! - `host`: pure functions over /proc (memory, CPUs, host name).
//! - `error`: the error of every actor reply, with context.
//!
//! Invariants: an actor owns its state, nobody else holds it; SQL lives in `sql/`;
//! every PostgreSQL query runs with a statement and a lock timeout.

pub mod agent_status;
pub mod error;
pub mod host;
pub mod notification_log;
pub mod pg_supervisor;
pub mod session_registry;
pub mod store;
pub mod users;

pub use error::Error;

use actix::{Actor, Addr};

use agent_status::AgentStatus;
use notification_log::NotificationLog;
use pg_supervisor::{PgSettings, PgSupervisor};
use session_registry::{SessionRegistry, SessionSettings};
use store::Store;
use users::Users;

/// What the actors need to start.
pub struct Settings {
    pub store: Store,
    pub notifications_max: usize,
    pub users: Users,
    pub sessions: SessionSettings,
    pub pg: PgSettings,
    pub log: slog::Logger,
}

/// The address of every actor.
#[derive(Clone)]
pub struct Actors {
    pub sessions: Addr<SessionRegistry>,
    pub notifications: Addr<NotificationLog>,
    pub pg: Addr<PgSupervisor>,
    pub agent: Addr<AgentStatus>,
}

/// Starts every actor; call from inside a running actix system.
pub fn start_all(settings: Settings) -> Actors {
    let log = settings.log;
    let notifications =
        NotificationLog::start(settings.store, settings.notifications_max, log.clone());
    let sessions = SessionRegistry::new(
        settings.users,
        settings.sessions,
        notifications.clone(),
        log.clone(),
    )
    .start();
    let pg = PgSupervisor::start_in_own_arbiter(settings.pg, log);
    let agent = AgentStatus::new().start();
    Actors {
        sessions,
        notifications,
        pg,
        agent,
    }
}
