//! The activity plugin's actors and what they run: the backends of the instance with
//! the OS view of each process, those waiting for a lock and those blocking them, and
//! the signals (terminate, cancel) the API sends them.
//!
//! Code map:
//! - `activity_monitor`: `ActivityMonitor`, the actor; owns the last /proc reading of each backend.
//! - `flights`: single flight and short reuse of listings (pure bookkeeping).
//! - `queries`: the SQL (listings with filters, relation names, signals).
//! - `readings`: per-pid readings and the rates between two of them (pure).
//! - `proc_reader`: reads `/proc/<pid>/{stat,io}`, `/proc/uptime`, `/proc/meminfo`.
//! - `human`: byte amounts as `"1.25M"`.
//!
//! Invariant: only a pid that PostgreSQL lists as a client backend of this instance,
//! checked in the statement that signals it, is ever signalled.

pub mod activity_monitor;
pub mod flights;
pub mod human;
pub mod proc_reader;
pub mod queries;
pub mod readings;

use actix::Addr;

pub use activity_monitor::{
    ActivityMonitor, ActivityRow, ListBackends, LockRow, Rows, SignalBackends, Signalled,
};
pub use queries::{Filters, Kind, Signal, DEFAULT_LIMIT, MAX_LIMIT};

use crate::Common;

/// What the activity actors need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[activity] max_age_ms`: how long a listing is served again.
    pub max_age: std::time::Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_age: std::time::Duration::from_millis(250),
        }
    }
}

/// Addresses of the activity actors, for the HTTP layer.
#[derive(Clone)]
pub struct Handles {
    pub activity: Addr<ActivityMonitor>,
}

/// Starts the activity actors; called once by `start_all`.
pub fn start(settings: Settings, common: &Common) -> Handles {
    Handles {
        activity: ActivityMonitor::start_in_own_arbiter(
            common.pg.clone(),
            common.notifications.clone(),
            settings.max_age,
            common.log.new(slog::o!("plugin" => "activity")),
        ),
    }
}
