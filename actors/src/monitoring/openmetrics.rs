//! The Prometheus text exposition format (version 0.0.4) of the latest collector
//! run and of the latest dashboard sample, for `GET /metrics`. Pure: it renders
//! what it is given and reads nothing (no PostgreSQL, no /proc, no clock).
//!
//! `EXPORTS` is the whole contract: one line per probe column that is exported,
//! with its family name, type, help text and unit conversion. A column that has
//! no line is not exported, so a probe that gains a column never breaks the
//! output. Counters come from the run's raw rows (cumulative, as PostgreSQL and
//! the kernel count them), which is what Prometheus' `rate()` wants; gauges come
//! from the same rows. Samples carry no timestamp: Prometheus stamps them at
//! scrape time, and `temboard_monitoring_last_run_age_seconds` says how old they
//! are.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::collector::LatestRun;
use super::row::Row;
use crate::dashboard::sample::Sample;

/// The Content-Type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A family's Prometheus type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (until a restart or a statistics reset); named `..._total`.
    Counter,
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

/// How a probe value becomes the exported value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Convert {
    /// The number as read (text holding a number is parsed: loadavg).
    AsRead,
    /// Divided by this: milliseconds to seconds (1000), percent to ratio (100).
    Divide(f64),
    /// A point in time (PostgreSQL's text form or an epoch number) to seconds
    /// since the epoch.
    Timestamp,
}

/// One exported probe column.
#[derive(Debug, Clone, Copy)]
pub struct Export {
    pub probe: &'static str,
    pub column: &'static str,
    pub family: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub convert: Convert,
    /// Labels with a fixed value, when several columns share a family (the lock
    /// mode of the `locks` columns, the CPU mode of the `cpu` columns).
    pub fixed: &'static [(&'static str, &'static str)],
}

const fn gauge(
    probe: &'static str,
    column: &'static str,
    family: &'static str,
    help: &'static str,
) -> Export {
    Export {
        probe,
        column,
        family,
        kind: Kind::Gauge,
        help,
        convert: Convert::AsRead,
        fixed: &[],
    }
}

const fn counter(
    probe: &'static str,
    column: &'static str,
    family: &'static str,
    help: &'static str,
) -> Export {
    Export {
        kind: Kind::Counter,
        ..gauge(probe, column, family, help)
    }
}

impl Export {
    const fn divide(self, by: f64) -> Export {
        Export {
            convert: Convert::Divide(by),
            ..self
        }
    }

    const fn timestamp(self) -> Export {
        Export {
            convert: Convert::Timestamp,
            ..self
        }
    }

    const fn with(self, fixed: &'static [(&'static str, &'static str)]) -> Export {
        Export { fixed, ..self }
    }
}

/// The row columns that become labels, per probe: (label name, row column).
/// Rows of other probes have no label (one instance per agent: Prometheus'
/// `instance` label tells the agents apart).
pub static LABELS: &[(&str, &[(&str, &str)])] = &[
    ("sessions", &[("dbname", "dbname")]),
    ("xacts", &[("dbname", "dbname")]),
    ("locks", &[("dbname", "dbname")]),
    ("blocks", &[("dbname", "dbname")]),
    ("db_size", &[("dbname", "dbname")]),
    ("tblspc_size", &[("spcname", "spcname")]),
    (
        "filesystems_size",
        &[("mount_point", "mount_point"), ("device", "device")],
    ),
    ("cpu", &[("cpu", "cpu")]),
    ("temp_files_size_delta", &[("dbname", "dbname")]),
    ("heap_bloat", &[("dbname", "dbname")]),
    ("btree_bloat", &[("dbname", "dbname")]),
];

const MS: f64 = 1000.0;
const PERCENT: f64 = 100.0;

const LOCKS: &str = "Locks held in this database, by lock mode (pg_locks, granted).";
const LOCKS_WAITING: &str =
    "Lock requests waiting in this database, by lock mode (pg_locks, not granted).";
const CPU: &str = "CPU time spent by this CPU in each mode since boot (/proc/stat), in seconds.";

/// Every exported probe column, in output order.
#[rustfmt::skip]
pub static EXPORTS: &[Export] = &[
    // sessions: what the backends of each database are doing now.
    gauge("sessions", "active", "temboard_sessions_active",
        "Sessions of this database running a query and not waiting for a lock (state active; see temboard_sessions_waiting)."),
    gauge("sessions", "idle", "temboard_sessions_idle",
        "Sessions of this database connected and waiting for a command (state idle)."),
    gauge("sessions", "idle_in_xact", "temboard_sessions_idle_in_transaction",
        "Sessions of this database inside an open transaction but doing nothing (state idle in transaction): they hold locks and hold back vacuum."),
    gauge("sessions", "idle_in_xact_aborted", "temboard_sessions_idle_in_transaction_aborted",
        "Sessions of this database in a failed transaction not yet rolled back (state idle in transaction (aborted))."),
    gauge("sessions", "fastpath", "temboard_sessions_fastpath_function_call",
        "Sessions of this database executing a fast-path function call."),
    gauge("sessions", "disabled", "temboard_sessions_disabled",
        "Sessions of this database whose activity tracking is disabled (track_activities off)."),
    gauge("sessions", "waiting", "temboard_sessions_waiting",
        "Sessions of this database running a query and waiting for a lock held by another session."),
    gauge("sessions", "no_priv", "temboard_sessions_no_privilege",
        "Sessions of this database whose state the agent's role is not allowed to see."),
    // xacts
    counter("xacts", "n_commit", "temboard_xacts_commit_total",
        "Transactions committed in this database since the statistics reset (pg_stat_database.xact_commit)."),
    counter("xacts", "n_rollback", "temboard_xacts_rollback_total",
        "Transactions rolled back in this database since the statistics reset (pg_stat_database.xact_rollback)."),
    // locks: one family for held locks, one for waiting requests, the mode as a label.
    gauge("locks", "access_share", "temboard_locks", LOCKS).with(&[("mode", "AccessShareLock")]),
    gauge("locks", "row_share", "temboard_locks", LOCKS).with(&[("mode", "RowShareLock")]),
    gauge("locks", "row_exclusive", "temboard_locks", LOCKS).with(&[("mode", "RowExclusiveLock")]),
    gauge("locks", "share_update_exclusive", "temboard_locks", LOCKS)
        .with(&[("mode", "ShareUpdateExclusiveLock")]),
    gauge("locks", "share", "temboard_locks", LOCKS).with(&[("mode", "ShareLock")]),
    gauge("locks", "share_row_exclusive", "temboard_locks", LOCKS)
        .with(&[("mode", "ShareRowExclusiveLock")]),
    gauge("locks", "exclusive", "temboard_locks", LOCKS).with(&[("mode", "ExclusiveLock")]),
    gauge("locks", "access_exclusive", "temboard_locks", LOCKS)
        .with(&[("mode", "AccessExclusiveLock")]),
    gauge("locks", "siread", "temboard_locks", LOCKS).with(&[("mode", "SIReadLock")]),
    gauge("locks", "waiting_access_share", "temboard_locks_waiting", LOCKS_WAITING)
        .with(&[("mode", "AccessShareLock")]),
    gauge("locks", "waiting_row_share", "temboard_locks_waiting", LOCKS_WAITING)
        .with(&[("mode", "RowShareLock")]),
    gauge("locks", "waiting_row_exclusive", "temboard_locks_waiting", LOCKS_WAITING)
        .with(&[("mode", "RowExclusiveLock")]),
    gauge("locks", "waiting_share_update_exclusive", "temboard_locks_waiting", LOCKS_WAITING)
        .with(&[("mode", "ShareUpdateExclusiveLock")]),
    gauge("locks", "waiting_share", "temboard_locks_waiting", LOCKS_WAITING)
        .with(&[("mode", "ShareLock")]),
    gauge("locks", "waiting_share_row_exclusive", "temboard_locks_waiting", LOCKS_WAITING)
        .with(&[("mode", "ShareRowExclusiveLock")]),
    gauge("locks", "waiting_exclusive", "temboard_locks_waiting", LOCKS_WAITING)
        .with(&[("mode", "ExclusiveLock")]),
    gauge("locks", "waiting_access_exclusive", "temboard_locks_waiting", LOCKS_WAITING)
        .with(&[("mode", "AccessExclusiveLock")]),
    // blocks (hitmiss_ratio is computed over an interval: rate() of these does it).
    counter("blocks", "blks_read", "temboard_blocks_read_total",
        "Blocks of this database read outside shared buffers (from the OS cache or disk) since the statistics reset."),
    counter("blocks", "blks_hit", "temboard_blocks_hit_total",
        "Blocks of this database found in shared buffers since the statistics reset."),
    // bgwriter
    counter("bgwriter", "checkpoints_timed", "temboard_bgwriter_checkpoints_timed_total",
        "Checkpoints started because checkpoint_timeout elapsed."),
    counter("bgwriter", "checkpoints_req", "temboard_bgwriter_checkpoints_requested_total",
        "Checkpoints requested (max_wal_size reached, CHECKPOINT command, ...): many of them mean max_wal_size is too small."),
    counter("bgwriter", "checkpoint_write_time", "temboard_bgwriter_checkpoint_write_seconds_total",
        "Time checkpoints spent writing dirty buffers to files, in seconds.")
        .divide(MS),
    counter("bgwriter", "checkpoint_sync_time", "temboard_bgwriter_checkpoint_sync_seconds_total",
        "Time checkpoints spent waiting for files to be synced to disk (fsync), in seconds.")
        .divide(MS),
    counter("bgwriter", "buffers_checkpoint", "temboard_bgwriter_buffers_checkpoint_total",
        "Buffers written by checkpoints."),
    counter("bgwriter", "buffers_clean", "temboard_bgwriter_buffers_clean_total",
        "Buffers written by the background writer."),
    counter("bgwriter", "maxwritten_clean", "temboard_bgwriter_maxwritten_clean_total",
        "Times the background writer stopped a round because it wrote bgwriter_lru_maxpages buffers."),
    counter("bgwriter", "buffers_backend", "temboard_bgwriter_buffers_backend_total",
        "Buffers written directly by backends, which had to do the background writer's job."),
    counter("bgwriter", "buffers_backend_fsync", "temboard_bgwriter_buffers_backend_fsync_total",
        "Times a backend had to call fsync itself because the fsync request queue was full."),
    counter("bgwriter", "buffers_alloc", "temboard_bgwriter_buffers_alloc_total",
        "Buffers allocated in shared buffers."),
    gauge("bgwriter", "stats_reset", "temboard_bgwriter_stats_reset_timestamp_seconds",
        "When the background writer statistics were last reset, in seconds since the epoch.")
        .timestamp(),
    // sizes
    gauge("db_size", "size", "temboard_database_size_bytes",
        "Disk space used by this database (pg_database_size), in bytes."),
    gauge("tblspc_size", "size", "temboard_tablespace_size_bytes",
        "Disk space used by this tablespace (pg_tablespace_size), in bytes; absent when its location cannot be read."),
    gauge("filesystems_size", "total", "temboard_filesystem_size_bytes",
        "Size of this filesystem, in bytes."),
    gauge("filesystems_size", "used", "temboard_filesystem_used_bytes",
        "Space used on this filesystem, in bytes."),
    // cpu: /proc/stat times in milliseconds, exported in seconds.
    counter("cpu", "time_user", "temboard_cpu_seconds_total", CPU)
        .divide(MS).with(&[("mode", "user")]),
    counter("cpu", "time_system", "temboard_cpu_seconds_total", CPU)
        .divide(MS).with(&[("mode", "system")]),
    counter("cpu", "time_idle", "temboard_cpu_seconds_total", CPU)
        .divide(MS).with(&[("mode", "idle")]),
    counter("cpu", "time_iowait", "temboard_cpu_seconds_total", CPU)
        .divide(MS).with(&[("mode", "iowait")]),
    counter("cpu", "time_steal", "temboard_cpu_seconds_total", CPU)
        .divide(MS).with(&[("mode", "steal")]),
    // process
    counter("process", "forks", "temboard_process_forks_total",
        "Processes and threads created on the host since boot."),
    counter("process", "context_switches", "temboard_process_context_switches_total",
        "Context switches on the host since boot."),
    gauge("process", "procs_running", "temboard_processes_running",
        "Processes running or ready to run on the host."),
    gauge("process", "procs_blocked", "temboard_processes_blocked",
        "Processes blocked waiting for I/O on the host."),
    gauge("process", "procs_total", "temboard_processes",
        "Processes and threads on the host."),
    // memory
    gauge("memory", "mem_total", "temboard_memory_total_bytes",
        "Physical memory of the host (MemTotal), in bytes."),
    gauge("memory", "mem_used", "temboard_memory_used_bytes",
        "Memory of the host not free (MemTotal - MemFree, buffers and page cache included), in bytes."),
    gauge("memory", "mem_free", "temboard_memory_free_bytes",
        "Memory of the host unused (MemFree), in bytes."),
    gauge("memory", "mem_buffers", "temboard_memory_buffers_bytes",
        "Memory of the host used by kernel buffers (Buffers), in bytes."),
    gauge("memory", "mem_cached", "temboard_memory_cached_bytes",
        "Memory of the host used by the page cache (Cached), in bytes."),
    gauge("memory", "swap_total", "temboard_swap_total_bytes",
        "Swap space of the host (SwapTotal), in bytes."),
    gauge("memory", "swap_used", "temboard_swap_used_bytes",
        "Swap space of the host in use (SwapTotal - SwapFree), in bytes."),
    // loadavg
    gauge("loadavg", "load1", "temboard_load1",
        "Load average of the host over 1 minute (processes running or waiting for CPU or disk)."),
    gauge("loadavg", "load5", "temboard_load5", "Load average of the host over 5 minutes."),
    gauge("loadavg", "load15", "temboard_load15", "Load average of the host over 15 minutes."),
    // wal_files
    gauge("wal_files", "total", "temboard_wal_files",
        "WAL segment files in pg_wal."),
    gauge("wal_files", "archive_ready", "temboard_wal_files_archive_ready",
        "WAL segment files waiting to be archived (.ready): a growing number means archive_command fails or lags."),
    gauge("wal_files", "total_size", "temboard_wal_files_size_bytes",
        "Disk space used by the WAL segment files in pg_wal, in bytes."),
    counter("wal_files", "written_size", "temboard_wal_written_bytes_total",
        "WAL written by the server (its current WAL position), in bytes: its rate is the WAL write throughput."),
    // replication
    gauge("replication_lag", "lag", "temboard_replication_lag_bytes",
        "On a standby, how far replay is behind the primary, in bytes of WAL."),
    gauge("replication_connection", "connected", "temboard_replication_connected",
        "On a standby, 1 when the WAL receiver is connected to its upstream server, else 0."),
    // temporary files
    counter("temp_files_size_delta", "size", "temboard_temp_files_written_bytes_total",
        "Data written to temporary files by queries of this database (sorts, hashes larger than work_mem) since the statistics reset, in bytes."),
    // bloat estimates, in percent in the probes
    gauge("heap_bloat", "ratio", "temboard_heap_bloat_ratio",
        "Estimated share of the tables' disk space of this database that is bloat (from statistics; 0 to 1).")
        .divide(PERCENT),
    gauge("btree_bloat", "ratio", "temboard_btree_bloat_ratio",
        "Estimated share of the B-tree indexes' disk space of this database that is bloat (from statistics; 0 to 1).")
        .divide(PERCENT),
];

/// A sample value, integers kept exact.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl Num {
    fn f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::UInt(u) => u as f64,
            Num::Float(f) => f,
        }
    }

    fn render(self) -> String {
        match self {
            Num::Int(i) => i.to_string(),
            Num::UInt(u) => u.to_string(),
            Num::Float(f) if f.is_nan() => "NaN".to_string(),
            Num::Float(f) if f.is_infinite() => if f > 0.0 { "+Inf" } else { "-Inf" }.to_string(),
            Num::Float(f) => f.to_string(),
        }
    }
}

/// A JSON value as a number: numbers, text holding a number, booleans as 1/0.
fn number(value: &Value) -> Option<Num> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(Num::Int)
            .or_else(|| n.as_u64().map(Num::UInt))
            .or_else(|| n.as_f64().map(Num::Float)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .map(Num::Int)
                .or_else(|_| s.parse::<f64>().map(Num::Float))
                .ok()
                .filter(|n| !matches!(n, Num::Float(f) if !f.is_finite()))
        }
        Value::Bool(b) => Some(Num::Int(i64::from(*b))),
        _ => None,
    }
}

/// A point in time as seconds since the epoch: an epoch number, PostgreSQL's text
/// form of a timestamptz (`2017-04-14 13:37:15.288701+02`) or ISO 8601.
fn timestamp(value: &Value) -> Option<Num> {
    if let Value::Number(_) = value {
        return number(value);
    }
    let text = value.as_str()?.trim();
    let at = DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .ok()?;
    Some(Num::Float(at.timestamp_micros() as f64 / 1e6))
}

fn convert(value: &Value, how: Convert) -> Option<Num> {
    match how {
        Convert::AsRead => number(value),
        Convert::Divide(by) => number(value).map(|n| Num::Float(n.f64() / by)),
        Convert::Timestamp => timestamp(value),
    }
}

/// A label value as the format wants it: backslash, double quote and line feed
/// escaped.
pub fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A HELP text as the format wants it: backslash and line feed escaped.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A label taken from a row: text as is, numbers written out; none for null.
fn label_value(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

struct Family {
    name: &'static str,
    kind: Kind,
    help: &'static str,
    /// (rendered label set, value), in order of arrival.
    samples: Vec<(String, Num)>,
    seen: HashSet<String>,
}

/// The families being built, in order of their first sample.
#[derive(Default)]
struct Families {
    list: Vec<Family>,
    index: HashMap<&'static str, usize>,
}

impl Families {
    fn add(
        &mut self,
        name: &'static str,
        kind: Kind,
        help: &'static str,
        labels: &[(&str, String)],
        value: Num,
    ) {
        let i = *self.index.entry(name).or_insert_with(|| {
            self.list.push(Family {
                name,
                kind,
                help,
                samples: Vec::new(),
                seen: HashSet::new(),
            });
            self.list.len() - 1
        });
        let mut rendered = String::new();
        if !labels.is_empty() {
            rendered.push('{');
            for (n, (label, value)) in labels.iter().enumerate() {
                if n > 0 {
                    rendered.push(',');
                }
                let _ = write!(rendered, "{label}=\"{}\"", escape_label_value(value));
            }
            rendered.push('}');
        }
        // Two rows with the same labels would make the whole scrape invalid:
        // the first one wins.
        let family = &mut self.list[i];
        if family.seen.insert(rendered.clone()) {
            family.samples.push((rendered, value));
        }
    }

    fn gauge(&mut self, name: &'static str, help: &'static str, value: Num) {
        self.add(name, Kind::Gauge, help, &[], value);
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for f in self.list.iter().filter(|f| !f.samples.is_empty()) {
            let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(f.help));
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
            for (labels, value) in &f.samples {
                let _ = writeln!(out, "{}{labels} {}", f.name, value.render());
            }
        }
        out
    }
}

fn probe_labels(probe: &str) -> &'static [(&'static str, &'static str)] {
    LABELS
        .iter()
        .find(|(p, _)| *p == probe)
        .map(|(_, l)| *l)
        .unwrap_or(&[])
}

/// The exported samples of one probe's rows.
fn add_probe(families: &mut Families, probe: &str, rows: &[Row]) {
    let row_labels = probe_labels(probe);
    for export in EXPORTS.iter().filter(|e| e.probe == probe) {
        for row in rows {
            let Some(value) = row
                .get(export.column)
                .and_then(|v| convert(v, export.convert))
            else {
                continue;
            };
            let mut labels: Vec<(&str, String)> = row_labels
                .iter()
                .filter_map(|(label, column)| Some((*label, label_value(row.get(*column)?)?)))
                .collect();
            labels.extend(export.fixed.iter().map(|(l, v)| (*l, v.to_string())));
            families.add(export.family, export.kind, export.help, &labels, value);
        }
    }
}

fn add_run(families: &mut Families, now: DateTime<Utc>, run: &LatestRun) {
    families.gauge(
        "temboard_monitoring_last_run_timestamp_seconds",
        "When the last monitoring collector run started, in seconds since the epoch.",
        Num::Float(run.at.timestamp_micros() as f64 / 1e6),
    );
    let age = (now - run.at).num_milliseconds().max(0) as f64 / 1000.0;
    families.gauge(
        "temboard_monitoring_last_run_age_seconds",
        "Age of the last monitoring collector run, whose values this scrape shows, in seconds. Much more than [monitoring] scheduler_interval means the collector is stuck.",
        Num::Float(age),
    );
    families.gauge(
        "temboard_postgres_up",
        "1 when PostgreSQL answered the last monitoring collector run, 0 when it did not.",
        Num::Int(i64::from(run.postgres_up)),
    );
    let mut probes: Vec<&str> = EXPORTS.iter().map(|e| e.probe).collect();
    probes.dedup();
    for probe in probes {
        if let Some(rows) = run.raw.get(probe) {
            add_probe(families, probe, rows);
        }
    }
}

/// A dashboard percentage (one decimal) as a ratio, without the binary noise of
/// the division (32.9 % is 0.329, not 0.32899999999999996).
fn ratio(percent: f64) -> Num {
    Num::Float((percent * 1e4).round() / 1e6)
}

fn add_dashboard(families: &mut Families, sample: &Sample) {
    let host = &sample.host;
    let info: Vec<(&str, String)> = [
        ("hostname", Some(host.hostname.clone())),
        ("os_version", Some(host.os_version.clone())),
        ("pg_version", sample.pg.pg_version.clone()),
    ]
    .into_iter()
    .filter_map(|(l, v)| Some((l, v?)))
    .collect();
    families.add(
        "temboard_info",
        Kind::Gauge,
        "Always 1: the host name, operating system and PostgreSQL version as labels (from the last dashboard sample).",
        &info,
        Num::Int(1),
    );
    const CPU_RATIO: &str =
        "Share of the host's CPU time spent in each mode over the last dashboard interval (0 to 1).";
    let cpu = &host.cpu;
    for (mode, percent) in [
        ("user", cpu.user),
        ("system", cpu.system),
        ("idle", cpu.idle),
        ("iowait", cpu.iowait),
        ("steal", cpu.steal),
    ] {
        families.add(
            "temboard_dashboard_cpu_ratio",
            Kind::Gauge,
            CPU_RATIO,
            &[("mode", mode.to_string())],
            ratio(percent),
        );
    }
    families.gauge(
        "temboard_dashboard_cpus",
        "CPUs of the host.",
        Num::UInt(host.n_cpu as u64),
    );
    families.gauge(
        "temboard_dashboard_load1",
        "Load average of the host over 1 minute, at the last dashboard sample.",
        Num::Float(host.loadaverage),
    );
    let memory = &host.memory;
    families.gauge(
        "temboard_dashboard_memory_total_bytes",
        "Physical memory of the host (MemTotal), in bytes.",
        Num::UInt(memory.total.saturating_mul(1024)),
    );
    const MEMORY_RATIO: &str = "Share of the host's memory by use at the last dashboard sample (0 to 1): active (neither free nor page cache), cached, free.";
    for (kind, percent) in [
        ("active", memory.active),
        ("cached", memory.cached),
        ("free", memory.free),
    ] {
        families.add(
            "temboard_dashboard_memory_ratio",
            Kind::Gauge,
            MEMORY_RATIO,
            &[("kind", kind.to_string())],
            ratio(percent),
        );
    }
    let pg = &sample.pg;
    if let Some(active) = pg.active_backends {
        families.gauge(
            "temboard_dashboard_active_backends",
            "Backends running a query at the last dashboard sample.",
            Num::Int(active.nb),
        );
    }
    if let Some(max) = pg.max_connections {
        families.gauge(
            "temboard_dashboard_max_connections",
            "The max_connections setting of the instance.",
            Num::Int(i64::from(max)),
        );
    }
    if let Some(hit) = pg.hitratio {
        families.gauge(
            "temboard_dashboard_hit_ratio",
            "Share of block reads of the instance found in shared buffers, at the last dashboard sample (0 to 1).",
            ratio(hit),
        );
    }
    if let Some(buffers) = pg.buffers {
        families.add(
            "temboard_dashboard_buffers_alloc_total",
            Kind::Counter,
            "Buffers allocated in shared buffers since the statistics reset (pg_stat_bgwriter.buffers_alloc), at the last dashboard sample.",
            &[],
            Num::Int(buffers.nb),
        );
    }
    if let Some(db) = &pg.databases {
        families.gauge(
            "temboard_dashboard_databases",
            "Databases of the instance.",
            Num::Int(db.databases),
        );
        families.add(
            "temboard_dashboard_commits_total",
            Kind::Counter,
            "Transactions committed in all databases since the statistics reset, at the last dashboard sample.",
            &[],
            Num::Int(db.total_commit),
        );
        families.add(
            "temboard_dashboard_rollbacks_total",
            Kind::Counter,
            "Transactions rolled back in all databases since the statistics reset, at the last dashboard sample.",
            &[],
            Num::Int(db.total_rollback),
        );
    }
}

/// The exposition of the latest collector run (if one finished) and the latest
/// dashboard sample (if one was taken), as of `now`.
pub fn render(now: DateTime<Utc>, run: Option<&LatestRun>, dashboard: Option<&Sample>) -> String {
    let mut families = Families::default();
    if let Some(run) = run {
        add_run(&mut families, now, run);
    }
    if let Some(sample) = dashboard {
        add_dashboard(&mut families, sample);
    }
    families.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::sample::{Counter, Databases, HostPart, PgFields};
    use crate::host::cpu::CpuUsage;
    use crate::host::memory::MemoryUsage;
    use chrono::TimeZone;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn rows(v: Value) -> Vec<Row> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().clone())
            .collect()
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 6, 44, 17).unwrap()
    }

    fn run(raw: Vec<(&'static str, Value)>) -> LatestRun {
        LatestRun {
            at: at(),
            // As the collector says when a PostgreSQL probe has rows.
            postgres_up: raw.iter().any(|(p, _)| *p != "memory" && *p != "loadavg"),
            data: BTreeMap::new(),
            raw: raw.into_iter().map(|(p, v)| (p, rows(v))).collect(),
        }
    }

    fn render_run(raw: Vec<(&'static str, Value)>) -> String {
        let out = render(at() + chrono::Duration::seconds(3), Some(&run(raw)), None);
        check_format(&out);
        out
    }

    /// Sample lines of `out` for `family` (name followed by `{` or a space).
    fn lines<'a>(out: &'a str, family: &str) -> Vec<&'a str> {
        out.lines()
            .filter(|l| {
                l.strip_prefix(family)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .collect()
    }

    fn is_name(s: &str) -> bool {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    /// Parses a label set `{a="x",b="y"}`, escapes included; None when malformed.
    fn parse_labels(s: &str) -> Option<Vec<(String, String)>> {
        let mut out = Vec::new();
        let mut rest = s.strip_prefix('{')?;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                return after.is_empty().then_some(out);
            }
            let (name, after) = rest.split_once("=\"")?;
            if !is_name(name) || name.contains(':') {
                return None;
            }
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                let (i, c) = chars.next()?;
                match c {
                    '\\' => match chars.next()?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        _ => return None,
                    },
                    '"' => break i,
                    '\n' => return None,
                    c => value.push(c),
                }
            };
            out.push((name.to_string(), value));
            rest = &after[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }

    /// The text format's grammar, strictly: HELP then TYPE then the family's
    /// samples, each family once, counters named `_total`, valid names, labels
    /// and values, no duplicate series.
    fn check_format(out: &str) {
        let mut done: HashSet<String> = HashSet::new();
        let mut series: HashSet<String> = HashSet::new();
        let mut lines = out.lines().peekable();
        assert!(out.ends_with('\n'), "no final line feed");
        while let Some(line) = lines.next() {
            let help = line
                .strip_prefix("# HELP ")
                .unwrap_or_else(|| panic!("expected HELP, got {line:?}"));
            let (name, text) = help.split_once(' ').expect("HELP name text");
            assert!(is_name(name), "{name}");
            assert!(!text.trim().is_empty(), "{name}: empty help");
            assert!(done.insert(name.to_string()), "{name}: family twice");
            let ty = lines.next().expect("TYPE after HELP");
            let kind = ty
                .strip_prefix(&format!("# TYPE {name} "))
                .unwrap_or_else(|| panic!("expected TYPE of {name}, got {ty:?}"));
            assert!(["counter", "gauge"].contains(&kind), "{ty}");
            assert_eq!(kind == "counter", name.ends_with("_total"), "{name} {kind}");
            let mut count = 0;
            while lines.peek().is_some_and(|l| !l.starts_with('#')) {
                let sample = lines.next().unwrap();
                let rest = sample.strip_prefix(name).expect("sample of its family");
                let (labels, value) = if rest.starts_with('{') {
                    let end = rest.rfind('}').expect("closing brace");
                    let labels = parse_labels(&rest[..=end])
                        .unwrap_or_else(|| panic!("bad labels: {sample}"));
                    (labels, &rest[end + 1..])
                } else {
                    (Vec::new(), rest)
                };
                let value = value.strip_prefix(' ').expect("space before value");
                assert!(
                    value.parse::<f64>().is_ok() || ["NaN", "+Inf", "-Inf"].contains(&value),
                    "bad value: {sample}"
                );
                assert!(
                    series.insert(format!("{name}{labels:?}")),
                    "duplicate series: {sample}"
                );
                count += 1;
            }
            assert!(count > 0, "{name}: no sample");
        }
    }

    fn sample() -> Sample {
        Sample {
            host: HostPart {
                hostname: "db1.example".to_string(),
                os_version: "Linux 6.1.0".to_string(),
                n_cpu: 4,
                cpu: CpuUsage {
                    user: 2.5,
                    system: 1.0,
                    idle: 96.5,
                    iowait: 0.0,
                    steal: 0.0,
                },
                loadaverage: 0.28,
                memory: MemoryUsage {
                    total: 3950660,
                    active: 46.9,
                    cached: 20.2,
                    free: 32.9,
                },
                cpu_models: Default::default(),
                linux_distribution: String::new(),
            },
            pg: PgFields {
                buffers: Some(Counter {
                    nb: 348247,
                    time: 1.0,
                }),
                hitratio: Some(98.0),
                active_backends: Some(Counter { nb: 3, time: 1.0 }),
                max_connections: Some(100),
                databases: Some(Databases {
                    databases: 4,
                    total_size: "1242 MB".to_string(),
                    time: "14:02".to_string(),
                    total_commit: 16728291,
                    total_rollback: 873,
                    timestamp: 1.0,
                }),
                pg_version: Some("PostgreSQL 15.18 on x86_64".to_string()),
                ..PgFields::default()
            },
        }
    }

    #[test]
    fn the_table_is_consistent() {
        let mut families: HashMap<&str, (Kind, &str)> = HashMap::new();
        let mut columns = HashSet::new();
        for e in EXPORTS {
            assert!(
                is_name(e.family) && e.family.starts_with("temboard_"),
                "{}",
                e.family
            );
            assert_eq!(
                e.kind == Kind::Counter,
                e.family.ends_with("_total"),
                "{}",
                e.family
            );
            assert!(!e.help.is_empty());
            assert!(
                columns.insert((e.probe, e.column)),
                "{}.{} twice",
                e.probe,
                e.column
            );
            let (kind, help) = *families.entry(e.family).or_insert((e.kind, e.help));
            assert_eq!(
                (kind, help),
                (e.kind, e.help),
                "{}: one type and help",
                e.family
            );
            for (label, _) in e.fixed.iter().chain(probe_labels(e.probe)) {
                assert!(is_name(label) && !label.starts_with("__"), "{label}");
            }
        }
        // Every probe of the registry exports something.
        for p in crate::monitoring::registry::PROBES {
            assert!(
                EXPORTS.iter().any(|e| e.probe == p.name),
                "{}: nothing exported",
                p.name
            );
        }
    }

    #[test]
    fn before_any_run_or_sample_the_exposition_is_empty() {
        assert_eq!(render(at(), None, None), "");
    }

    #[test]
    fn run_gauges_say_when_and_whether_postgresql_answered() {
        let out = render_run(vec![
            (
                "db_size",
                json!([{"dbname": "postgres", "size": 7880039, "port": 5432}]),
            ),
            ("memory", json!([{"mem_total": 1024}])),
        ]);
        assert!(out.contains("\ntemboard_postgres_up 1\n"), "{out}");
        assert!(
            out.contains("\ntemboard_monitoring_last_run_age_seconds 3\n"),
            "{out}"
        );
        assert!(
            out.contains("\ntemboard_monitoring_last_run_timestamp_seconds 1795934657\n"),
            "{out}"
        );
        // PostgreSQL down: only the host probes have results.
        let out = render_run(vec![("memory", json!([{"mem_total": 1024}]))]);
        assert!(out.contains("\ntemboard_postgres_up 0\n"), "{out}");
    }

    #[test]
    fn sessions_one_family_per_state() {
        let out = render_run(vec![(
            "sessions",
            json!([{"dbname": "postgres", "active": 1, "waiting": 0, "idle": 2, "idle_in_xact": 3,
                    "idle_in_xact_aborted": 0, "fastpath": 0, "disabled": 0, "no_priv": 4,
                    "port": 5432, "datetime": "2026-11-29T06:44:17.818063+00:00"}]),
        )]);
        assert_eq!(
            lines(&out, "temboard_sessions_active"),
            ["temboard_sessions_active{dbname=\"postgres\"} 1"]
        );
        assert_eq!(
            lines(&out, "temboard_sessions_idle"),
            ["temboard_sessions_idle{dbname=\"postgres\"} 2"]
        );
        assert_eq!(
            lines(&out, "temboard_sessions_idle_in_transaction"),
            ["temboard_sessions_idle_in_transaction{dbname=\"postgres\"} 3"]
        );
        assert_eq!(
            lines(&out, "temboard_sessions_no_privilege"),
            ["temboard_sessions_no_privilege{dbname=\"postgres\"} 4"]
        );
        assert!(out.contains("# TYPE temboard_sessions_waiting gauge\n"));
        assert!(!out.contains("port="), "port is not a label");
        assert!(!out.contains("datetime"));
    }

    #[test]
    fn xacts_and_blocks_are_counters() {
        let out = render_run(vec![
            (
                "xacts",
                json!([{"dbname": "a", "n_commit": 120, "n_rollback": 3},
                             {"dbname": "b", "n_commit": 7, "n_rollback": 0}]),
            ),
            (
                "blocks",
                json!([{"dbname": "a", "blks_read": 382, "blks_hit": 224042580,
                              "hitmiss_ratio": 99.9}]),
            ),
        ]);
        assert!(out.contains("# TYPE temboard_xacts_commit_total counter\n"));
        assert_eq!(
            lines(&out, "temboard_xacts_commit_total"),
            [
                "temboard_xacts_commit_total{dbname=\"a\"} 120",
                "temboard_xacts_commit_total{dbname=\"b\"} 7"
            ]
        );
        assert_eq!(
            lines(&out, "temboard_xacts_rollback_total")[0],
            "temboard_xacts_rollback_total{dbname=\"a\"} 3"
        );
        assert_eq!(
            lines(&out, "temboard_blocks_hit_total"),
            ["temboard_blocks_hit_total{dbname=\"a\"} 224042580"]
        );
        assert_eq!(
            lines(&out, "temboard_blocks_read_total"),
            ["temboard_blocks_read_total{dbname=\"a\"} 382"]
        );
        assert!(
            !out.contains("hitmiss"),
            "an interval ratio is not exported"
        );
    }

    #[test]
    fn locks_are_two_families_with_the_mode_as_label() {
        let mut row = json!({"dbname": "test", "port": 5432});
        for (i, mode) in [
            "access_share",
            "row_share",
            "row_exclusive",
            "share_update_exclusive",
            "share",
            "share_row_exclusive",
            "exclusive",
            "access_exclusive",
        ]
        .into_iter()
        .enumerate()
        {
            row[mode] = json!(i);
            row[format!("waiting_{mode}")] = json!(i * 10);
        }
        row["siread"] = json!(9);
        let out = render_run(vec![("locks", json!([row]))]);
        let held = lines(&out, "temboard_locks");
        assert_eq!(held.len(), 9, "{out}");
        assert!(held.contains(&"temboard_locks{dbname=\"test\",mode=\"AccessExclusiveLock\"} 7"));
        assert!(held.contains(&"temboard_locks{dbname=\"test\",mode=\"SIReadLock\"} 9"));
        let waiting = lines(&out, "temboard_locks_waiting");
        assert_eq!(waiting.len(), 8);
        assert!(
            waiting.contains(&"temboard_locks_waiting{dbname=\"test\",mode=\"RowShareLock\"} 10")
        );
        assert_eq!(out.matches("# TYPE temboard_locks gauge").count(), 1);
    }

    #[test]
    fn bgwriter_times_in_seconds_and_stats_reset_as_a_timestamp() {
        let out = render_run(vec![(
            "bgwriter",
            json!([{"checkpoint_write_time": 15113301.0, "checkpoints_timed": 1960,
                    "buffers_alloc": 29369, "buffers_clean": 0, "buffers_backend_fsync": 0,
                    "checkpoint_sync_time": 177464.0, "checkpoints_req": 2, "port": 5432,
                    "buffers_backend": 42258, "maxwritten_clean": 0, "buffers_checkpoint": 149393,
                    "stats_reset": "2017-04-14 13:37:15.288701+02"}]),
        )]);
        assert_eq!(
            lines(&out, "temboard_bgwriter_checkpoint_write_seconds_total"),
            ["temboard_bgwriter_checkpoint_write_seconds_total 15113.301"]
        );
        assert_eq!(
            lines(&out, "temboard_bgwriter_checkpoint_sync_seconds_total"),
            ["temboard_bgwriter_checkpoint_sync_seconds_total 177.464"]
        );
        assert_eq!(
            lines(&out, "temboard_bgwriter_checkpoints_requested_total"),
            ["temboard_bgwriter_checkpoints_requested_total 2"]
        );
        assert_eq!(
            lines(&out, "temboard_bgwriter_stats_reset_timestamp_seconds"),
            ["temboard_bgwriter_stats_reset_timestamp_seconds 1492169835.288701"]
        );
        assert_eq!(out.matches("# TYPE temboard_bgwriter_").count(), 11);
    }

    #[test]
    fn sizes_with_their_labels_and_a_null_size_skipped() {
        let out = render_run(vec![
            (
                "db_size",
                json!([{"dbname": "template1", "size": 7021060},
                               {"dbname": "postgres", "size": 7168172}]),
            ),
            (
                "tblspc_size",
                json!([{"spcname": "pg_default", "size": 181067120},
                                   {"spcname": "tbs", "size": null}]),
            ),
            (
                "filesystems_size",
                json!([{"device": "/dev/sda4", "total": 21003628544_i64,
                                         "mount_point": "/", "used": 11889070080_i64}]),
            ),
        ]);
        assert_eq!(
            lines(&out, "temboard_database_size_bytes"),
            [
                "temboard_database_size_bytes{dbname=\"template1\"} 7021060",
                "temboard_database_size_bytes{dbname=\"postgres\"} 7168172"
            ]
        );
        assert_eq!(
            lines(&out, "temboard_tablespace_size_bytes"),
            ["temboard_tablespace_size_bytes{spcname=\"pg_default\"} 181067120"]
        );
        assert_eq!(
            lines(&out, "temboard_filesystem_size_bytes"),
            ["temboard_filesystem_size_bytes{mount_point=\"/\",device=\"/dev/sda4\"} 21003628544"]
        );
        assert_eq!(
            lines(&out, "temboard_filesystem_used_bytes"),
            ["temboard_filesystem_used_bytes{mount_point=\"/\",device=\"/dev/sda4\"} 11889070080"]
        );
    }

    #[test]
    fn cpu_times_are_one_counter_in_seconds_by_cpu_and_mode() {
        let out = render_run(vec![(
            "cpu",
            json!([{"cpu": "cpu0", "time_user": 290, "time_system": 140, "time_idle": 27410,
                    "time_iowait": 10, "time_steal": 0},
                   {"cpu": "cpu1", "time_user": 1290, "time_system": 110, "time_idle": 27410,
                    "time_iowait": 10, "time_steal": 0}]),
        )]);
        let cpu = lines(&out, "temboard_cpu_seconds_total");
        assert_eq!(cpu.len(), 10);
        assert!(cpu.contains(&"temboard_cpu_seconds_total{cpu=\"cpu0\",mode=\"user\"} 0.29"));
        assert!(cpu.contains(&"temboard_cpu_seconds_total{cpu=\"cpu1\",mode=\"user\"} 1.29"));
        assert!(cpu.contains(&"temboard_cpu_seconds_total{cpu=\"cpu0\",mode=\"idle\"} 27.41"));
        assert!(out.contains("# TYPE temboard_cpu_seconds_total counter\n"));
    }

    #[test]
    fn process_counters_and_gauges_text_numbers_parsed() {
        let out = render_run(vec![(
            "process",
            json!([{"procs_total": "486", "forks": 165, "procs_blocked": 0,
                    "context_switches": 31453, "procs_running": 4}]),
        )]);
        assert_eq!(
            lines(&out, "temboard_processes"),
            ["temboard_processes 486"]
        );
        assert_eq!(
            lines(&out, "temboard_processes_running"),
            ["temboard_processes_running 4"]
        );
        assert_eq!(
            lines(&out, "temboard_processes_blocked"),
            ["temboard_processes_blocked 0"]
        );
        assert_eq!(
            lines(&out, "temboard_process_forks_total"),
            ["temboard_process_forks_total 165"]
        );
        assert_eq!(
            lines(&out, "temboard_process_context_switches_total"),
            ["temboard_process_context_switches_total 31453"]
        );
    }

    #[test]
    fn memory_and_loadavg() {
        let out = render_run(vec![
            (
                "memory",
                json!([{"mem_used": 7268151296_i64, "swap_used": 0, "swap_total": 4026527744_i64,
                              "mem_total": 8276094976_i64, "mem_cached": 2464796672_i64,
                              "mem_free": 1007943680, "mem_buffers": 558067712}]),
            ),
            (
                "loadavg",
                json!([{"load1": "0.07", "load15": "0.09", "load5": "0.16"}]),
            ),
        ]);
        assert_eq!(
            lines(&out, "temboard_memory_total_bytes"),
            ["temboard_memory_total_bytes 8276094976"]
        );
        assert_eq!(
            lines(&out, "temboard_memory_used_bytes"),
            ["temboard_memory_used_bytes 7268151296"]
        );
        assert_eq!(
            lines(&out, "temboard_swap_total_bytes"),
            ["temboard_swap_total_bytes 4026527744"]
        );
        assert_eq!(
            lines(&out, "temboard_swap_used_bytes"),
            ["temboard_swap_used_bytes 0"]
        );
        assert_eq!(lines(&out, "temboard_load1"), ["temboard_load1 0.07"]);
        assert_eq!(lines(&out, "temboard_load5"), ["temboard_load5 0.16"]);
        assert_eq!(lines(&out, "temboard_load15"), ["temboard_load15 0.09"]);
    }

    #[test]
    fn wal_files_position_is_a_counter_and_the_location_text_is_left_out() {
        let out = render_run(vec![(
            "wal_files",
            json!([{"archive_ready": 1, "total_size": 201326592.0, "written_size": 358046299568_i64,
                    "current_location": "53/700035B0", "total": 12, "port": 5432}]),
        )]);
        assert_eq!(lines(&out, "temboard_wal_files"), ["temboard_wal_files 12"]);
        assert_eq!(
            lines(&out, "temboard_wal_files_archive_ready"),
            ["temboard_wal_files_archive_ready 1"]
        );
        assert_eq!(
            lines(&out, "temboard_wal_files_size_bytes"),
            ["temboard_wal_files_size_bytes 201326592"]
        );
        assert_eq!(
            lines(&out, "temboard_wal_written_bytes_total"),
            ["temboard_wal_written_bytes_total 358046299568"]
        );
        assert!(!out.contains("700035B0"));
    }

    #[test]
    fn replication_temp_files_and_bloat() {
        let out = render_run(vec![
            ("replication_lag", json!([{"lag": 16384}])),
            ("replication_connection", json!([{"connected": true}])),
            (
                "temp_files_size_delta",
                json!([{"dbname": "app", "size": 1048576}]),
            ),
            (
                "heap_bloat",
                json!([{"dbname": "postgres", "ratio": 8.200455580865604}]),
            ),
            (
                "btree_bloat",
                json!([{"dbname": "postgres", "ratio": 25.0}]),
            ),
        ]);
        assert_eq!(
            lines(&out, "temboard_replication_lag_bytes"),
            ["temboard_replication_lag_bytes 16384"]
        );
        assert_eq!(
            lines(&out, "temboard_replication_connected"),
            ["temboard_replication_connected 1"]
        );
        assert_eq!(
            lines(&out, "temboard_temp_files_written_bytes_total"),
            ["temboard_temp_files_written_bytes_total{dbname=\"app\"} 1048576"]
        );
        assert_eq!(
            lines(&out, "temboard_btree_bloat_ratio"),
            ["temboard_btree_bloat_ratio{dbname=\"postgres\"} 0.25"]
        );
        let heap = lines(&out, "temboard_heap_bloat_ratio");
        let value: f64 = heap[0].rsplit(' ').next().unwrap().parse().unwrap();
        assert!((value - 0.082).abs() < 1e-3, "{heap:?}");
    }

    #[test]
    fn unknown_columns_and_probes_and_odd_values_are_left_out() {
        let out = render_run(vec![
            (
                "db_size",
                json!([{"dbname": "a", "size": 1, "new_column": 5},
                               {"dbname": "b", "size": "not a number"},
                               {"dbname": "c", "size": {"nested": 1}}]),
            ),
            ("a_new_probe", json!([{"value": 1}])),
        ]);
        assert_eq!(
            lines(&out, "temboard_database_size_bytes"),
            ["temboard_database_size_bytes{dbname=\"a\"} 1"]
        );
        assert!(!out.contains("new_column") && !out.contains("a_new_probe"));
    }

    #[test]
    fn label_values_are_escaped_and_duplicate_series_dropped() {
        let out = render_run(vec![(
            "db_size",
            json!([{"dbname": "we\"ird\\db\nname", "size": 1},
                   {"dbname": "twice", "size": 2},
                   {"dbname": "twice", "size": 3}]),
        )]);
        assert_eq!(
            lines(&out, "temboard_database_size_bytes"),
            [
                "temboard_database_size_bytes{dbname=\"we\\\"ird\\\\db\\nname\"} 1",
                "temboard_database_size_bytes{dbname=\"twice\"} 2"
            ]
        );
        assert_eq!(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        let parsed = parse_labels("{dbname=\"we\\\"ird\\\\db\\nname\"}").unwrap();
        assert_eq!(parsed[0].1, "we\"ird\\db\nname");
    }

    #[test]
    fn the_dashboard_sample_as_gauges() {
        let out = render(at(), None, Some(&sample()));
        check_format(&out);
        assert_eq!(
            lines(&out, "temboard_info"),
            ["temboard_info{hostname=\"db1.example\",os_version=\"Linux 6.1.0\",pg_version=\"PostgreSQL 15.18 on x86_64\"} 1"]
        );
        assert!(lines(&out, "temboard_dashboard_cpu_ratio")
            .contains(&"temboard_dashboard_cpu_ratio{mode=\"user\"} 0.025"));
        assert_eq!(
            lines(&out, "temboard_dashboard_cpus"),
            ["temboard_dashboard_cpus 4"]
        );
        assert_eq!(
            lines(&out, "temboard_dashboard_load1"),
            ["temboard_dashboard_load1 0.28"]
        );
        assert_eq!(
            lines(&out, "temboard_dashboard_memory_total_bytes"),
            ["temboard_dashboard_memory_total_bytes 4045475840"]
        );
        assert!(lines(&out, "temboard_dashboard_memory_ratio")
            .contains(&"temboard_dashboard_memory_ratio{kind=\"free\"} 0.329"));
        assert_eq!(
            lines(&out, "temboard_dashboard_active_backends"),
            ["temboard_dashboard_active_backends 3"]
        );
        assert_eq!(
            lines(&out, "temboard_dashboard_max_connections"),
            ["temboard_dashboard_max_connections 100"]
        );
        assert_eq!(
            lines(&out, "temboard_dashboard_hit_ratio"),
            ["temboard_dashboard_hit_ratio 0.98"]
        );
        assert_eq!(
            lines(&out, "temboard_dashboard_databases"),
            ["temboard_dashboard_databases 4"]
        );
        assert_eq!(
            lines(&out, "temboard_dashboard_commits_total"),
            ["temboard_dashboard_commits_total 16728291"]
        );
        assert_eq!(
            lines(&out, "temboard_dashboard_rollbacks_total"),
            ["temboard_dashboard_rollbacks_total 873"]
        );
        assert_eq!(
            lines(&out, "temboard_dashboard_buffers_alloc_total"),
            ["temboard_dashboard_buffers_alloc_total 348247"]
        );
        assert!(!out.contains("temboard_monitoring_"), "no run yet");
    }

    #[test]
    fn a_dashboard_sample_without_postgresql_has_only_the_host_gauges() {
        let mut s = sample();
        s.pg = PgFields::default();
        let out = render(at(), None, Some(&s));
        check_format(&out);
        assert_eq!(
            lines(&out, "temboard_info"),
            ["temboard_info{hostname=\"db1.example\",os_version=\"Linux 6.1.0\"} 1"]
        );
        assert!(out.contains("temboard_dashboard_cpus 4"));
        assert!(!out.contains("temboard_dashboard_active_backends"));
        assert!(!out.contains("temboard_dashboard_databases"));
    }

    #[test]
    fn a_whole_run_and_sample_render_every_family_once() {
        let out = render(
            at(),
            Some(&run(vec![
                ("db_size", json!([{"dbname": "postgres", "size": 1}])),
                ("memory", json!([{"mem_total": 1024}])),
                ("cpu", json!([{"cpu": "cpu0", "time_user": 1}])),
            ])),
            Some(&sample()),
        );
        check_format(&out);
        assert_eq!(
            out.matches("# TYPE temboard_memory_total_bytes ").count(),
            1
        );
    }

    #[test]
    fn numbers_render_as_the_format_wants() {
        assert_eq!(Num::Float(f64::NAN).render(), "NaN");
        assert_eq!(Num::Float(f64::INFINITY).render(), "+Inf");
        assert_eq!(Num::Float(f64::NEG_INFINITY).render(), "-Inf");
        assert_eq!(Num::Float(0.5).render(), "0.5");
        assert_eq!(Num::UInt(u64::MAX).render(), "18446744073709551615");
        assert_eq!(number(&json!("NaN")), None);
        assert_eq!(number(&json!(" 0.16 ")), Some(Num::Float(0.16)));
        assert_eq!(number(&json!(false)), Some(Num::Int(0)));
        assert_eq!(
            timestamp(&json!("2017-04-14T13:37:15+02:00")),
            Some(Num::Float(1_492_169_835.0))
        );
        assert_eq!(timestamp(&json!("yesterday")), None);
    }
}
