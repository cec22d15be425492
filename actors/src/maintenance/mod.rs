//! The maintenance plugin: sizes and bloat of databases, schemas, tables and
//! indexes (`browser`, `browse`), and VACUUM / ANALYZE / REINDEX run now, at a time
//! or on a cron schedule by the durable `MaintenanceScheduler`.
//!
//! Files: `browse` (the page queries), `browser` (the actor answering them),
//! `maintenance_scheduler` (the actor owning the tasks), `due_queue` (its pending
//! tasks in due order), `task` (a task and the
//! parsing of mode, datetime and id), `cron_schedule` (crontab expressions),
//! `task_store` (the tasks on disk), `operation` (running one VACUUM / ANALYZE /
//! REINDEX), `pretty` (pg_size_pretty), `quote` (identifier quoting, the only way a
//! request's name enters SQL text).

pub mod cron_schedule;
pub mod due_queue;
pub mod maintenance_browser;
pub mod maintenance_scheduler;
pub mod operation;
pub mod pretty;
pub mod reports;
pub mod task;
pub mod task_store;

use actix::prelude::*;

use crate::Common;
use maintenance_browser::MaintenanceBrowser;
use maintenance_scheduler::MaintenanceScheduler;
use task_store::TaskStore;

/// What the maintenance actors need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Operations running at once (`[maintenance] max_parallel`).
    pub max_parallel: usize,
    /// Tasks waiting or running at most (`[maintenance] max_pending_tasks`):
    /// scheduling beyond it is refused.
    pub max_pending_tasks: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_parallel: 2,
            max_pending_tasks: 1000,
        }
    }
}

/// Addresses of the maintenance actors, for the HTTP layer.
#[derive(Clone)]
pub struct Handles {
    pub browser: Addr<MaintenanceBrowser>,
    pub scheduler: Addr<MaintenanceScheduler>,
}

/// Starts the maintenance actors; called once by `start_all`.
pub fn start(settings: Settings, common: &Common) -> Handles {
    let pg = common.pg.clone();
    let log = common.log.clone();
    let browser = MaintenanceBrowser::start_in_arbiter(&Arbiter::new().handle(), move |_| {
        MaintenanceBrowser::new(pg, log)
    });
    let store = TaskStore::start(common.store.clone(), common.log.clone());
    let pg = common.pg.clone();
    let notifications = common.notifications.clone();
    let log = common.log.clone();
    // Its own arbiter: operations' connections live there, away from the others.
    let scheduler = MaintenanceScheduler::start_in_arbiter(&Arbiter::new().handle(), move |_| {
        MaintenanceScheduler::new(store, pg, notifications, &settings, log)
    });
    Handles { browser, scheduler }
}
