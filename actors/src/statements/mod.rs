//! The statements plugin: snapshots of pg_stat_statements in `[statements] dbname`,
//! streamed with bounded memory, and the difference since an earlier snapshot.
//!
//! - `snapshot_keeper`: the actor; keeps the last snapshots' counters, starts streams.
//! - `stream`: checks the extension, runs the snapshot statement, streams JSON chunks.
//! - `columns`: column names by extension version, the statement from SQL files.
//! - `row_json`: one row decoded and written with the spec's keys.
//! - `counters`: an entry's counters and their difference.
//! - `snapshot_time`: `snapshot_datetime` written and read back.

pub mod columns;
pub mod counters;
pub mod row_json;
pub mod snapshot_keeper;
pub mod snapshot_time;
pub mod stream;

use actix::{Actor, Addr, Arbiter};

use crate::Common;
pub use columns::Order;
pub use snapshot_keeper::{SnapshotKeeper, TakeSnapshot, KEPT_SNAPSHOTS};
pub use stream::{Chunk, Chunks};

/// What the statements actors need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where pg_stat_statements is installed (`[statements] dbname`).
    pub dbname: String,
    /// Characters of query text answered per statement (`[statements] max_query_length`).
    pub max_query_length: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            dbname: "postgres".to_string(),
            max_query_length: 16384,
        }
    }
}

/// Addresses of the statements actors, for the HTTP layer.
#[derive(Clone)]
pub struct Handles {
    pub keeper: Addr<SnapshotKeeper>,
}

/// Starts the statements actors; called once by `start_all`. The keeper gets an
/// arbiter (thread) of its own: its streams encode megabytes of JSON, which must not
/// delay the actors every request needs (sessions) on the system arbiter.
pub fn start(settings: Settings, common: &Common) -> Handles {
    let log = common.log.new(slog::o!("plugin" => "statements"));
    let pg = common.pg.clone();
    let arbiter = Arbiter::new();
    let keeper = SnapshotKeeper::start_in_arbiter(&arbiter.handle(), move |_| {
        SnapshotKeeper::new(settings, pg, log)
    });
    Handles { keeper }
}
