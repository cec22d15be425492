//! Dashboard API against a real agent and a real PostgreSQL: the shape of every
//! endpoint against the spec examples, values against ground truth (/proc, psql),
//! the history (one sample per interval, capped), /dashboard answering from memory,
//! and PostgreSQL stopping under a running sampler (private cluster).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// Every endpoint of the chapter.
const ENDPOINTS: [&str; 17] = [
    "/dashboard",
    "/dashboard/config",
    "/dashboard/live",
    "/dashboard/history",
    "/dashboard/buffers",
    "/dashboard/hitratio",
    "/dashboard/active_backends",
    "/dashboard/cpu",
    "/dashboard/loadaverage",
    "/dashboard/memory",
    "/dashboard/hostname",
    "/dashboard/os_version",
    "/dashboard/pg_version",
    "/dashboard/n_cpu",
    "/dashboard/databases",
    "/dashboard/info",
    "/dashboard/max_connections",
];

/// The keys of a sample (the /dashboard/history example).
const SAMPLE_KEYS: [&str; 17] = [
    "active_backends",
    "buffers",
    "cpu",
    "cpu_models",
    "databases",
    "hitratio",
    "hostname",
    "linux_distribution",
    "loadaverage",
    "max_connections",
    "memory",
    "n_cpu",
    "os_version",
    "pg_data",
    "pg_port",
    "pg_uptime",
    "pg_version",
];

fn with_key(agent: &Agent, path: &str) -> Response {
    agent.get(&format!("{path}?key={KEY}"))
}

fn ok_json(agent: &Agent, path: &str) -> Value {
    let res = with_key(agent, path);
    assert_eq!(res.status, 200, "{path}: {}", res.text());
    res.json()
}

fn assert_counter(v: &Value) {
    assert_eq!(sorted_keys(v), ["nb", "time"], "{v}");
    assert!(v["nb"].as_i64().is_some_and(|n| n >= 0), "{v}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let time = v["time"].as_f64().expect("time is a number");
    assert!((now - time).abs() < 3600.0, "time {time} is not now {now}");
}

fn assert_cpu(v: &Value) {
    assert_eq!(
        sorted_keys(v),
        ["idle", "iowait", "steal", "system", "user"],
        "{v}"
    );
    let sum: f64 = ["idle", "iowait", "steal", "system", "user"]
        .iter()
        .map(|k| v[k].as_f64().expect("a CPU percent is a number"))
        .sum();
    // All zeros only when no tick elapsed; otherwise ~100 (rounding).
    assert!(
        sum == 0.0 || (sum - 100.0).abs() <= 0.5,
        "cpu sums to {sum}: {v}"
    );
}

fn assert_memory(v: &Value) {
    assert_eq!(sorted_keys(v), ["active", "cached", "free", "total"], "{v}");
    assert!(v["total"].is_u64(), "{v}");
    let sum: f64 = ["active", "cached", "free"]
        .iter()
        .map(|k| v[k].as_f64().unwrap())
        .sum();
    assert!((sum - 100.0).abs() <= 0.5, "memory sums to {sum}: {v}");
}

fn assert_databases(v: &Value) {
    assert_eq!(
        sorted_keys(v),
        [
            "databases",
            "time",
            "timestamp",
            "total_commit",
            "total_rollback",
            "total_size"
        ],
        "{v}"
    );
    assert!(v["databases"].is_u64() && v["total_commit"].is_u64() && v["total_rollback"].is_u64());
    assert!(v["timestamp"].is_f64());
    let time = v["time"].as_str().unwrap();
    assert!(
        time.len() == 5 && time.as_bytes()[2] == b':',
        "time is HH:MM: {time}"
    );
    let size = v["total_size"].as_str().unwrap();
    assert!(
        ["bytes", "kB", "MB", "GB", "TB"]
            .iter()
            .any(|u| size.ends_with(u)),
        "pretty size: {size}"
    );
}

/// A full sample, with or without notifications.
fn assert_sample(v: &Value) {
    assert_eq!(sorted_keys(v), SAMPLE_KEYS, "{v}");
    assert_counter(&v["buffers"]);
    assert_counter(&v["active_backends"]);
    assert!(v["hitratio"].is_null() || v["hitratio"].is_f64(), "{v}");
    assert_cpu(&v["cpu"]);
    assert_memory(&v["memory"]);
    assert_databases(&v["databases"]);
    assert!(v["loadaverage"].is_number());
    assert!(v["n_cpu"].is_u64());
    assert!(v["max_connections"].is_u64());
    for k in [
        "hostname",
        "os_version",
        "pg_version",
        "pg_data",
        "pg_port",
        "pg_uptime",
    ] {
        assert!(v[k].is_string(), "{k} is a string: {v}");
    }
}

fn n_cpu_of_proc() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count() as u64
}

fn mem_total_kb() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn total_commit(agent: &Agent) -> u64 {
    ok_json(agent, "/dashboard/databases")["databases"]["total_commit"]
        .as_u64()
        .unwrap()
}

#[test]
fn every_endpoint_answers_the_spec_shape() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    // /dashboard and /dashboard/live: a sample, exactly (no notifications: the
    // spec's data set has none).
    for path in ["/dashboard", "/dashboard/live"] {
        let v = agent.get_as(path, &session).json();
        assert_sample(&v);
    }
    assert_eq!(
        ok_json(&agent, "/dashboard/config"),
        serde_json::json!({ "history_length": 150, "scheduler_interval": 2 })
    );
    let history = ok_json(&agent, "/dashboard/history");
    let samples = history.as_array().expect("history is an array");
    assert!(!samples.is_empty());
    for s in samples {
        assert_sample(s);
    }

    assert_counter(&ok_json(&agent, "/dashboard/buffers")["buffers"]);
    assert_counter(&ok_json(&agent, "/dashboard/active_backends")["active_backends"]);
    let hit = ok_json(&agent, "/dashboard/hitratio");
    assert_eq!(sorted_keys(&hit), ["hitratio"]);
    assert!(hit["hitratio"].is_f64(), "{hit}");
    assert_cpu(&ok_json(&agent, "/dashboard/cpu")["cpu"]);
    let load = ok_json(&agent, "/dashboard/loadaverage");
    assert_eq!(sorted_keys(&load), ["loadaverage"]);
    assert!(load["loadaverage"].as_f64().unwrap() >= 0.0);
    assert_memory(&ok_json(&agent, "/dashboard/memory")["memory"]);
    let os = ok_json(&agent, "/dashboard/os_version");
    assert_eq!(sorted_keys(&os), ["os_version"]);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(os["os_version"], format!("Linux {}", kernel.trim()));
    assert_databases(&ok_json(&agent, "/dashboard/databases")["databases"]);
    let info = ok_json(&agent, "/dashboard/info");
    assert_eq!(
        sorted_keys(&info),
        [
            "hostname",
            "os_version",
            "pg_data",
            "pg_port",
            "pg_uptime",
            "pg_version"
        ]
    );
    assert!(
        info["pg_uptime"].as_str().unwrap().contains(':'),
        "interval text: {info}"
    );
    for (path, key) in [
        ("/dashboard/hostname", "hostname"),
        ("/dashboard/pg_version", "pg_version"),
        ("/dashboard/n_cpu", "n_cpu"),
        ("/dashboard/max_connections", "max_connections"),
    ] {
        assert_eq!(sorted_keys(&ok_json(&agent, path)), [key], "{path}");
    }
}

#[test]
fn values_match_the_host_and_postgresql() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let version = pg.psql("postgres", "SELECT version()");
    let max_connections: u64 = pg.psql("postgres", "SHOW max_connections").parse().unwrap();
    let databases: u64 = pg
        .psql(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE NOT datistemplate",
        )
        .parse()
        .unwrap();
    let data_directory = pg.psql("postgres", "SHOW data_directory");

    for sample in [
        ok_json(&agent, "/dashboard"),
        ok_json(&agent, "/dashboard/live"),
    ] {
        assert_eq!(sample["hostname"], HOSTNAME);
        assert_eq!(sample["n_cpu"], n_cpu_of_proc());
        assert_eq!(sample["memory"]["total"], mem_total_kb());
        assert_eq!(sample["pg_version"], version.as_str());
        assert_eq!(sample["max_connections"], max_connections);
        assert_eq!(sample["databases"]["databases"], databases);
        assert_eq!(sample["pg_port"], pg.port().to_string());
        assert_eq!(sample["pg_data"], data_directory.as_str());
    }
    assert_eq!(ok_json(&agent, "/dashboard/hostname")["hostname"], HOSTNAME);
    assert_eq!(
        ok_json(&agent, "/dashboard/n_cpu")["n_cpu"],
        n_cpu_of_proc()
    );
    assert_eq!(
        ok_json(&agent, "/dashboard/memory")["memory"]["total"],
        mem_total_kb()
    );
    assert_eq!(
        ok_json(&agent, "/dashboard/pg_version")["pg_version"],
        version.as_str()
    );
    assert_eq!(
        ok_json(&agent, "/dashboard/max_connections")["max_connections"],
        max_connections
    );
    assert_eq!(
        ok_json(&agent, "/dashboard/databases")["databases"]["databases"],
        databases
    );
    let info = ok_json(&agent, "/dashboard/info");
    assert_eq!(info["hostname"], HOSTNAME);
    assert_eq!(info["pg_version"], version.as_str());
    assert_eq!(info["pg_port"], pg.port().to_string());
    assert_eq!(info["pg_data"], data_directory.as_str());
}

#[test]
fn total_commit_grows_with_the_transactions_committed() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let before = total_commit(&agent);
    for _ in 0..5 {
        pg.psql("postgres", "SELECT 1");
    }
    // Backends flush their statistics within a second or so of a commit.
    wait_until(
        Duration::from_secs(15),
        "total_commit to count 5 commits",
        || total_commit(&agent) >= before + 5,
    );
    wait_until(
        Duration::from_secs(15),
        "/dashboard to see the commits",
        || {
            ok_json(&agent, "/dashboard")["databases"]["total_commit"]
                .as_u64()
                .unwrap()
                >= before + 5
        },
    );
}

#[test]
fn active_backends_counts_a_busy_backend() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    // Three busy backends; other tests' agents may add more, never fewer.
    let mut sleepers: Vec<_> = (0..3)
        .map(|_| pg.spawn_psql("postgres", "SELECT pg_sleep(60) /* dashboard test */"))
        .collect();
    wait_until(
        Duration::from_secs(15),
        "the pg_sleep backends to run",
        || {
            pg.psql(
                "postgres",
                "SELECT count(*) FROM pg_stat_activity \
             WHERE state = 'active' AND pid <> pg_backend_pid() \
             AND query LIKE '%pg_sleep(60) /* dashboard test%'",
            ) == "3"
        },
    );
    // The sleepers and the agent's own query: at least 4.
    let live = ok_json(&agent, "/dashboard/active_backends");
    assert!(
        live["active_backends"]["nb"].as_i64().unwrap() >= 4,
        "{live}"
    );
    wait_until(Duration::from_secs(15), "a sample to count them", || {
        ok_json(&agent, "/dashboard")["active_backends"]["nb"]
            .as_i64()
            .unwrap()
            >= 4
    });
    for sleeper in &mut sleepers {
        sleeper.kill().ok();
        sleeper.wait().ok();
    }
}

#[test]
fn history_grows_one_sample_per_interval_and_is_capped() {
    let agent = Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            extra: "[dashboard]\nscheduler_interval = 1\nhistory_length = 3\n".to_string(),
            ..AgentSetup::default()
        },
    );
    assert_eq!(
        ok_json(&agent, "/dashboard/config"),
        serde_json::json!({ "history_length": 3, "scheduler_interval": 1 })
    );
    let history = || ok_json(&agent, "/dashboard/history");
    let stamps = |h: &Value| -> Vec<f64> {
        h.as_array()
            .unwrap()
            .iter()
            .map(|s| s["buffers"]["time"].as_f64().unwrap())
            .collect()
    };
    wait_until(Duration::from_secs(20), "3 samples", || {
        history().as_array().unwrap().len() == 3
    });
    let first = stamps(&history());
    // Oldest first, one interval apart (allowing for a loaded machine).
    for pair in first.windows(2) {
        let gap = pair[1] - pair[0];
        assert!((0.5..=3.0).contains(&gap), "gap {gap} s in {first:?}");
    }
    // Two more intervals: still 3 samples, the oldest gone.
    wait_until(Duration::from_secs(20), "the history to roll", || {
        let now = stamps(&history());
        now.len() == 3 && now[0] > first[1]
    });
    let later = history();
    assert_eq!(later.as_array().unwrap().len(), 3);
    for s in later.as_array().unwrap() {
        assert_sample(s);
    }
}

#[test]
fn dashboard_answers_from_memory() {
    // An interval far longer than the test: only the first sample is ever taken.
    let agent = Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            extra: "[dashboard]\nscheduler_interval = 3600\n".to_string(),
            ..AgentSetup::default()
        },
    );
    let first = ok_json(&agent, "/dashboard");
    assert_sample(&first);
    let started = Instant::now();
    for _ in 0..20 {
        let again = ok_json(&agent, "/dashboard");
        // The same sample: nothing was read again.
        assert_eq!(again["buffers"], first["buffers"]);
        assert_eq!(again["databases"], first["databases"]);
        assert_eq!(again["cpu"], first["cpu"]);
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        ok_json(&agent, "/dashboard/history")
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Live readings are fresh and are not recorded.
    let live = ok_json(&agent, "/dashboard/live");
    assert!(live["buffers"]["time"].as_f64().unwrap() > first["buffers"]["time"].as_f64().unwrap());
    assert_eq!(
        ok_json(&agent, "/dashboard/history")
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn authentication_session_or_key() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    for path in ENDPOINTS {
        assert_eq!(agent.get_as(path, &session).status, 200, "{path}");
        assert_eq!(with_key(&agent, path).status, 200, "{path}");
        let header = agent.send(Request::get(path).header("X-TemBoard-Agent-Key", KEY));
        assert_eq!(header.status, 200, "{path}");

        let none = agent.get(path);
        assert_eq!(none.status, 406, "{path}");
        assert_eq!(none.error(), "Parameter 'X-Session' is malformed.");
        let unknown = agent.get_as(path, &"0".repeat(64));
        assert_eq!(unknown.status, 401, "{path}");
        assert_eq!(unknown.error(), "Invalid session.");
        let wrong = agent.send(Request::get(&format!("{path}?key=wrong")).session(&session));
        assert_eq!(wrong.status, 401, "{path}");
    }
    assert_eq!(agent.get_as("/dashboard/nothing", &session).status, 404);
}

#[test]
fn postgresql_down_keeps_the_host_part_fresh() {
    let pg = PgCluster::start();
    pg.stop();
    let agent = Agent::start_with(
        &pg,
        AgentSetup {
            extra: "[dashboard]\nscheduler_interval = 1\nhistory_length = 100\n".to_string(),
            ..AgentSetup::default()
        },
    );
    // Started without PostgreSQL: the host part, and nulls for PostgreSQL.
    let v = ok_json(&agent, "/dashboard");
    assert_eq!(sorted_keys(&v), SAMPLE_KEYS, "{v}");
    for key in [
        "buffers",
        "databases",
        "pg_version",
        "max_connections",
        "hitratio",
    ] {
        assert!(v[key].is_null(), "{key}: {v}");
    }
    assert_eq!(v["hostname"], HOSTNAME);
    assert_memory(&v["memory"]);
    assert_cpu(&v["cpu"]);

    pg.start_again();
    wait_until(Duration::from_secs(30), "a complete sample", || {
        !ok_json(&agent, "/dashboard")["buffers"].is_null()
    });
    let good = ok_json(&agent, "/dashboard");
    assert_sample(&good);

    pg.stop();
    // A sample taken after the stop: its PostgreSQL part is the last good one.
    let stopped_at = with_key(&agent, "/dashboard/history")
        .json()
        .as_array()
        .unwrap()
        .len();
    wait_until(
        Duration::from_secs(20),
        "samples without PostgreSQL",
        || {
            ok_json(&agent, "/dashboard/history")
                .as_array()
                .unwrap()
                .len()
                >= stopped_at + 3
        },
    );
    let last_good = {
        let history = ok_json(&agent, "/dashboard/history");
        history.as_array().unwrap().last().unwrap().clone()
    };
    let started = Instant::now();
    let during = ok_json(&agent, "/dashboard");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_sample(&during);
    assert_eq!(during["hostname"], HOSTNAME);
    assert_eq!(during["pg_version"], good["pg_version"]);
    // New samples keep coming (host part), with the PostgreSQL part of the last good
    // one: its own times do not move.
    wait_until(Duration::from_secs(20), "another sample", || {
        let history = ok_json(&agent, "/dashboard/history");
        let samples = history.as_array().unwrap();
        samples.len() > stopped_at + 3 && samples.last().unwrap()["buffers"] == last_good["buffers"]
    });
    assert!(agent.log().contains("PostgreSQL part of the sample failed"));

    // Live readings need PostgreSQL: a clear 500. Host-only endpoints still answer.
    let live = with_key(&agent, "/dashboard/live");
    assert_eq!(live.status, 500);
    assert!(
        live.error().starts_with("PostgreSQL is unreachable: "),
        "{}",
        live.text()
    );
    assert_eq!(with_key(&agent, "/dashboard/buffers").status, 500);
    for path in [
        "/dashboard/cpu",
        "/dashboard/memory",
        "/dashboard/loadaverage",
        "/dashboard/hostname",
        "/dashboard/n_cpu",
        "/dashboard/os_version",
        "/dashboard/config",
        "/dashboard/history",
    ] {
        assert_eq!(with_key(&agent, path).status, 200, "{path}");
    }

    pg.start_again();
    let before = last_good["buffers"]["time"].as_f64().unwrap();
    wait_until(Duration::from_secs(30), "fresh PostgreSQL parts", || {
        ok_json(&agent, "/dashboard")["buffers"]["time"]
            .as_f64()
            .unwrap()
            > before
    });
    assert_eq!(with_key(&agent, "/dashboard/live").status, 200);
    assert!(agent.log().contains("PostgreSQL answers again"));
}

#[test]
fn without_a_configured_hostname_the_machine_name_is_used() {
    let pg = PgCluster::shared();
    let mut agent = Agent::prepare(pg, AgentSetup::default());
    let config = agent
        .config()
        .replace(&format!("hostname = {HOSTNAME}\n"), "");
    assert!(!config.contains(HOSTNAME));
    agent.write_config(&config);
    agent.spawn();
    let name = ok_json(&agent, "/dashboard/hostname")["hostname"]
        .as_str()
        .unwrap()
        .to_string();
    // The FQDN when the resolver knows one, else the plain host name: it starts
    // with the kernel's host name either way, and /discover says the same.
    let kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(name.starts_with(kernel.trim()), "{name} vs {kernel}");
    assert_eq!(agent.get("/discover").json()["hostname"], name.as_str());
    assert_eq!(ok_json(&agent, "/dashboard")["hostname"], name.as_str());
}

/// The CPU models of /proc/cpuinfo (`model name`), one per CPU, as read with grep.
fn cpu_models_of_proc() -> Vec<String> {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim() == "model name")
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

fn pretty_name_of_os_release() -> String {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .unwrap()
        .trim_matches('"')
        .to_string()
}

/// What the temBoard web UI 7.x's dashboard template writes of the host: one
/// "<count> x <model>" per CPU model, then the distribution. It reads the keys
/// as a Jinja template does, so a missing key fails as the UI's server error.
fn render_as_the_ui(data_set: &Value) -> String {
    let models = data_set
        .get("cpu_models")
        .and_then(Value::as_object)
        .expect("cpu_models, an object: the UI's template reads it");
    let mut parts: Vec<String> = models
        .iter()
        .map(|(model, count)| format!("{} x {model}", count.as_u64().expect("a count")))
        .collect();
    parts.push(
        data_set
            .get("linux_distribution")
            .and_then(Value::as_str)
            .expect("linux_distribution, a string: the UI's template reads it")
            .to_string(),
    );
    parts.join(", ")
}

#[test]
fn every_data_set_carries_cpu_models_and_linux_distribution_as_the_ui_reads_them() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    let models = cpu_models_of_proc();
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for model in &models {
        *expected.entry(model.clone()).or_insert(0) += 1;
    }
    let mut parts: Vec<String> = expected.iter().map(|(m, n)| format!("{n} x {m}")).collect();
    parts.push(pretty_name_of_os_release());
    let want = parts.join(", ");

    let history = ok_json(&agent, "/dashboard/history");
    let last = history
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .expect("a sample");
    for (what, data_set) in [
        ("/dashboard", agent.get_as("/dashboard", &session).json()),
        (
            "/dashboard/live",
            agent.get_as("/dashboard/live", &session).json(),
        ),
        ("last item of /dashboard/history", last),
    ] {
        assert_eq!(render_as_the_ui(&data_set), want, "{what}: {data_set}");
        if !models.is_empty() {
            let total: u64 = data_set["cpu_models"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum();
            assert_eq!(total, n_cpu_of_proc(), "{what}: one count per CPU");
        }
    }
    // Every history item has them, not only the last.
    for item in history.as_array().unwrap() {
        render_as_the_ui(item);
    }
}
