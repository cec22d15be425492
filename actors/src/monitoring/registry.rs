//! Every monitoring probe, one line each: its name, where it runs (host, instance,
//! or inside each selected database), the oldest server it supports, its SQL
//! variants (`sql/monitoring/<name>.sql`, and `<name>.<server_version_num>.sql` for
//! servers at or above that version), which columns are counters reported as the
//! difference since the previous run (and the columns that key a row), and whether
//! `probes = *` schedules it. Adding a probe is one `.sql` file and one line here;
//! the unit tests below fail when a file has no line or a line names no file.

use super::row::{float, Row};

/// Where a probe runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Reads the host (/proc, statvfs); no PostgreSQL.
    Host,
    /// One query on the configured database; rows carrying `dbname` are kept for the
    /// selected databases only.
    Instance,
    /// The query runs in each selected database, one connection at a time; the
    /// runner adds `dbname` to each row.
    Database,
}

/// One SQL text, used on servers at or above `since` (server_version_num) until
/// a later variant takes over.
#[derive(Debug)]
pub struct Variant {
    pub since: u32,
    pub file: &'static str,
    pub text: &'static str,
}

/// What an on-demand call (GET /monitoring/probe/<name>) answers for a delta
/// probe, as temboard agent 7.x and the spec examples do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDemand {
    /// The counters as read, cumulative, without `measure_interval` (the spec's
    /// xacts, blocks and bgwriter examples: 7.x computed those deltas in the
    /// collector only).
    Counters,
    /// The change since the previous reading, with `measure_interval` (the spec's
    /// cpu, process and wal_files examples).
    Delta,
}

/// Counters reported as the change since the probe's previous run.
#[derive(Debug)]
pub struct Delta {
    /// Columns that identify a row between runs (e.g. `dbname`, `cpu`).
    pub key: &'static [&'static str],
    /// Counter columns: the row reports `now - previous`, plus `measure_interval`.
    pub columns: &'static [&'static str],
    /// Columns computed from the counters (e.g. a ratio), after subtraction.
    pub derive: Option<fn(&mut Row)>,
    /// What an on-demand call answers.
    pub on_demand: OnDemand,
}

#[derive(Debug)]
pub struct Probe {
    pub name: &'static str,
    pub level: Level,
    /// Oldest server_version_num the probe supports (0: any, or a host probe).
    pub min_version: u32,
    /// SQL variants, oldest first; empty for host probes.
    pub sql: &'static [Variant],
    pub delta: Option<Delta>,
    /// Whether `[monitoring] probes = *` runs it periodically. Expensive probes
    /// run periodically only when named in `probes`.
    pub default_on: bool,
}

impl Probe {
    /// The SQL for a server: the highest variant at or below its version.
    pub fn sql_for(&self, server_version_num: u32) -> Option<&'static Variant> {
        if server_version_num < self.min_version {
            return None;
        }
        self.sql
            .iter()
            .filter(|v| v.since <= server_version_num)
            .max_by_key(|v| v.since)
    }
}

macro_rules! sql {
    ($since:expr, $file:literal) => {
        Variant {
            since: $since,
            file: $file,
            text: include_str!(concat!("../../sql/monitoring/", $file)),
        }
    };
    // The file ends a query that SQL shared with other code begins (`sql/`).
    ($since:expr, $file:literal, after $shared:literal) => {
        Variant {
            since: $since,
            file: $file,
            text: concat!(
                include_str!(concat!("../../sql/", $shared)),
                include_str!(concat!("../../sql/monitoring/", $file))
            ),
        }
    };
    // The file begins a query that SQL shared by the variants ends (`sql/`).
    ($since:expr, $file:literal, before $shared:literal) => {
        Variant {
            since: $since,
            file: $file,
            text: concat!(
                include_str!(concat!("../../sql/monitoring/", $file)),
                include_str!(concat!("../../sql/", $shared))
            ),
        }
    };
}

/// The variants of a probe with one SQL file, for any server.
macro_rules! sql_list {
    ($file:literal) => {
        &[sql!(0, $file)]
    };
}

/// A probe run once on the configured database, on any server, scheduled by default.
const fn instance(name: &'static str, sql: &'static [Variant], delta: Option<Delta>) -> Probe {
    Probe {
        name,
        level: Level::Instance,
        min_version: 0,
        sql,
        delta,
        default_on: true,
    }
}

/// A probe run in each selected database, too costly for `probes = *`.
const fn expensive_per_database(name: &'static str, sql: &'static [Variant]) -> Probe {
    Probe {
        name,
        level: Level::Database,
        min_version: 0,
        sql,
        delta: None,
        default_on: false,
    }
}

const fn host(name: &'static str, delta: Option<Delta>) -> Probe {
    Probe {
        name,
        level: Level::Host,
        min_version: 0,
        sql: &[],
        delta,
        default_on: true,
    }
}

/// Every probe, in the order of the history record's `data`.
pub static PROBES: &[Probe] = &[
    instance("sessions", sql_list!["sessions.sql"], None),
    instance(
        "xacts",
        sql_list!["xacts.sql"],
        Some(Delta {
            key: &["dbname"],
            columns: &["n_commit", "n_rollback"],
            derive: None,
            on_demand: OnDemand::Counters,
        }),
    ),
    instance("locks", sql_list!["locks.sql"], None),
    instance(
        "blocks",
        sql_list!["blocks.sql"],
        Some(Delta {
            key: &["dbname"],
            columns: &["blks_read", "blks_hit"],
            derive: Some(hitmiss_ratio),
            on_demand: OnDemand::Counters,
        }),
    ),
    Probe {
        name: "bgwriter",
        level: Level::Instance,
        min_version: 0,
        sql: &[sql!(0, "bgwriter.sql"), sql!(170000, "bgwriter.170000.sql")],
        delta: Some(Delta {
            key: &[],
            columns: &[
                "checkpoints_timed",
                "checkpoints_req",
                "checkpoint_write_time",
                "checkpoint_sync_time",
                "buffers_checkpoint",
                "buffers_clean",
                "maxwritten_clean",
                "buffers_backend",
                "buffers_backend_fsync",
                "buffers_alloc",
            ],
            derive: None,
            on_demand: OnDemand::Counters,
        }),
        default_on: true,
    },
    Probe {
        name: "db_size",
        level: Level::Instance,
        min_version: 0,
        sql: &[sql!(0, "db_size.sql")],
        delta: None,
        default_on: true,
    },
    host(
        "cpu",
        Some(Delta {
            key: &["cpu"],
            columns: &[
                "time_user",
                "time_system",
                "time_idle",
                "time_iowait",
                "time_steal",
            ],
            derive: None,
            on_demand: OnDemand::Delta,
        }),
    ),
    host(
        "process",
        Some(Delta {
            key: &[],
            columns: &["forks", "context_switches"],
            derive: None,
            on_demand: OnDemand::Delta,
        }),
    ),
    host("memory", None),
    host("loadavg", None),
    host("filesystems_size", None),
    instance("tblspc_size", sql_list!["tblspc_size.sql"], None),
    Probe {
        name: "wal_files",
        level: Level::Instance,
        // pg_ls_waldir() came with PostgreSQL 10, pg_ls_archive_statusdir() with 12.
        min_version: 100000,
        sql: &[
            sql!(0, "wal_files.sql", before "monitoring/support/wal_files.sql"),
            sql!(
                120000,
                "wal_files.120000.sql",
                before "monitoring/support/wal_files.sql"
            ),
        ],
        delta: Some(Delta {
            key: &[],
            columns: &["written_size"],
            derive: None,
            on_demand: OnDemand::Delta,
        }),
        default_on: true,
    },
    Probe {
        name: "replication_lag",
        level: Level::Instance,
        // pg_last_wal_receive_lsn() and pg_last_wal_replay_lsn() names.
        min_version: 100000,
        sql: sql_list!["replication_lag.sql"],
        delta: None,
        default_on: true,
    },
    instance(
        "temp_files_size_delta",
        sql_list!["temp_files_size_delta.sql"],
        Some(Delta {
            key: &["dbname"],
            columns: &["size"],
            derive: None,
            on_demand: OnDemand::Counters,
        }),
    ),
    Probe {
        name: "replication_connection",
        level: Level::Instance,
        // pg_stat_wal_receiver.sender_host and sender_port.
        min_version: 110000,
        sql: sql_list!["replication_connection.sql"],
        delta: None,
        default_on: true,
    },
    expensive_per_database(
        "heap_bloat",
        &[sql!(0, "heap_bloat.sql", after "bloat/heap.sql")],
    ),
    expensive_per_database(
        "btree_bloat",
        &[sql!(0, "btree_bloat.sql", after "bloat/btree.sql")],
    ),
];

/// blocks: the share of block requests served from shared buffers over the
/// interval, in percent; 100 when there was no request at all (nothing missed).
fn hitmiss_ratio(row: &mut Row) {
    let count = |c: &str| row.get(c).and_then(serde_json::Value::as_f64);
    let ratio = match (count("blks_hit"), count("blks_read")) {
        (Some(hit), Some(read)) if hit + read > 0.0 => hit / (hit + read) * 100.0,
        (Some(_), Some(_)) => 100.0,
        _ => return,
    };
    row.insert("hitmiss_ratio".into(), float(ratio));
}

pub fn find(name: &str) -> Option<&'static Probe> {
    PROBES.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant_name(file: &str) -> (&str, u32) {
        let stem = file.strip_suffix(".sql").expect("a .sql file");
        match stem.split_once('.') {
            Some((name, since)) => (name, since.parse().expect("a server_version_num")),
            None => (stem, 0),
        }
    }

    #[test]
    fn every_sql_file_has_a_registry_line() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/sql/monitoring");
        for entry in std::fs::read_dir(dir).unwrap() {
            let file = entry.unwrap().file_name().into_string().unwrap();
            if !file.ends_with(".sql") {
                continue;
            }
            let (name, since) = variant_name(&file);
            let probe = find(name).unwrap_or_else(|| panic!("{file}: no probe named {name}"));
            assert!(
                probe.sql.iter().any(|v| v.file == file && v.since == since),
                "{file}: probe {name} does not list it"
            );
        }
    }

    #[test]
    fn every_registry_line_is_consistent() {
        let mut names = std::collections::HashSet::new();
        for p in PROBES {
            assert!(names.insert(p.name), "{} registered twice", p.name);
            match p.level {
                Level::Host => assert!(p.sql.is_empty(), "{}: host probe with SQL", p.name),
                _ => assert!(!p.sql.is_empty(), "{}: SQL probe without a file", p.name),
            }
            for v in p.sql {
                assert_eq!(variant_name(v.file), (p.name, v.since), "{}", v.file);
            }
            let mut sinces: Vec<u32> = p.sql.iter().map(|v| v.since).collect();
            sinces.dedup();
            assert_eq!(sinces.len(), p.sql.len(), "{}: two variants", p.name);
        }
    }

    #[test]
    fn blocks_hitmiss_ratio_is_computed_from_the_deltas() {
        let blocks = find("blocks").unwrap().delta.as_ref().unwrap();
        let t0 = std::time::Instant::now();
        let row = |read: i64, hit: i64| {
            serde_json::json!({"dbname": "a", "blks_read": read, "blks_hit": hit})
                .as_object()
                .unwrap()
                .clone()
        };
        let before = super::super::delta::Reading::new(blocks, t0, &[row(1000, 1000)]);
        let out = super::super::delta::diff(blocks, Some(&before), t0, &[row(1010, 1030)]);
        assert_eq!(out[0]["blks_read"], serde_json::json!(10));
        assert_eq!(out[0]["blks_hit"], serde_json::json!(30));
        assert_eq!(out[0]["hitmiss_ratio"], serde_json::json!(75.0));
        // No block requested over the interval: nothing was missed.
        let idle = super::super::delta::diff(blocks, Some(&before), t0, &[row(1000, 1000)]);
        assert_eq!(idle[0]["hitmiss_ratio"], serde_json::json!(100.0));
    }

    #[test]
    fn bgwriter_reads_pg_stat_checkpointer_from_postgresql_17() {
        let bgwriter = find("bgwriter").unwrap();
        assert_eq!(bgwriter.sql_for(150018).unwrap().file, "bgwriter.sql");
        assert_eq!(
            bgwriter.sql_for(170002).unwrap().file,
            "bgwriter.170000.sql"
        );
        assert!(bgwriter
            .sql_for(170002)
            .unwrap()
            .text
            .contains("pg_stat_checkpointer"));
    }

    #[test]
    fn wal_files_lists_archive_status_with_the_function_of_the_server() {
        let wal_files = find("wal_files").unwrap();
        assert!(wal_files.sql_for(90624).is_none());
        assert_eq!(wal_files.sql_for(110022).unwrap().file, "wal_files.sql");
        assert_eq!(
            wal_files.sql_for(150018).unwrap().file,
            "wal_files.120000.sql"
        );
        assert!(find("replication_connection")
            .unwrap()
            .sql_for(100023)
            .is_none());
    }

    #[test]
    fn bloat_probes_run_per_database_and_only_when_named() {
        for name in ["heap_bloat", "btree_bloat"] {
            let p = find(name).unwrap();
            assert_eq!(p.level, Level::Database, "{name}");
            assert!(!p.default_on, "{name}");
        }
    }

    #[test]
    fn the_highest_variant_at_or_below_the_server_wins() {
        static P: Probe = Probe {
            name: "x",
            level: Level::Instance,
            min_version: 100000,
            sql: &[
                Variant {
                    since: 0,
                    file: "x.sql",
                    text: "a",
                },
                Variant {
                    since: 170000,
                    file: "x.170000.sql",
                    text: "b",
                },
            ],
            delta: None,
            default_on: true,
        };
        assert!(P.sql_for(90600).is_none());
        assert_eq!(P.sql_for(150018).unwrap().text, "a");
        assert_eq!(P.sql_for(170000).unwrap().text, "b");
        assert_eq!(P.sql_for(180001).unwrap().text, "b");
    }
}
