//! The activity plugin's actors and what they run: the backends of the instance with
//! the OS view of each process, those waiting for a lock and those blocking them, and
//! the signals (terminate, cancel) the API sends them.
//!
//! Code map:
//! - `actor`: `Activity`, the actor; owns the last /proc reading of each backend.
//! - `queries`: the SQL (listings with filters, relation names, signals).
//! - `readings`: per-pid readings and the rates between two of them (pure).
//! - `proc_reader`: reads `/proc/<pid>/{stat,io}`, `/proc/uptime`, `/proc/meminfo`.
//! - `human`: byte amounts as `"1.25M"`.
//!
//! Invariant: only a pid that PostgreSQL lists as a client backend of this instance,
//! checked in the statement that signals it, is ever signalled.

pub mod actor;
pub mod human;
pub mod proc_reader;
pub mod queries;
pub mod readings;

use actix::Addr;

pub use actor::{Activity, ActivityRow, ListBackends, LockRow, Rows, SignalBackends, Signalled};
pub use queries::{Filters, Kind, Signal, DEFAULT_LIMIT, MAX_LIMIT};

use crate::Common;

/// What the activity actors need from the configuration: nothing yet (the plugin
/// has no configuration keys).
#[derive(Debug, Clone, Default)]
pub struct Settings {}

/// Addresses of the activity actors, for the HTTP layer.
#[derive(Clone)]
pub struct Handles {
    pub activity: Addr<Activity>,
}

/// Starts the activity actors; called once by `start_all`.
pub fn start(_settings: Settings, common: &Common) -> Handles {
    Handles {
        activity: Activity::start_in_own_arbiter(
            common.pg.clone(),
            common.notifications.clone(),
            common.log.new(slog::o!("plugin" => "activity")),
        ),
    }
}
