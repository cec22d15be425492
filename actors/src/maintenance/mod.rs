//! The maintenance plugin: sizes and bloat of databases, schemas, tables and
//! indexes (`browser`, `browse`), and VACUUM / ANALYZE / REINDEX run now, at a time
//! or on a cron schedule by the durable `MaintenanceScheduler`.
//!
//! Files: `browse` (the page queries), `browser` (the actor answering them),
//! `pretty` (pg_size_pretty), `quote` (identifier quoting, the only way a request's
//! name enters SQL text).

pub mod browse;
pub mod browser;
pub mod pretty;
pub mod quote;

use actix::prelude::*;

use crate::Common;
use browser::MaintenanceBrowser;

/// What the maintenance actors need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Operations running at once (`[maintenance] max_parallel`).
    pub max_parallel: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { max_parallel: 2 }
    }
}

/// Addresses of the maintenance actors, for the HTTP layer.
#[derive(Clone)]
pub struct Handles {
    pub browser: Addr<MaintenanceBrowser>,
}

/// Starts the maintenance actors; called once by `start_all`.
pub fn start(_settings: Settings, common: &Common) -> Handles {
    let pg = common.pg.clone();
    let log = common.log.clone();
    let browser = MaintenanceBrowser::start_in_arbiter(&Arbiter::new().handle(), move |_| {
        MaintenanceBrowser::new(pg, log)
    });
    Handles { browser }
}
