//! Monitoring collector and history against a real agent and a real PostgreSQL:
//! one record per interval in the 7.x layout, `start`/`limit` of
//! /monitoring/history, the store window, records surviving a `kill -9`,
//! /monitoring/config, probe errors that leave the other probes' results, and
//! PostgreSQL down (private cluster). The probes' own values are checked in
//! `api_monitoring_probes.rs` and `api_monitoring_host.rs`.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

fn monitoring(extra: &str) -> AgentSetup {
    AgentSetup {
        extra: format!("[monitoring]\n{extra}\n"),
        ..AgentSetup::default()
    }
}

fn history(agent: &Agent, query: &str) -> Vec<Value> {
    let res = agent.get(&format!("/monitoring/history?key={KEY}&{query}"));
    assert_eq!(res.status, 200, "{}", res.text());
    res.json().as_array().expect("a list").clone()
}

/// Every record kept, oldest first.
fn all_records(agent: &Agent) -> Vec<Value> {
    history(agent, "start=1970-01-01T00:00:00Z&limit=10000")
}

/// Waits until the history holds at least `n` records; answers them all.
fn wait_records(agent: &Agent, n: usize) -> Vec<Value> {
    let mut records = Vec::new();
    wait_until(
        Duration::from_secs(60),
        &format!("{n} monitoring records"),
        || {
            records = all_records(agent);
            records.len() >= n
        },
    );
    records
}

/// `2026-11-29 06:44:17 +0000` -> `2026-11-29T06:44:17Z` (the `start` form).
fn as_start(datetime: &str) -> String {
    let (date, rest) = datetime.split_once(' ').unwrap();
    let time = rest.split_once(' ').unwrap().0;
    format!("{date}T{time}Z")
}

#[test]
fn the_collector_writes_one_record_per_interval_in_the_7x_layout() {
    let pg = PgCluster::shared();
    let agent = Agent::start_with(pg, monitoring("scheduler_interval = 1"));
    let records = wait_records(&agent, 3);

    let first = &records[0];
    assert_eq!(
        sorted_keys(first),
        ["data", "datetime", "hostinfo", "instances", "version"]
    );
    let datetime = first["datetime"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_str(datetime, "%Y-%m-%d %H:%M:%S %z").is_ok(),
        "{datetime}"
    );
    // Every registered probe has its list, run or not.
    let mut probes: Vec<&str> = actors::monitoring::registry::PROBES
        .iter()
        .map(|p| p.name)
        .collect();
    probes.sort_unstable();
    assert_eq!(sorted_keys(&first["data"]), probes);
    for rows in first["data"].as_object().unwrap().values() {
        for row in rows.as_array().expect("a list per probe") {
            let at = row["datetime"].as_str().expect("every row has datetime");
            assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
        }
    }

    let instances = first["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 1);
    let instance = &instances[0];
    assert_eq!(
        sorted_keys(instance),
        [
            "available",
            "data_directory",
            "database",
            "dbnames",
            "host",
            "hostname",
            "instance",
            "local_name",
            "max_connections",
            "port",
            "standby",
            "sysuser",
            "tablespaces",
            "user",
            "version",
            "version_num"
        ]
    );
    assert_eq!(instance["available"], true);
    assert_eq!(instance["port"], pg.port());
    assert_eq!(instance["hostname"], HOSTNAME);
    assert_eq!(instance["standby"], false);
    assert_eq!(
        instance["max_connections"],
        pg.psql("postgres", "SHOW max_connections")
    );
    assert_eq!(
        instance["version_num"],
        pg.psql("postgres", "SHOW server_version_num")
            .parse::<i64>()
            .unwrap()
    );
    assert_eq!(
        instance["data_directory"].as_str().unwrap(),
        pg.psql("postgres", "SHOW data_directory")
    );
    let dbnames: Vec<&str> = instance["dbnames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["dbname"].as_str().unwrap())
        .collect();
    assert!(dbnames.contains(&"postgres"), "{dbnames:?}");
    assert!(!records.iter().any(|r| r.to_string().contains("password")));
    assert_eq!(first["hostinfo"]["hostname"], HOSTNAME);
    assert_eq!(first["version"], "7.11");

    // db_size rows are the instance's databases, at the record's time.
    let db_size = first["data"]["db_size"].as_array().unwrap();
    assert!(db_size
        .iter()
        .any(|r| r["dbname"] == "postgres" && r["size"].as_i64().unwrap() > 0));

    // Oldest first, one run per interval (give or take a skipped tick).
    let times: Vec<&str> = records
        .iter()
        .map(|r| r["datetime"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_eq!(times, sorted);
}

#[test]
fn history_honours_start_and_limit_and_refuses_malformed_ones() {
    let pg = PgCluster::shared();
    let agent = Agent::start_with(pg, monitoring("scheduler_interval = 1"));
    let records = wait_records(&agent, 4);

    let epoch = "start=1970-01-01T00:00:00Z";
    assert_eq!(history(&agent, &format!("{epoch}&limit=2")), records[..2]);
    // Default limit: 50.
    assert_eq!(history(&agent, epoch).len(), records.len().min(50));
    // Without start, the most recent record only (as 7.x).
    let latest = history(&agent, "limit=10");
    assert_eq!(latest.len(), 1);
    assert!(latest[0]["datetime"].as_str() >= records.last().unwrap()["datetime"].as_str());

    // Records taken at or after `start` (to the second), oldest first.
    let start = as_start(records[1]["datetime"].as_str().unwrap());
    let from = history(&agent, &format!("start={start}"));
    for r in &from {
        assert!(as_start(r["datetime"].as_str().unwrap()) >= start, "{r}");
    }
    let expected: Vec<&Value> = records
        .iter()
        .filter(|r| as_start(r["datetime"].as_str().unwrap()) >= start)
        .collect();
    assert_eq!(&from[0], expected[0]);
    assert!(from.contains(&records[1]));
    assert!(history(&agent, "start=2999-01-01T00:00:00Z").is_empty());

    for bad in [
        "limit=0",
        "limit=-3",
        "limit=ten",
        "start=yesterday",
        "start=2026-11-29%2006:44:17",
        "start=2019-02-30T10:00:00Z",
    ] {
        let res = agent.get(&format!("/monitoring/history?key={KEY}&{bad}"));
        assert_eq!(res.status, 406, "{bad}: {}", res.text());
        let name = bad.split('=').next().unwrap();
        assert_eq!(res.error(), format!("Parameter '{name}' is malformed."));
    }
    // Key or session needed (no X-Session is a malformed one); a wrong key is refused.
    assert_eq!(agent.get("/monitoring/history").status, 406);
    assert_eq!(agent.get("/monitoring/history?key=wrong").status, 401);
    let session = agent.login();
    assert_eq!(agent.get_as("/monitoring/history", &session).status, 200);
}

#[test]
fn the_store_keeps_only_the_window() {
    let pg = PgCluster::shared();
    let mut agent = Agent::start_with(
        pg,
        monitoring("scheduler_interval = 1\nhistory_window = 60"),
    );
    wait_records(&agent, 1);
    agent.terminate();
    // A record from two hours ago, as a previous run would have left it.
    let old = chrono::Utc::now().timestamp() - 7200;
    agent.store_sql(&format!(
        "INSERT INTO monitoring_history (at, record) VALUES ({old}, '{{\"old\": true}}')"
    ));
    assert_eq!(
        agent
            .store_sql("SELECT count(*) FROM monitoring_history WHERE record LIKE '%old%'")
            .trim(),
        "1"
    );
    agent.spawn();
    let before = all_records(&agent).len();
    // The next append trims: the old record is gone.
    wait_until(Duration::from_secs(30), "the old record to go", || {
        let all = all_records(&agent);
        all.len() > before || !all.iter().any(|r| r.get("old").is_some())
    });
    wait_records(&agent, before + 1);
    assert!(!all_records(&agent).iter().any(|r| r.get("old").is_some()));
}

#[test]
fn records_the_api_showed_survive_a_kill_9() {
    let pg = PgCluster::shared();
    let mut agent = Agent::start_with(pg, monitoring("scheduler_interval = 1"));
    let shown = wait_records(&agent, 2);
    agent.kill9();
    agent.spawn();
    let after = all_records(&agent);
    assert!(after.len() >= shown.len());
    assert_eq!(after[..shown.len()], shown[..]);
}

#[test]
fn config_answers_dbnames_and_scheduler_interval() {
    let pg = PgCluster::shared();
    let agent = Agent::start_with(
        pg,
        monitoring("dbnames = postgres, other\nscheduler_interval = 3600"),
    );
    let res = agent.get(&format!("/monitoring/config?key={KEY}"));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json(),
        serde_json::json!({"dbnames": ["postgres", "other"], "scheduler_interval": 3600})
    );
    let agent = Agent::start(pg);
    assert_eq!(
        agent.get(&format!("/monitoring/config?key={KEY}")).json(),
        serde_json::json!({"dbnames": ["*"], "scheduler_interval": 60})
    );
}

#[test]
fn an_unknown_probe_is_404_and_a_bad_probes_setting_stops_the_start() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let res = agent.get(&format!("/monitoring/probe/nope?key={KEY}"));
    assert_eq!(res.status, 404);
    assert_eq!(res.error(), "Unknown probe 'nope'.");
    assert_eq!(agent.get("/monitoring/probe/db_size").status, 406);
    assert_eq!(
        agent
            .send(Request::get("/monitoring/probe/db_size").header("X-Session", "nothex"))
            .status,
        406
    );

    let mut bad = Agent::prepare(pg, monitoring("probes = db_size, cpu, bogus"));
    let log = bad
        .try_spawn()
        .expect_err("a bad probes setting stops the start");
    assert!(log.contains("[monitoring] probes"), "{log}");
    assert!(log.contains("bogus"), "{log}");
}

#[test]
fn a_failing_probe_is_skipped_and_the_others_are_kept() {
    let pg = PgCluster::shared();
    // A role without pg_monitor: it cannot list pg_wal (wal_files fails), and a
    // database it may not connect to is skipped by the per-database probes.
    pg.psql(
        "postgres",
        "DROP ROLE IF EXISTS tba_plain; CREATE ROLE tba_plain LOGIN",
    );
    pg.psql("postgres", "DROP DATABASE IF EXISTS tba_closed");
    pg.psql("postgres", "CREATE DATABASE tba_closed");
    pg.psql(
        "postgres",
        "REVOKE CONNECT ON DATABASE tba_closed FROM PUBLIC",
    );
    let mut agent = Agent::prepare(
        pg,
        // Only these databases: its heap_bloat visits must not add commits to the
        // other tests' databases.
        monitoring(
            "scheduler_interval = 1\ndbnames = postgres, tba_closed\n\
             probes = db_size, tblspc_size, wal_files, heap_bloat, memory",
        ),
    );
    agent.write_config(
        &agent
            .config()
            .replace("user = postgres", "user = tba_plain"),
    );
    agent.spawn();
    let records = wait_records(&agent, 2);
    let data = &records[1]["data"];
    assert!(data["wal_files"].as_array().unwrap().is_empty());
    // Sizes it may not read are null, the others are there.
    let size_of = |probe: &str, key: &str, name: &str| {
        data[probe]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[key] == name)
            .unwrap_or_else(|| panic!("{probe} has no {name}: {data}"))["size"]
            .clone()
    };
    assert!(size_of("db_size", "dbname", "postgres").as_i64().unwrap() > 0);
    assert_eq!(size_of("db_size", "dbname", "tba_closed"), Value::Null);
    assert!(
        size_of("tblspc_size", "spcname", "pg_default")
            .as_i64()
            .unwrap()
            > 0
    );
    assert_eq!(size_of("tblspc_size", "spcname", "pg_global"), Value::Null);
    assert!(!data["memory"].as_array().unwrap().is_empty());
    let bloat_dbs: Vec<&str> = data["heap_bloat"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dbname"].as_str().unwrap())
        .collect();
    assert!(bloat_dbs.contains(&"postgres"), "{bloat_dbs:?}");
    assert!(!bloat_dbs.contains(&"tba_closed"), "{bloat_dbs:?}");
    let log = agent.log();
    assert!(
        log.contains("probe failed") && log.contains("wal_files"),
        "{log}"
    );
    assert!(log.contains("tba_closed"), "{log}");
    // Logged once, not at every run.
    wait_records(&agent, 4);
    assert_eq!(
        agent
            .log()
            .lines()
            .filter(|l| l.contains("probe failed") && l.contains("wal_files"))
            .count(),
        1
    );
    // On demand, the failing probe answers its error.
    let res = agent.get(&format!("/monitoring/probe/wal_files?key={KEY}"));
    assert_eq!(res.status, 500, "{}", res.text());
    // A superuser's session is one this role may not look into: no_priv.
    let _busy = Bg::run(pg, "tba_closed", "SELECT pg_sleep(600) /* tba_no_priv */");
    wait_until(Duration::from_secs(30), "a no_priv session", || {
        let res = agent.get(&format!("/monitoring/probe/sessions?key={KEY}"));
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["dbname"] == "tba_closed" && r["no_priv"].as_i64().unwrap() >= 1)
    });
}

#[test]
fn postgresql_down_keeps_host_probes_and_records_coming() {
    let pg = PgCluster::start();
    let agent = Agent::start_with(&pg, monitoring("scheduler_interval = 1"));
    wait_records(&agent, 1);
    pg.stop();
    let res = agent.get(&format!("/monitoring/probe/db_size?key={KEY}"));
    assert_eq!(res.status, 500, "{}", res.text());
    assert!(
        res.error().starts_with("PostgreSQL is unreachable"),
        "{}",
        res.error()
    );
    let res = agent.get(&format!("/monitoring/probe/memory?key={KEY}"));
    assert_eq!(res.status, 200, "{}", res.text());

    // Records go on, with the host part and the instance marked unavailable.
    let mut down = None;
    wait_until(Duration::from_secs(30), "a record taken while down", || {
        down = all_records(&agent)
            .into_iter()
            .find(|r| r["instances"][0]["available"] == false);
        down.is_some()
    });
    let down = down.unwrap();
    assert!(!down["data"]["memory"].as_array().unwrap().is_empty());
    assert!(down["data"]["db_size"].as_array().unwrap().is_empty());

    // Said once for all PostgreSQL probes, not once per probe and run.
    let told = |what: &str| agent.log().lines().filter(|l| l.contains(what)).count();
    wait_records(&agent, all_records(&agent).len() + 2);
    assert_eq!(
        told("PostgreSQL probes skipped until PostgreSQL answers"),
        1
    );
    assert_eq!(told("probe failed"), 0, "{}", agent.log());

    pg.start_again();
    wait_until(Duration::from_secs(30), "db_size after restart", || {
        agent
            .get(&format!("/monitoring/probe/db_size?key={KEY}"))
            .status
            == 200
    });
    wait_until(
        Duration::from_secs(30),
        "the collector to see it back",
        || told("PostgreSQL answers the probes again") == 1,
    );
}

#[test]
fn history_deltas_add_up_to_the_commits_made_between_runs() {
    let pg = PgCluster::shared();
    pg.psql("postgres", "DROP DATABASE IF EXISTS tba_commits");
    pg.psql("postgres", "CREATE DATABASE tba_commits");
    let agent = Agent::start_with(pg, monitoring("scheduler_interval = 1"));
    // The first record has no xacts (no baseline); wait for one that has ours.
    wait_until(Duration::from_secs(30), "xacts rows in a record", || {
        all_records(&agent).iter().any(|r| {
            r["data"]["xacts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["dbname"] == "tba_commits")
        })
    });
    let commits_in = |records: &[Value]| -> i64 {
        records
            .iter()
            .flat_map(|r| r["data"]["xacts"].as_array().unwrap().iter())
            .filter(|x| x["dbname"] == "tba_commits")
            .map(|x| x["n_commit"].as_i64().unwrap())
            .sum()
    };
    let before = all_records(&agent);
    let counted_before = commits_in(&before);
    // 40 transactions, each committed, in the test's database (one psql call
    // each: psql -c runs a multi-statement string as one transaction).
    for _ in 0..40 {
        pg.psql("tba_commits", "SELECT 1");
    }
    // Deltas telescope: their sum over the records since the baseline is the
    // counter's growth, so the test's 40 commits show up in full.
    let mut counted = 0;
    wait_until(
        Duration::from_secs(30),
        "the 40 commits in the history",
        || {
            counted = commits_in(&all_records(&agent)) - counted_before;
            counted >= 40
        },
    );
    assert!(counted <= 90, "{counted}");
    // Each psql session also commits its start-up transaction: 80, plus what an
    // autovacuum worker may commit there; a delta counted twice would be 160.
    wait_until(Duration::from_secs(30), "the sessions' commits", || {
        counted = commits_in(&all_records(&agent)) - counted_before;
        counted >= 80
    });
    assert!(counted <= 90, "{counted}");
    for r in all_records(&agent) {
        for x in r["data"]["xacts"].as_array().unwrap() {
            assert!(x["measure_interval"].as_f64().unwrap() > 0.0, "{x}");
        }
    }
}
