//! Every monitoring probe, one line each: its name, where it runs (host, instance,
//! or inside each selected database), the oldest server it supports, its SQL
//! variants (`sql/monitoring/<name>.sql`, and `<name>.<server_version_num>.sql` for
//! servers at or above that version), which columns are counters reported as the
//! difference since the previous run (and the columns that key a row), whether
//! `probes = *` schedules it, and what `GET /metrics` exports of its rows (the
//! columns that label the samples, and each exported column's family, type, help
//! and conversion). Adding a probe is one `.sql` file and one line here; the unit
//! tests below fail when a file has no line or a line names no file.

use super::export::{counter, gauge, Export, Labels};
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
    /// Row columns that label every exported sample. None for probes with one
    /// row: one instance per agent, Prometheus' `instance` label tells the
    /// agents apart.
    pub labels: Labels,
    /// The columns `GET /metrics` exports, in output order. A column that has no
    /// line is not exported, so a probe that gains a column never breaks the
    /// exposition.
    pub exports: &'static [Export],
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

    const fn since(self, min_version: u32) -> Probe {
        Probe {
            min_version,
            ..self
        }
    }

    const fn counting(self, delta: Delta) -> Probe {
        Probe {
            delta: Some(delta),
            ..self
        }
    }

    const fn exporting(self, labels: Labels, exports: &'static [Export]) -> Probe {
        Probe {
            labels,
            exports,
            ..self
        }
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

/// A probe run once on the configured database, on any server, scheduled by
/// default, exporting nothing until `exporting` says what.
const fn instance(name: &'static str, sql: &'static [Variant]) -> Probe {
    Probe {
        name,
        level: Level::Instance,
        min_version: 0,
        sql,
        delta: None,
        default_on: true,
        labels: &[],
        exports: &[],
    }
}

/// A probe run in each selected database, too costly for `probes = *`.
const fn expensive_per_database(name: &'static str, sql: &'static [Variant]) -> Probe {
    Probe {
        level: Level::Database,
        default_on: false,
        ..instance(name, sql)
    }
}

const fn host(name: &'static str) -> Probe {
    Probe {
        level: Level::Host,
        ..instance(name, &[])
    }
}

/// Counters an on-demand call answers cumulative, as read.
const fn counters(key: &'static [&'static str], columns: &'static [&'static str]) -> Delta {
    Delta {
        key,
        columns,
        derive: None,
        on_demand: OnDemand::Counters,
    }
}

/// Counters an on-demand call answers as the change since the previous reading.
const fn deltas(key: &'static [&'static str], columns: &'static [&'static str]) -> Delta {
    Delta {
        on_demand: OnDemand::Delta,
        ..counters(key, columns)
    }
}

const BY_DBNAME: Labels = &[("dbname", "dbname")];
const MS: f64 = 1000.0;
const PERCENT: f64 = 100.0;

const LOCKS: &str = "Locks held in this database, by lock mode (pg_locks, granted).";
const LOCKS_WAITING: &str =
    "Lock requests waiting in this database, by lock mode (pg_locks, not granted).";
const CPU: &str = "CPU time spent by this CPU in each mode since boot (/proc/stat), in seconds.";

/// The `locks` exports: one family for held locks, one for waiting requests, the
/// mode as a label; `<column>` counts the held locks, `waiting_<column>` the
/// requests (SIReadLock, never waited for, is added after the list).
macro_rules! lock_exports {
    ($($column:ident: $mode:literal),+ $(,)?) => {
        &[
            $(gauge(stringify!($column), "temboard_locks", LOCKS).with(&[("mode", $mode)]),)+
            gauge("siread", "temboard_locks", LOCKS).with(&[("mode", "SIReadLock")]),
            $(gauge(concat!("waiting_", stringify!($column)), "temboard_locks_waiting", LOCKS_WAITING)
                .with(&[("mode", $mode)]),)+
        ]
    };
}

/// Every probe, in the order of the history record's `data`.
#[rustfmt::skip]
pub static PROBES: &[Probe] = &[
    // sessions: what the backends of each database are doing now.
    instance("sessions", sql_list!["sessions.sql"]).exporting(BY_DBNAME, &[
        gauge("active", "temboard_sessions_active",
            "Sessions of this database running a query and not waiting for a lock (state active; see temboard_sessions_waiting)."),
        gauge("idle", "temboard_sessions_idle",
            "Sessions of this database connected and waiting for a command (state idle)."),
        gauge("idle_in_xact", "temboard_sessions_idle_in_transaction",
            "Sessions of this database inside an open transaction but doing nothing (state idle in transaction): they hold locks and hold back vacuum."),
        gauge("idle_in_xact_aborted", "temboard_sessions_idle_in_transaction_aborted",
            "Sessions of this database in a failed transaction not yet rolled back (state idle in transaction (aborted))."),
        gauge("fastpath", "temboard_sessions_fastpath_function_call",
            "Sessions of this database executing a fast-path function call."),
        gauge("disabled", "temboard_sessions_disabled",
            "Sessions of this database whose activity tracking is disabled (track_activities off)."),
        gauge("waiting", "temboard_sessions_waiting",
            "Sessions of this database running a query and waiting for a lock held by another session."),
        gauge("no_priv", "temboard_sessions_no_privilege",
            "Sessions of this database whose state the agent's role is not allowed to see."),
    ]),
    instance("xacts", sql_list!["xacts.sql"])
        .counting(counters(&["dbname"], &["n_commit", "n_rollback"]))
        .exporting(BY_DBNAME, &[
            counter("n_commit", "temboard_xacts_commit_total",
                "Transactions committed in this database since the statistics reset (pg_stat_database.xact_commit)."),
            counter("n_rollback", "temboard_xacts_rollback_total",
                "Transactions rolled back in this database since the statistics reset (pg_stat_database.xact_rollback)."),
        ]),
    instance("locks", sql_list!["locks.sql"]).exporting(BY_DBNAME, lock_exports![
        access_share: "AccessShareLock",
        row_share: "RowShareLock",
        row_exclusive: "RowExclusiveLock",
        share_update_exclusive: "ShareUpdateExclusiveLock",
        share: "ShareLock",
        share_row_exclusive: "ShareRowExclusiveLock",
        exclusive: "ExclusiveLock",
        access_exclusive: "AccessExclusiveLock",
    ]),
    // hitmiss_ratio is computed over an interval: rate() of the counters does it.
    instance("blocks", sql_list!["blocks.sql"])
        .counting(Delta {
            derive: Some(hitmiss_ratio),
            ..counters(&["dbname"], &["blks_read", "blks_hit"])
        })
        .exporting(BY_DBNAME, &[
            counter("blks_read", "temboard_blocks_read_total",
                "Blocks of this database read outside shared buffers (from the OS cache or disk) since the statistics reset."),
            counter("blks_hit", "temboard_blocks_hit_total",
                "Blocks of this database found in shared buffers since the statistics reset."),
        ]),
    instance("bgwriter", &[sql!(0, "bgwriter.sql"), sql!(170000, "bgwriter.170000.sql")])
        .counting(counters(&[], &[
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
        ]))
        .exporting(&[], &[
            counter("checkpoints_timed", "temboard_bgwriter_checkpoints_timed_total",
                "Checkpoints started because checkpoint_timeout elapsed."),
            counter("checkpoints_req", "temboard_bgwriter_checkpoints_requested_total",
                "Checkpoints requested (max_wal_size reached, CHECKPOINT command, ...): many of them mean max_wal_size is too small."),
            counter("checkpoint_write_time", "temboard_bgwriter_checkpoint_write_seconds_total",
                "Time checkpoints spent writing dirty buffers to files, in seconds.")
                .divide(MS),
            counter("checkpoint_sync_time", "temboard_bgwriter_checkpoint_sync_seconds_total",
                "Time checkpoints spent waiting for files to be synced to disk (fsync), in seconds.")
                .divide(MS),
            counter("buffers_checkpoint", "temboard_bgwriter_buffers_checkpoint_total",
                "Buffers written by checkpoints."),
            counter("buffers_clean", "temboard_bgwriter_buffers_clean_total",
                "Buffers written by the background writer."),
            counter("maxwritten_clean", "temboard_bgwriter_maxwritten_clean_total",
                "Times the background writer stopped a round because it wrote bgwriter_lru_maxpages buffers."),
            counter("buffers_backend", "temboard_bgwriter_buffers_backend_total",
                "Buffers written directly by backends, which had to do the background writer's job."),
            counter("buffers_backend_fsync", "temboard_bgwriter_buffers_backend_fsync_total",
                "Times a backend had to call fsync itself because the fsync request queue was full."),
            counter("buffers_alloc", "temboard_bgwriter_buffers_alloc_total",
                "Buffers allocated in shared buffers."),
            gauge("stats_reset", "temboard_bgwriter_stats_reset_timestamp_seconds",
                "When the background writer statistics were last reset, in seconds since the epoch.")
                .timestamp(),
        ]),
    instance("db_size", sql_list!["db_size.sql"]).exporting(BY_DBNAME, &[
        gauge("size", "temboard_database_size_bytes",
            "Disk space used by this database (pg_database_size), in bytes."),
    ]),
    // cpu: /proc/stat times in milliseconds, exported in seconds.
    host("cpu")
        .counting(deltas(
            &["cpu"],
            &["time_user", "time_system", "time_idle", "time_iowait", "time_steal"],
        ))
        .exporting(&[("cpu", "cpu")], &[
            counter("time_user", "temboard_cpu_seconds_total", CPU)
                .divide(MS).with(&[("mode", "user")]),
            counter("time_system", "temboard_cpu_seconds_total", CPU)
                .divide(MS).with(&[("mode", "system")]),
            counter("time_idle", "temboard_cpu_seconds_total", CPU)
                .divide(MS).with(&[("mode", "idle")]),
            counter("time_iowait", "temboard_cpu_seconds_total", CPU)
                .divide(MS).with(&[("mode", "iowait")]),
            counter("time_steal", "temboard_cpu_seconds_total", CPU)
                .divide(MS).with(&[("mode", "steal")]),
        ]),
    host("process")
        .counting(deltas(&[], &["forks", "context_switches"]))
        .exporting(&[], &[
            counter("forks", "temboard_process_forks_total",
                "Processes and threads created on the host since boot."),
            counter("context_switches", "temboard_process_context_switches_total",
                "Context switches on the host since boot."),
            gauge("procs_running", "temboard_processes_running",
                "Processes running or ready to run on the host."),
            gauge("procs_blocked", "temboard_processes_blocked",
                "Processes blocked waiting for I/O on the host."),
            gauge("procs_total", "temboard_processes",
                "Processes and threads on the host."),
        ]),
    host("memory").exporting(&[], &[
        gauge("mem_total", "temboard_memory_total_bytes",
            "Physical memory of the host (MemTotal), in bytes."),
        gauge("mem_used", "temboard_memory_used_bytes",
            "Memory of the host not free (MemTotal - MemFree, buffers and page cache included), in bytes."),
        gauge("mem_free", "temboard_memory_free_bytes",
            "Memory of the host unused (MemFree), in bytes."),
        gauge("mem_buffers", "temboard_memory_buffers_bytes",
            "Memory of the host used by kernel buffers (Buffers), in bytes."),
        gauge("mem_cached", "temboard_memory_cached_bytes",
            "Memory of the host used by the page cache (Cached), in bytes."),
        gauge("swap_total", "temboard_swap_total_bytes",
            "Swap space of the host (SwapTotal), in bytes."),
        gauge("swap_used", "temboard_swap_used_bytes",
            "Swap space of the host in use (SwapTotal - SwapFree), in bytes."),
    ]),
    host("loadavg").exporting(&[], &[
        gauge("load1", "temboard_load1",
            "Load average of the host over 1 minute (processes running or waiting for CPU or disk)."),
        gauge("load5", "temboard_load5", "Load average of the host over 5 minutes."),
        gauge("load15", "temboard_load15", "Load average of the host over 15 minutes."),
    ]),
    host("filesystems_size")
        .exporting(&[("mount_point", "mount_point"), ("device", "device")], &[
            gauge("total", "temboard_filesystem_size_bytes",
                "Size of this filesystem, in bytes."),
            gauge("used", "temboard_filesystem_used_bytes",
                "Space used on this filesystem, in bytes."),
        ]),
    instance("tblspc_size", sql_list!["tblspc_size.sql"])
        .exporting(&[("spcname", "spcname")], &[
            gauge("size", "temboard_tablespace_size_bytes",
                "Disk space used by this tablespace (pg_tablespace_size), in bytes; absent when its location cannot be read."),
        ]),
    // pg_ls_waldir() came with PostgreSQL 10, pg_ls_archive_statusdir() with 12.
    instance("wal_files", &[
        sql!(0, "wal_files.sql", before "monitoring/support/wal_files.sql"),
        sql!(120000, "wal_files.120000.sql", before "monitoring/support/wal_files.sql"),
    ])
        .since(100000)
        .counting(deltas(&[], &["written_size"]))
        .exporting(&[], &[
            gauge("total", "temboard_wal_files",
                "WAL segment files in pg_wal."),
            gauge("archive_ready", "temboard_wal_files_archive_ready",
                "WAL segment files waiting to be archived (.ready): a growing number means archive_command fails or lags."),
            gauge("total_size", "temboard_wal_files_size_bytes",
                "Disk space used by the WAL segment files in pg_wal, in bytes."),
            counter("written_size", "temboard_wal_written_bytes_total",
                "WAL written by the server (its current WAL position), in bytes: its rate is the WAL write throughput."),
        ]),
    // pg_last_wal_receive_lsn() and pg_last_wal_replay_lsn() names.
    instance("replication_lag", sql_list!["replication_lag.sql"])
        .since(100000)
        .exporting(&[], &[
            gauge("lag", "temboard_replication_lag_bytes",
                "On a standby, how far replay is behind the primary, in bytes of WAL."),
        ]),
    instance("temp_files_size_delta", sql_list!["temp_files_size_delta.sql"])
        .counting(counters(&["dbname"], &["size"]))
        .exporting(BY_DBNAME, &[
            counter("size", "temboard_temp_files_written_bytes_total",
                "Data written to temporary files by queries of this database (sorts, hashes larger than work_mem) since the statistics reset, in bytes."),
        ]),
    // pg_stat_wal_receiver.sender_host and sender_port.
    instance("replication_connection", sql_list!["replication_connection.sql"])
        .since(110000)
        .exporting(&[], &[
            gauge("connected", "temboard_replication_connected",
                "On a standby, 1 when the WAL receiver is connected to its upstream server, else 0."),
        ]),
    // Bloat estimates, in percent in the probes.
    expensive_per_database("heap_bloat", &[sql!(0, "heap_bloat.sql", after "bloat/heap.sql")])
        .exporting(BY_DBNAME, &[
            gauge("ratio", "temboard_heap_bloat_ratio",
                "Estimated share of the tables' disk space of this database that is bloat (from statistics; 0 to 1).")
                .divide(PERCENT),
        ]),
    expensive_per_database("btree_bloat", &[sql!(0, "btree_bloat.sql", after "bloat/btree.sql")])
        .exporting(BY_DBNAME, &[
            gauge("ratio", "temboard_btree_bloat_ratio",
                "Estimated share of the B-tree indexes' disk space of this database that is bloat (from statistics; 0 to 1).")
                .divide(PERCENT),
        ]),
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
        // Both variants end with the same body, which reads what they list.
        let body = include_str!("../../sql/monitoring/support/wal_files.sql");
        for (version, listing) in [
            (110022, "pg_ls_dir("),
            (150018, "pg_ls_archive_statusdir()"),
        ] {
            let text = wal_files.sql_for(version).unwrap().text;
            assert!(text.contains(listing) && text.ends_with(body), "{version}");
        }
    }

    #[test]
    fn bloat_probes_aggregate_the_estimates_the_maintenance_pages_use() {
        for (name, estimate) in [
            ("heap_bloat", include_str!("../../sql/bloat/heap.sql")),
            ("btree_bloat", include_str!("../../sql/bloat/btree.sql")),
        ] {
            let text = find(name).unwrap().sql[0].text;
            assert!(text.starts_with(estimate), "{name}");
            assert!(text[estimate.len()..].contains("FROM estimate"), "{name}");
        }
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
            labels: &[],
            exports: &[],
        };
        assert!(P.sql_for(90600).is_none());
        assert_eq!(P.sql_for(150018).unwrap().text, "a");
        assert_eq!(P.sql_for(170000).unwrap().text, "b");
        assert_eq!(P.sql_for(180001).unwrap().text, "b");
    }
}
