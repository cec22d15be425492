//! GET /metrics against a real agent and a real PostgreSQL: the whole exposition
//! read by a real parser (prometheus-parse, every line accounted for, and
//! `promtool check metrics` too when it is installed), values against ground truth
//! (psql, /proc), HELP and TYPE of every family, counters named `_total`, who may
//! scrape (metrics token, agent key, session), what is served without a dashboard
//! sample, without the monitoring plugin, and while PostgreSQL is down (private
//! cluster).

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use prometheus_parse::{LineInfo, SampleType, Scrape, Value};

const TOKEN: &str = "prometheus-scrape-token-0123456789";
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

fn start(pg: &PgCluster, monitoring: &str, plugins: Option<&str>) -> Agent {
    Agent::start_with(
        pg,
        AgentSetup {
            extra: format!("[monitoring]\nscheduler_interval = 1\n{monitoring}\n[dashboard]\nscheduler_interval = 1\n"),
            temboard: plugins
                .map(|p| vec![format!("plugins = {p}")])
                .unwrap_or_default(),
            ..AgentSetup::default()
        },
    )
}

fn with_token(agent: &Agent) -> Response {
    agent.send(Request::get("/metrics").header("Authorization", &format!("Bearer {TOKEN}")))
}

/// An exposition read by prometheus-parse, with the TYPE and HELP of each family.
struct Exposition {
    text: String,
    scrape: Scrape,
    types: HashMap<String, SampleType>,
    helps: HashMap<String, String>,
}

impl Exposition {
    /// The value of the sample of `name` whose labels include `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(l, v)| s.labels.get(l) == Some(*v)))
            .map(|s| match s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
                _ => panic!("{name}: neither counter nor gauge"),
            })
    }

    fn has(&self, name: &str) -> bool {
        self.scrape.samples.iter().any(|s| s.metric == name)
    }
}

/// Reads a whole exposition: every line must be one the parser understands (it
/// skips the others silently, so they are counted here), every sample after its
/// family's TYPE, with a number and no timestamp.
fn parse(text: &str) -> Exposition {
    let mut types = HashMap::new();
    let mut helps = HashMap::new();
    let mut sample_lines = 0;
    for line in text.lines() {
        match LineInfo::parse(line) {
            LineInfo::Doc { metric_name, doc } => {
                assert!(!doc.trim().is_empty(), "empty HELP: {line}");
                assert!(
                    helps
                        .insert(metric_name.to_string(), doc.to_string())
                        .is_none(),
                    "HELP twice: {line}"
                );
            }
            LineInfo::Type {
                metric_name,
                sample_type,
                ..
            } => {
                assert!(
                    matches!(sample_type, SampleType::Counter | SampleType::Gauge),
                    "{line}"
                );
                assert!(helps.contains_key(&metric_name), "TYPE before HELP: {line}");
                assert!(
                    types.insert(metric_name, sample_type).is_none(),
                    "TYPE twice: {line}"
                );
            }
            LineInfo::Sample {
                metric_name,
                value,
                timestamp,
                ..
            } => {
                assert!(
                    types.contains_key(metric_name),
                    "sample before its TYPE: {line}"
                );
                assert!(value.parse::<f64>().is_ok(), "not a number: {line}");
                assert!(timestamp.is_none(), "samples carry no timestamp: {line}");
                sample_lines += 1;
            }
            LineInfo::Empty => panic!("empty line in the exposition"),
            LineInfo::Ignored => panic!("a line the parser cannot read: {line:?}"),
        }
    }
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parse");
    assert_eq!(scrape.samples.len(), sample_lines);
    promtool_check(text);
    Exposition {
        text: text.to_string(),
        scrape,
        types,
        helps,
    }
}

/// `promtool check metrics` (Prometheus' own parser and linter), when installed.
fn promtool_check(text: &str) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scrape(agent: &Agent) -> Exposition {
    let res = with_token(agent);
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("Content-Type"), Some(CONTENT_TYPE));
    parse(&res.text())
}

fn mem_total_bytes() -> f64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kb: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("MemTotal");
    kb * 1024.0
}

fn cpus_of_proc() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count() as f64
}

#[test]
fn the_exposition_parses_and_matches_postgresql_and_the_host() {
    let pg = PgCluster::shared();
    pg.psql("postgres", "DROP DATABASE IF EXISTS metrics_db");
    pg.psql("postgres", "CREATE DATABASE metrics_db");
    pg.psql(
        "metrics_db",
        "CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 20000) g",
    );
    let agent = start(pg, &format!("metrics_token = {TOKEN}"), None);

    // A collector run that saw the filled database, and a dashboard sample.
    let db_size =
        |e: &Exposition| e.value("temboard_database_size_bytes", &[("dbname", "metrics_db")]);
    let mut truth = 0.0;
    let mut last = None;
    wait_until(Duration::from_secs(30), "metrics_db's size", || {
        let e = scrape(&agent);
        truth = pg
            .psql("postgres", "SELECT pg_database_size('metrics_db')")
            .parse()
            .unwrap();
        let ok = db_size(&e)
            .is_some_and(|v| (v - truth).abs() <= (truth * 0.01).max(256.0 * 1024.0))
            && e.has("temboard_info");
        last = Some(e);
        ok
    });
    let e = last.unwrap();
    assert!(
        truth > 10e6,
        "the filler makes the database larger than 10 MB: {truth}"
    );
    assert!(
        e.value("temboard_database_size_bytes", &[("dbname", "postgres")])
            .is_some_and(|v| v > 1e6),
        "{}",
        e.text
    );

    // Host values against /proc.
    assert_eq!(
        e.value("temboard_memory_total_bytes", &[]),
        Some(mem_total_bytes())
    );
    assert_eq!(
        e.value("temboard_dashboard_memory_total_bytes", &[]),
        Some(mem_total_bytes())
    );
    assert_eq!(
        e.value("temboard_dashboard_cpus", &[]),
        Some(cpus_of_proc())
    );
    for load in ["temboard_load1", "temboard_load5", "temboard_load15"] {
        assert!(e.value(load, &[]).is_some_and(|v| v >= 0.0), "{load}");
    }

    // The run's own gauges.
    assert_eq!(e.value("temboard_postgres_up", &[]), Some(1.0));
    let age = e
        .value("temboard_monitoring_last_run_age_seconds", &[])
        .unwrap();
    assert!((0.0..10.0).contains(&age), "age {age}");
    let at = e
        .value("temboard_monitoring_last_run_timestamp_seconds", &[])
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - 30.0..=now + 1.0).contains(&at), "{at} vs {now}");

    // The dashboard's PostgreSQL values against psql.
    let max_connections: f64 = pg.psql("postgres", "SHOW max_connections").parse().unwrap();
    assert_eq!(
        e.value("temboard_dashboard_max_connections", &[]),
        Some(max_connections)
    );
    let databases: f64 = pg
        .psql("postgres", "SELECT count(*) FROM pg_database")
        .parse()
        .unwrap();
    assert!(
        e.value("temboard_dashboard_databases", &[]).is_some(),
        "{}",
        e.text
    );
    assert!(e.value("temboard_dashboard_databases", &[]).unwrap() <= databases);
    let hit = e.value("temboard_dashboard_hit_ratio", &[]);
    assert!(hit.is_none_or(|h| (0.0..=1.0).contains(&h)), "{hit:?}");
    assert_eq!(
        e.value("temboard_info", &[("hostname", HOSTNAME)]),
        Some(1.0),
        "{}",
        e.text
    );

    // Every family has its HELP and TYPE; counters, and only they, end in _total.
    assert!(e.types.len() >= 15, "{}", e.text);
    for s in &e.scrape.samples {
        let ty = e
            .types
            .get(&s.metric)
            .unwrap_or_else(|| panic!("{}: no TYPE", s.metric));
        assert!(e.helps.contains_key(&s.metric), "{}: no HELP", s.metric);
        assert!(s.metric.starts_with("temboard_"), "{}", s.metric);
        assert_eq!(
            *ty == SampleType::Counter,
            s.metric.ends_with("_total"),
            "{}: {ty:?}",
            s.metric
        );
        if let Value::Counter(v) = s.value {
            assert!(v >= 0.0, "{}", s.metric);
        }
    }
    for (family, ty) in &e.types {
        assert!(e.has(family), "{family}: a TYPE without samples");
        assert_eq!(
            *ty == SampleType::Counter,
            family.ends_with("_total"),
            "{family}"
        );
    }
}

#[test]
fn who_may_scrape() {
    let agent = start(
        PgCluster::shared(),
        &format!("metrics_token = {TOKEN}"),
        None,
    );
    // The metrics token.
    assert_eq!(with_token(&agent).status, 200);
    let lower =
        agent.send(Request::get("/metrics").header("Authorization", &format!("bearer {TOKEN}")));
    assert_eq!(lower.status, 200);
    // A wrong token: 401, even with a good key or session.
    let session = agent.login();
    for req in [
        Request::get("/metrics").header("Authorization", "Bearer not-the-token-0123456789"),
        Request::get("/metrics").header("Authorization", &format!("Bearer {TOKEN}x")),
        Request::get(&format!("/metrics?key={KEY}")).header("Authorization", "Bearer wrong"),
        Request::get("/metrics")
            .session(&session)
            .header("Authorization", "Bearer wrong"),
    ] {
        let res = agent.send(req);
        assert_eq!(res.status, 401, "{}", res.text());
        assert_eq!(res.error(), "Invalid token.");
        assert!(res
            .header("Content-Type")
            .unwrap()
            .starts_with("application/json"));
    }
    // The agent key, as a query parameter or a header.
    let key = agent.get(&format!("/metrics?key={KEY}"));
    assert_eq!(key.status, 200);
    assert_eq!(key.header("Content-Type"), Some(CONTENT_TYPE));
    parse(&key.text());
    let header = agent.send(Request::get("/metrics").header("X-TemBoard-Agent-Key", KEY));
    assert_eq!(header.status, 200);
    let wrong_key = agent.get("/metrics?key=wrong");
    assert_eq!(wrong_key.status, 401);
    assert_eq!(wrong_key.error(), "Invalid key.");
    // A session.
    let res = agent.get_as("/metrics", &session);
    assert_eq!(res.status, 200);
    parse(&res.text());
    let unknown = agent.get_as("/metrics", &"0".repeat(64));
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.error(), "Invalid session.");
    // Nothing (or another scheme than Bearer): what the other monitoring
    // endpoints answer.
    for req in [
        Request::get("/metrics"),
        Request::get("/metrics").header("Authorization", "Basic dXNlcjpwYXNzd29yZA=="),
    ] {
        let none = agent.send(req);
        let other = agent.get("/monitoring/config");
        assert_eq!(none.status, other.status);
        assert_eq!(none.status, 406);
        assert_eq!(none.error(), other.error());
        assert_eq!(none.error(), "Parameter 'X-Session' is malformed.");
    }
}

#[test]
fn without_a_token_configured_a_bearer_is_refused_and_the_key_works() {
    let agent = start(PgCluster::shared(), "", None);
    let res = with_token(&agent);
    assert_eq!(res.status, 401);
    assert_eq!(res.error(), "Invalid token.");
    assert_eq!(agent.get(&format!("/metrics?key={KEY}")).status, 200);
}

#[test]
fn without_the_dashboard_only_the_monitoring_families() {
    let agent = start(
        PgCluster::shared(),
        &format!("metrics_token = {TOKEN}"),
        Some(r#"["monitoring"]"#),
    );
    // Right after the start: whatever exists, never an error.
    let first = scrape(&agent);
    assert!(!first.has("temboard_info"));
    wait_until(Duration::from_secs(30), "a collector run", || {
        scrape(&agent).has("temboard_monitoring_last_run_age_seconds")
    });
    let e = scrape(&agent);
    assert_eq!(e.value("temboard_postgres_up", &[]), Some(1.0));
    assert!(e.has("temboard_database_size_bytes"));
    assert!(
        !e.types
            .keys()
            .any(|f| f.starts_with("temboard_dashboard_") || f == "temboard_info"),
        "{}",
        e.text
    );
}

#[test]
fn without_the_monitoring_plugin_there_is_no_metrics_endpoint() {
    let agent = start(
        PgCluster::shared(),
        &format!("metrics_token = {TOKEN}"),
        Some(r#"["dashboard"]"#),
    );
    let res = with_token(&agent);
    assert_eq!(res.status, 404);
    assert_eq!(res.error(), "Not found.");
}

#[test]
fn postgresql_down_is_told_by_temboard_postgres_up() {
    let pg = PgCluster::start();
    pg.stop();
    let agent = start(&pg, &format!("metrics_token = {TOKEN}"), None);
    let up = |e: &Exposition| e.value("temboard_postgres_up", &[]);
    wait_until(Duration::from_secs(30), "a run without PostgreSQL", || {
        up(&scrape(&agent)) == Some(0.0)
    });
    let e = scrape(&agent);
    // The host is still measured; nothing of PostgreSQL is made up.
    assert_eq!(
        e.value("temboard_memory_total_bytes", &[]),
        Some(mem_total_bytes())
    );
    assert!(!e.has("temboard_database_size_bytes"));
    assert!(!e.has("temboard_dashboard_max_connections"));

    pg.start_again();
    wait_until(Duration::from_secs(30), "a run with PostgreSQL", || {
        let e = scrape(&agent);
        up(&e) == Some(1.0) && e.has("temboard_database_size_bytes")
    });
    wait_until(
        Duration::from_secs(30),
        "a dashboard sample with PostgreSQL",
        || scrape(&agent).has("temboard_dashboard_max_connections"),
    );

    pg.stop();
    wait_until(Duration::from_secs(30), "PostgreSQL down again", || {
        up(&scrape(&agent)) == Some(0.0)
    });
    // The dashboard keeps its last good PostgreSQL values; the scrape stays valid.
    assert!(scrape(&agent).has("temboard_dashboard_max_connections"));
}
