//! The Prometheus text exposition format (version 0.0.4) of the latest collector
//! run and of the latest dashboard sample, for `GET /metrics`. Pure: it renders
//! what it is given and reads nothing (no PostgreSQL, no /proc, no clock).
//!
//! The registry is the whole contract: each probe's line lists the columns it
//! exports (family name, type, help text, unit conversion) and the row columns
//! that label them (`Probe::exports`, `Probe::labels`). A column that has no
//! line is not exported, so a probe that gains a column never breaks the
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
use super::export::{Convert, Kind};
use super::registry::{Probe, PROBES};
use super::row::Row;
use crate::dashboard::sample::Sample;

/// The Content-Type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

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

    /// Families of one unlabelled sample each; a missing value adds nothing.
    fn singles(&mut self, families: &[(Kind, &'static str, &'static str, Option<Num>)]) {
        for &(kind, name, help, value) in families {
            if let Some(value) = value {
                self.add(name, kind, help, &[], value);
            }
        }
    }

    /// A gauge family of dashboard percentages as ratios, `label` telling its
    /// samples apart.
    fn ratios(
        &mut self,
        name: &'static str,
        help: &'static str,
        label: &str,
        percents: &[(&str, f64)],
    ) {
        for (value, percent) in percents {
            let labels = [(label, value.to_string())];
            self.add(name, Kind::Gauge, help, &labels, ratio(*percent));
        }
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

/// The exported samples of one probe's rows.
fn add_probe(families: &mut Families, probe: &Probe, rows: &[Row]) {
    for export in probe.exports {
        for row in rows {
            let Some(value) = row
                .get(export.column)
                .and_then(|v| convert(v, export.convert))
            else {
                continue;
            };
            let mut labels: Vec<(&str, String)> = probe
                .labels
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
    for probe in PROBES {
        if let Some(rows) = run.raw.get(probe.name) {
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
    #[rustfmt::skip]
    families.ratios("temboard_dashboard_cpu_ratio", CPU_RATIO, "mode", &[
        ("user", cpu.user), ("system", cpu.system), ("idle", cpu.idle),
        ("iowait", cpu.iowait), ("steal", cpu.steal),
    ]);
    let memory = &host.memory;
    #[rustfmt::skip]
    families.singles(&[
        (Kind::Gauge, "temboard_dashboard_cpus", "CPUs of the host.",
            Some(Num::UInt(host.n_cpu as u64))),
        (Kind::Gauge, "temboard_dashboard_load1",
            "Load average of the host over 1 minute, at the last dashboard sample.",
            Some(Num::Float(host.loadaverage))),
        (Kind::Gauge, "temboard_dashboard_memory_total_bytes",
            "Physical memory of the host (MemTotal), in bytes.",
            Some(Num::UInt(memory.total.saturating_mul(1024)))),
    ]);
    const MEMORY_RATIO: &str = "Share of the host's memory by use at the last dashboard sample (0 to 1): active (neither free nor page cache), cached, free.";
    #[rustfmt::skip]
    families.ratios("temboard_dashboard_memory_ratio", MEMORY_RATIO, "kind", &[
        ("active", memory.active), ("cached", memory.cached), ("free", memory.free),
    ]);
    // Without PostgreSQL, the sample has none of these.
    let pg = &sample.pg;
    let db = pg.databases.as_ref();
    #[rustfmt::skip]
    families.singles(&[
        (Kind::Gauge, "temboard_dashboard_active_backends",
            "Backends running a query at the last dashboard sample.",
            pg.active_backends.map(|active| Num::Int(active.nb))),
        (Kind::Gauge, "temboard_dashboard_max_connections",
            "The max_connections setting of the instance.",
            pg.max_connections.map(|max| Num::Int(i64::from(max)))),
        (Kind::Gauge, "temboard_dashboard_hit_ratio",
            "Share of block reads of the instance found in shared buffers, at the last dashboard sample (0 to 1).",
            pg.hitratio.map(ratio)),
        (Kind::Counter, "temboard_dashboard_buffers_alloc_total",
            "Buffers allocated in shared buffers since the statistics reset (pg_stat_bgwriter.buffers_alloc), at the last dashboard sample.",
            pg.buffers.map(|buffers| Num::Int(buffers.nb))),
        (Kind::Gauge, "temboard_dashboard_databases", "Databases of the instance.",
            db.map(|db| Num::Int(db.databases))),
        (Kind::Counter, "temboard_dashboard_commits_total",
            "Transactions committed in all databases since the statistics reset, at the last dashboard sample.",
            db.map(|db| Num::Int(db.total_commit))),
        (Kind::Counter, "temboard_dashboard_rollbacks_total",
            "Transactions rolled back in all databases since the statistics reset, at the last dashboard sample.",
            db.map(|db| Num::Int(db.total_rollback))),
    ]);
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
    use crate::dashboard::sample::{Counter, Databases, PgFields};
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

    /// The samples of each family named in `expected` are exactly those lines.
    fn assert_samples(out: &str, expected: &[&str]) {
        let family = |line: &str| line[..line.find(['{', ' ']).unwrap()].to_string();
        let mut families: Vec<String> = expected.iter().map(|l| family(l)).collect();
        families.dedup();
        for f in families {
            let want: Vec<&str> = expected
                .iter()
                .copied()
                .filter(|l| family(l) == f)
                .collect();
            assert_eq!(lines(out, &f), want, "{out}");
        }
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
            // neptune: 4 CPUs, 2.5 % user, load 0.28, 3950660 kB, 32.9 % free.
            host: crate::dashboard::sample::tests::host(),
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
    fn the_export_lines_of_the_registry_are_consistent() {
        let mut families: HashMap<&str, (Kind, &str)> = HashMap::new();
        for p in PROBES {
            assert!(!p.exports.is_empty(), "{}: nothing exported", p.name);
            let mut columns = HashSet::new();
            for e in p.exports {
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
                assert!(columns.insert(e.column), "{}.{} twice", p.name, e.column);
                let (kind, help) = *families.entry(e.family).or_insert((e.kind, e.help));
                assert_eq!(
                    (kind, help),
                    (e.kind, e.help),
                    "{}: one type and help",
                    e.family
                );
                for (label, _) in e.fixed.iter().chain(p.labels) {
                    assert!(is_name(label) && !label.starts_with("__"), "{label}");
                }
            }
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
        assert_samples(
            &out,
            &[
                "temboard_sessions_active{dbname=\"postgres\"} 1",
                "temboard_sessions_idle{dbname=\"postgres\"} 2",
                "temboard_sessions_idle_in_transaction{dbname=\"postgres\"} 3",
                "temboard_sessions_no_privilege{dbname=\"postgres\"} 4",
            ],
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
        assert_samples(
            &out,
            &[
                "temboard_xacts_commit_total{dbname=\"a\"} 120",
                "temboard_xacts_commit_total{dbname=\"b\"} 7",
            ],
        );
        assert_eq!(
            lines(&out, "temboard_xacts_rollback_total")[0],
            "temboard_xacts_rollback_total{dbname=\"a\"} 3"
        );
        assert_samples(
            &out,
            &[
                "temboard_blocks_hit_total{dbname=\"a\"} 224042580",
                "temboard_blocks_read_total{dbname=\"a\"} 382",
            ],
        );
        assert!(
            !out.contains("hitmiss"),
            "an interval ratio is not exported"
        );
    }

    #[test]
    fn locks_are_two_families_with_the_mode_as_label() {
        let locks = crate::monitoring::registry::find("locks").unwrap();
        // Each exported column its own value, to find it in its sample.
        let mut row = json!({"dbname": "test", "port": 5432});
        for (i, e) in locks.exports.iter().enumerate() {
            row[e.column] = json!(i);
        }
        let out = render_run(vec![("locks", json!([row]))]);
        for (i, e) in locks.exports.iter().enumerate() {
            let (label, mode) = e.fixed[0];
            let sample = format!("{}{{dbname=\"test\",{label}=\"{mode}\"}} {i}", e.family);
            assert!(out.contains(&format!("\n{sample}\n")), "{sample}: {out}");
            if let Some(held) = e.column.strip_prefix("waiting_") {
                let of_held = locks.exports.iter().find(|h| h.column == held);
                assert_eq!(of_held.unwrap().fixed, e.fixed, "{}", e.column);
            }
        }
        let held = lines(&out, "temboard_locks");
        assert_eq!(held.len(), 9, "{out}");
        for mode in ["AccessShareLock", "AccessExclusiveLock", "SIReadLock"] {
            let sample = format!("temboard_locks{{dbname=\"test\",mode=\"{mode}\"}} ");
            assert!(held.iter().any(|l| l.starts_with(&sample)), "{mode}");
        }
        let waiting = lines(&out, "temboard_locks_waiting");
        assert_eq!(waiting.len(), 8, "SIReadLock is never waited for: {out}");
        assert!(!waiting.iter().any(|l| l.contains("SIReadLock")));
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
        assert_samples(
            &out,
            &[
                "temboard_bgwriter_checkpoint_write_seconds_total 15113.301",
                "temboard_bgwriter_checkpoint_sync_seconds_total 177.464",
                "temboard_bgwriter_checkpoints_requested_total 2",
                "temboard_bgwriter_stats_reset_timestamp_seconds 1492169835.288701",
            ],
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
        assert_samples(
&out,
&[
"temboard_database_size_bytes{dbname=\"template1\"} 7021060",
"temboard_database_size_bytes{dbname=\"postgres\"} 7168172",
"temboard_tablespace_size_bytes{spcname=\"pg_default\"} 181067120",
"temboard_filesystem_size_bytes{mount_point=\"/\",device=\"/dev/sda4\"} 21003628544",
"temboard_filesystem_used_bytes{mount_point=\"/\",device=\"/dev/sda4\"} 11889070080",
],
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
        assert_samples(
            &out,
            &[
                "temboard_processes 486",
                "temboard_processes_running 4",
                "temboard_processes_blocked 0",
                "temboard_process_forks_total 165",
                "temboard_process_context_switches_total 31453",
            ],
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
        assert_samples(
            &out,
            &[
                "temboard_memory_total_bytes 8276094976",
                "temboard_memory_used_bytes 7268151296",
                "temboard_swap_total_bytes 4026527744",
                "temboard_swap_used_bytes 0",
                "temboard_load1 0.07",
                "temboard_load5 0.16",
                "temboard_load15 0.09",
            ],
        );
    }

    #[test]
    fn wal_files_position_is_a_counter_and_the_location_text_is_left_out() {
        let out = render_run(vec![(
            "wal_files",
            json!([{"archive_ready": 1, "total_size": 201326592.0, "written_size": 358046299568_i64,
                    "current_location": "53/700035B0", "total": 12, "port": 5432}]),
        )]);
        assert_samples(
            &out,
            &[
                "temboard_wal_files 12",
                "temboard_wal_files_archive_ready 1",
                "temboard_wal_files_size_bytes 201326592",
                "temboard_wal_written_bytes_total 358046299568",
            ],
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
        assert_samples(
            &out,
            &[
                "temboard_replication_lag_bytes 16384",
                "temboard_replication_connected 1",
                "temboard_temp_files_written_bytes_total{dbname=\"app\"} 1048576",
                "temboard_btree_bloat_ratio{dbname=\"postgres\"} 0.25",
            ],
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
        assert_samples(&out, &["temboard_database_size_bytes{dbname=\"a\"} 1"]);
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
        assert_samples(
            &out,
            &[
                "temboard_database_size_bytes{dbname=\"we\\\"ird\\\\db\\nname\"} 1",
                "temboard_database_size_bytes{dbname=\"twice\"} 2",
            ],
        );
        assert_eq!(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        let parsed = parse_labels("{dbname=\"we\\\"ird\\\\db\\nname\"}").unwrap();
        assert_eq!(parsed[0].1, "we\"ird\\db\nname");
    }

    #[test]
    fn the_dashboard_sample_as_gauges() {
        let out = render(at(), None, Some(&sample()));
        check_format(&out);
        let info = r#"temboard_info{hostname="neptune",os_version="Linux 6.1.0",pg_version="PostgreSQL 15.18 on x86_64"} 1"#;
        assert_samples(&out, &[info]);
        assert!(lines(&out, "temboard_dashboard_cpu_ratio")
            .contains(&"temboard_dashboard_cpu_ratio{mode=\"user\"} 0.025"));
        assert_samples(
            &out,
            &[
                "temboard_dashboard_cpus 4",
                "temboard_dashboard_load1 0.28",
                "temboard_dashboard_memory_total_bytes 4045475840",
            ],
        );
        assert!(lines(&out, "temboard_dashboard_memory_ratio")
            .contains(&"temboard_dashboard_memory_ratio{kind=\"free\"} 0.329"));
        assert_samples(
            &out,
            &[
                "temboard_dashboard_active_backends 3",
                "temboard_dashboard_max_connections 100",
                "temboard_dashboard_hit_ratio 0.98",
                "temboard_dashboard_databases 4",
                "temboard_dashboard_commits_total 16728291",
                "temboard_dashboard_rollbacks_total 873",
                "temboard_dashboard_buffers_alloc_total 348247",
            ],
        );
        assert!(!out.contains("temboard_monitoring_"), "no run yet");
    }

    #[test]
    fn a_dashboard_sample_without_postgresql_has_only_the_host_gauges() {
        let mut s = sample();
        s.pg = PgFields::default();
        let out = render(at(), None, Some(&s));
        check_format(&out);
        assert_samples(
            &out,
            &["temboard_info{hostname=\"neptune\",os_version=\"Linux 6.1.0\"} 1"],
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
