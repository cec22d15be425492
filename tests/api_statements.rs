//! GET /statements against a real PostgreSQL with pg_stat_statements preloaded: each
//! test creates its own database with the extension and points `[statements] dbname`
//! to it. pg_stat_statements is instance-wide and the cluster is shared by the tests
//! of this binary, so a test finds its own statements by their tables (a queryid
//! depends on the table's oid) and checks them against pg_stat_statements read with
//! psql; orders and limits are checked on whatever the instance holds.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use common::client::encode_query_value as encode;
use common::*;

const SPEC_KEYS: [&str; 25] = [
    "rolname",
    "datname",
    "userid",
    "dbid",
    "queryid",
    "query",
    "calls",
    "total_time",
    "min_time",
    "max_time",
    "mean_time",
    "stddev_time",
    "rows",
    "shared_blks_hit",
    "shared_blks_read",
    "shared_blks_dirtied",
    "shared_blks_written",
    "local_blks_hit",
    "local_blks_read",
    "local_blks_dirtied",
    "local_blks_written",
    "temp_blks_read",
    "temp_blks_written",
    "blk_read_time",
    "blk_write_time",
];

/// A database of its own with pg_stat_statements, and an agent reading it.
fn setup(pg: &PgCluster, db: &str, extension: bool) -> Agent {
    pg.psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    pg.psql("postgres", &format!("CREATE DATABASE {db}"));
    if extension {
        pg.psql(db, "CREATE EXTENSION pg_stat_statements");
    }
    agent_for(pg, db)
}

fn agent_for(pg: &PgCluster, db: &str) -> Agent {
    Agent::start_with(
        pg,
        AgentSetup {
            extra: format!("[statements]\ndbname = {db}\nmax_query_length = 64\n"),
            ..AgentSetup::default()
        },
    )
}

/// GET with the agent key; panics unless 200 with a complete JSON body.
fn statements(agent: &Agent, params: &str) -> Value {
    let res = agent.get(&format!("/statements?key={KEY}{params}"));
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json")));
    let body = res.json();
    assert!(body["snapshot_datetime"].is_string(), "{body}");
    body
}

fn rows(body: &Value) -> &Vec<Value> {
    body["data"].as_array().expect("data is a list")
}

/// The rows of `db` whose text mentions `table`.
fn rows_on<'a>(body: &'a Value, db: &str, table: &str) -> Vec<&'a Value> {
    rows(body)
        .iter()
        .filter(|r| r["datname"] == db && r["query"].as_str().is_some_and(|q| q.contains(table)))
        .collect()
}

/// The rows of `db` reading `table` (its SELECT statements, not its CREATE TABLE).
fn selects_on<'a>(body: &'a Value, db: &str, table: &str) -> Vec<&'a Value> {
    rows_on(body, db, table)
        .into_iter()
        .filter(|r| r["query"].as_str().unwrap().starts_with("SELECT"))
        .collect()
}

fn run_times(pg: &PgCluster, db: &str, sql: &str, times: usize) {
    for _ in 0..times {
        pg.psql(db, sql);
    }
}

#[test]
fn a_query_run_is_counted_with_its_database_and_role() {
    let pg = PgCluster::shared();
    let db = "stmt_counts";
    let agent = setup(pg, db, true);
    pg.psql(db, "CREATE TABLE counted_table (i int)");
    run_times(pg, db, "SELECT count(*) FROM counted_table", 3);

    let body = statements(&agent, "");
    let found = rows_on(&body, db, "counted_table");
    let selects: Vec<&&Value> = found
        .iter()
        .filter(|r| r["query"].as_str().unwrap().starts_with("SELECT"))
        .collect();
    assert_eq!(
        selects.len(),
        1,
        "one row per (user, database, query): {found:?}"
    );
    let row = selects[0];

    // Ground truth from PostgreSQL itself.
    let truth = pg.psql(
        db,
        "SELECT s.queryid, s.userid, s.dbid, s.calls FROM pg_stat_statements s \
         JOIN pg_database d ON d.oid = s.dbid \
         WHERE d.datname = current_database() AND s.query = 'SELECT count(*) FROM counted_table'",
    );
    let truth: Vec<&str> = truth.split('|').collect();
    assert_eq!(row["queryid"].as_i64().unwrap().to_string(), truth[0]);
    assert_eq!(row["userid"].as_u64().unwrap().to_string(), truth[1]);
    assert_eq!(row["dbid"].as_u64().unwrap().to_string(), truth[2]);
    assert_eq!(row["calls"], 3);
    assert_eq!(truth[3], "3");
    assert_eq!(row["rolname"], "postgres");
    assert_eq!(row["datname"], db);
    assert_eq!(row["rows"], 3);
    assert_eq!(row["query"], "SELECT count(*) FROM counted_table");

    // Every key of the spec, without the example's stray spaces, with its type.
    let object = row.as_object().unwrap();
    for key in SPEC_KEYS {
        assert!(object.contains_key(key), "{key} missing: {row}");
    }
    assert!(!object.contains_key("datname ") && !object.contains_key("temp_blks_read "));
    for key in &SPEC_KEYS[6..] {
        assert!(row[key].is_number(), "{key} is a number: {row}");
    }
    // PostgreSQL 15 names the times *_exec_time: both names are answered.
    for (spec, server) in [
        ("total_time", "total_exec_time"),
        ("min_time", "min_exec_time"),
        ("max_time", "max_exec_time"),
        ("mean_time", "mean_exec_time"),
        ("stddev_time", "stddev_exec_time"),
    ] {
        assert_eq!(row[spec], row[server], "{spec}");
    }
    let total = row["total_time"].as_f64().unwrap();
    let mean = row["mean_time"].as_f64().unwrap();
    assert!((total / 3.0 - mean).abs() < 1e-6, "{row}");

    // Counting goes on.
    run_times(pg, db, "SELECT count(*) FROM counted_table", 2);
    let body = statements(&agent, "");
    let again: Vec<&Value> = rows_on(&body, db, "counted_table")
        .into_iter()
        .filter(|r| r["query"].as_str().unwrap().starts_with("SELECT"))
        .collect();
    assert_eq!(again[0]["calls"], 5);
}

#[test]
fn statements_need_a_session_or_the_key() {
    let pg = PgCluster::shared();
    let db = "stmt_auth";
    let agent = setup(pg, db, true);
    let res = agent.get("/statements");
    assert_eq!(res.status, 406);
    assert_eq!(res.error(), "Parameter 'X-Session' is malformed.");
    let res = agent.get("/statements?key=wrong");
    assert_eq!(res.status, 401);
    let session = agent.login();
    let res = agent.get_as("/statements", &session);
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["data"].is_array());
    let res = agent.send(Request::get("/statements").header("X-TemBoard-Agent-Key", KEY));
    assert_eq!(res.status, 200);
}

#[test]
fn missing_extension_or_database_is_404_saying_how_to_fix_it() {
    let pg = PgCluster::shared();
    let db = "stmt_noext";
    let agent = setup(pg, db, false);
    let res = agent.get(&format!("/statements?key={KEY}"));
    assert_eq!(res.status, 404);
    let error = res.error();
    assert!(
        error.contains("not installed in database stmt_noext"),
        "{error}"
    );
    assert!(
        error.contains("CREATE EXTENSION pg_stat_statements"),
        "{error}"
    );

    // Once created, it answers.
    pg.psql(db, "CREATE EXTENSION pg_stat_statements");
    statements(&agent, "");

    let agent = agent_for(pg, "stmt_no_such_db");
    let res = agent.get(&format!("/statements?key={KEY}"));
    assert_eq!(res.status, 404);
    let error = res.error();
    assert!(
        error.contains("stmt_no_such_db") && error.contains("[statements] dbname"),
        "{error}"
    );
}

#[test]
fn extension_not_preloaded_is_404_saying_how_to_fix_it() {
    // A cluster of its own: it is restarted without pg_stat_statements preloaded
    // (an empty list would be written as one empty library name).
    let pg = PgCluster::start();
    pg.psql(
        "postgres",
        "ALTER SYSTEM SET shared_preload_libraries = 'plpgsql'",
    );
    pg.stop();
    pg.start_again();
    pg.psql("postgres", "CREATE EXTENSION pg_stat_statements");
    let agent = agent_for(&pg, "postgres");
    let res = agent.get(&format!("/statements?key={KEY}"));
    assert_eq!(res.status, 404);
    let error = res.error();
    assert!(error.contains("not loaded"), "{error}");
    assert!(error.contains("shared_preload_libraries"), "{error}");
    assert!(error.contains("restart PostgreSQL"), "{error}");
}

fn numbers(rows: &[Value], key: &str) -> Vec<f64> {
    rows.iter().map(|r| r[key].as_f64().unwrap()).collect()
}

fn non_increasing(values: &[f64]) -> bool {
    values
        .windows(2)
        .all(|w| w[0] >= w[1] - 1e-9 * w[1].abs().max(1.0))
}

#[test]
fn limit_order_and_text_parameters() {
    let pg = PgCluster::shared();
    let db = "stmt_params";
    let agent = setup(pg, db, true);
    pg.psql(
        db,
        "CREATE TABLE often_run (i int); CREATE TABLE slow_run (i int)",
    );
    run_times(pg, db, "SELECT count(*) FROM often_run", 6);
    pg.psql(db, "SELECT pg_sleep(0.5), count(*) FROM slow_run");
    let long = format!(
        "SELECT count(*) FROM often_run WHERE {}",
        vec!["i IS NOT NULL"; 20].join(" AND ")
    );
    pg.psql(db, &long);

    // Everything, with text cut at max_query_length (64) characters.
    let all = statements(&agent, "");
    let total = rows(&all).len();
    assert!(total >= 4, "{all}");
    let long_row = rows(&all)
        .iter()
        .find(|r| {
            r["datname"] == db
                && r["query"]
                    .as_str()
                    .is_some_and(|q| q.starts_with("SELECT count(*) FROM often_run WHERE"))
        })
        .expect("the long statement");
    assert_eq!(long_row["query"].as_str().unwrap(), &long[..64]);

    // order: descending, on each of the three counters; limit: that many rows.
    for (order, key) in [
        ("calls", "calls"),
        ("total_time", "total_time"),
        ("mean_time", "mean_time"),
    ] {
        let body = statements(&agent, &format!("&order={order}"));
        let values = numbers(rows(&body), key);
        assert!(non_increasing(&values), "{order}: {values:?}");
        let body = statements(&agent, &format!("&order={order}&limit=3"));
        assert_eq!(rows(&body).len(), 3, "{order}: {body}");
        let top = numbers(rows(&body), key);
        assert!(non_increasing(&top), "{order}: {top:?}");
        // The top 3 are the largest of the instance (calls and total times only grow
        // in between; means may not).
        if order != "mean_time" {
            assert!(top[2] >= values[2] - 1e-9, "{order}: {top:?} vs {values:?}");
        }
    }
    // limit alone: the most total time first.
    let body = statements(&agent, "&limit=2");
    assert_eq!(rows(&body).len(), 2);
    assert!(non_increasing(&numbers(rows(&body), "total_time")));

    // The slow statement comes before the quick one in mean time. (Not necessarily
    // first of the database: the agent's own snapshot statements run there too.)
    let body = statements(&agent, "&order=mean_time");
    let position = |table: &str| {
        rows(&body)
            .iter()
            .position(|r| {
                r["datname"] == db
                    && r["query"]
                        .as_str()
                        .is_some_and(|q| q.starts_with("SELECT") && q.contains(table))
            })
            .unwrap_or_else(|| panic!("{table} in {body}"))
    };
    assert!(position("slow_run") < position("often_run"));
    // And often_run leads its calls.
    let body = statements(&agent, "&order=calls");
    let often = rows(&body)
        .iter()
        .find(|r| r["datname"] == db && r["query"] == "SELECT count(*) FROM often_run")
        .unwrap();
    assert_eq!(often["calls"], 6);

    // text=false: no text at all, the same counters.
    let body = statements(&agent, "&text=false&order=calls");
    assert!(rows(&body).len() >= total);
    assert!(rows(&body).iter().all(|r| r["query"].is_null()), "{body}");
    let by_key: BTreeMap<(u64, u64, i64), &Value> = rows(&body)
        .iter()
        .map(|r| {
            let key = (
                r["userid"].as_u64().unwrap(),
                r["dbid"].as_u64().unwrap(),
                r["queryid"].as_i64().unwrap(),
            );
            (key, r)
        })
        .collect();
    let often_key = (
        often["userid"].as_u64().unwrap(),
        often["dbid"].as_u64().unwrap(),
        often["queryid"].as_i64().unwrap(),
    );
    assert_eq!(by_key[&often_key]["calls"], 6);
    assert!(non_increasing(&numbers(rows(&body), "calls")));

    // Bad values: 406 naming the parameter.
    for (params, name) in [
        ("&limit=0", "limit"),
        ("&limit=x", "limit"),
        ("&order=rows", "order"),
        ("&text=yes", "text"),
        ("&since=now", "since"),
    ] {
        let res = agent.get(&format!("/statements?key={KEY}{params}"));
        assert_eq!(res.status, 406, "{params}");
        assert_eq!(res.error(), format!("Parameter '{name}' is malformed."));
    }
}

#[test]
fn since_answers_only_what_ran_after_the_earlier_snapshot() {
    let pg = PgCluster::shared();
    let db = "stmt_since";
    let agent = setup(pg, db, true);
    pg.psql(
        db,
        "CREATE TABLE before_only (i int); CREATE TABLE both_sides (i int)",
    );
    run_times(pg, db, "SELECT count(*) FROM before_only", 2);
    run_times(pg, db, "SELECT count(*) FROM both_sides", 3);

    let first = statements(&agent, "");
    let at = first["snapshot_datetime"].as_str().unwrap().to_string();
    let both = selects_on(&first, db, "both_sides");
    assert_eq!(both.len(), 1, "{first}");
    assert_eq!(both[0]["calls"], 3);
    let total_before = both[0]["total_time"].as_f64().unwrap();

    run_times(pg, db, "SELECT count(*) FROM both_sides", 2);
    pg.psql(db, "CREATE TABLE after_only (i int)");
    pg.psql(db, "SELECT count(*) FROM after_only");

    let diff = statements(&agent, &format!("&since={}", encode(&at)));
    assert_ne!(diff["snapshot_datetime"], at);
    let both = rows_on(&diff, db, "both_sides");
    let both: Vec<&&Value> = both
        .iter()
        .filter(|r| r["query"].as_str().unwrap().starts_with("SELECT"))
        .collect();
    assert_eq!(both.len(), 1, "{diff}");
    assert_eq!(both[0]["calls"], 2, "only the calls since {at}");
    assert_eq!(both[0]["rows"], 2);
    // Ground truth: the cumulative total now, minus the total then.
    let total_now: f64 = pg
        .psql(
            db,
            "SELECT total_exec_time FROM pg_stat_statements \
             WHERE query = 'SELECT count(*) FROM both_sides' AND dbid = \
             (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .parse()
        .unwrap();
    let diff_total = both[0]["total_time"].as_f64().unwrap();
    assert!(
        (diff_total - (total_now - total_before)).abs() < 1e-6,
        "{diff_total} vs {total_now} - {total_before}"
    );
    let mean = both[0]["mean_time"].as_f64().unwrap();
    assert!((mean - diff_total / 2.0).abs() < 1e-6);
    // Not run since: absent. New since: all its calls.
    assert!(rows_on(&diff, db, "before_only").is_empty(), "{diff}");
    let after = rows_on(&diff, db, "after_only");
    let after_select = after
        .iter()
        .find(|r| r["query"].as_str().unwrap().starts_with("SELECT"))
        .expect("the new statement");
    assert_eq!(after_select["calls"], 1);
    // Every answered row ran in between.
    assert!(rows(&diff).iter().all(|r| r["calls"].as_i64().unwrap() > 0));

    // A chain: since the diff's own snapshot, nothing of ours ran.
    let next_at = diff["snapshot_datetime"].as_str().unwrap().to_string();
    let quiet = statements(&agent, &format!("&since={}", encode(&next_at)));
    assert!(selects_on(&quiet, db, "both_sides").is_empty(), "{quiet}");

    // The earlier snapshot stays usable, with limit and order on the difference.
    run_times(pg, db, "SELECT count(*) FROM both_sides", 4);
    let ordered = statements(
        &agent,
        &format!("&since={}&order=calls&limit=50", encode(&at)),
    );
    let calls = numbers(rows(&ordered), "calls");
    assert!(non_increasing(&calls), "{calls:?}");
    let both = selects_on(&ordered, db, "both_sides");
    assert_eq!(both[0]["calls"], 6, "2 + 4 calls since {at}");

    // A '+' left unencoded arrives as a space: still found.
    let raw = statements(&agent, &format!("&since={}", at.replace(' ', "%20")));
    assert!(raw["data"].is_array());

    // A time that names no kept snapshot: 404.
    let res = agent.get(&format!(
        "/statements?key={KEY}&since={}",
        encode("2001-01-01 00:00:00+00")
    ));
    assert_eq!(res.status, 404);
    assert!(res.error().contains("2001-01-01 00:00:00+00"));
}

#[test]
fn only_the_last_snapshots_are_kept() {
    let pg = PgCluster::shared();
    let db = "stmt_kept";
    let agent = setup(pg, db, true);
    let first = statements(&agent, "&text=false");
    let at = first["snapshot_datetime"].as_str().unwrap().to_string();
    // Ten more snapshots push the first one out.
    for _ in 0..10 {
        statements(&agent, "&text=false&limit=1");
    }
    wait_until(
        Duration::from_secs(10),
        "the first snapshot to be forgotten",
        || {
            agent
                .get(&format!("/statements?key={KEY}&since={}", encode(&at)))
                .status
                == 404
        },
    );
}

#[test]
fn older_extension_versions_are_read_with_their_column_names() {
    let pg = PgCluster::shared();
    // 1.4 (PostgreSQL 9.6's) names the times total_time, ...; 1.8 (13's) total_exec_time.
    for (db, version, exec_names) in [("stmt_v14", "1.4", false), ("stmt_v18", "1.8", true)] {
        let agent = setup(pg, db, false);
        pg.psql(
            db,
            &format!("CREATE EXTENSION pg_stat_statements VERSION '{version}'"),
        );
        pg.psql(db, "CREATE TABLE versioned (i int)");
        run_times(pg, db, "SELECT count(*) FROM versioned", 2);
        let body = statements(&agent, "&order=calls");
        let row = rows_on(&body, db, "versioned")
            .into_iter()
            .find(|r| r["query"].as_str().unwrap().starts_with("SELECT"))
            .unwrap_or_else(|| panic!("{version}: {body}"));
        assert_eq!(row["calls"], 2, "{version}");
        for key in SPEC_KEYS {
            assert!(row.get(key).is_some(), "{version}: {key} missing");
        }
        assert_eq!(
            row.get("total_exec_time").is_some(),
            exec_names,
            "{version}: {row}"
        );
    }
}

/// The extension version each major server creates by default, and the naming the
/// agent reads it with: 1.8 (PostgreSQL 13) to 1.12 (18).
fn default_extension_version(server_version_num: u32) -> &'static str {
    match server_version_num / 10000 {
        13 => "1.8",
        14 => "1.9",
        15 | 16 => "1.10",
        17 => "1.11",
        18 => "1.12",
        major => panic!("no known pg_stat_statements version for PostgreSQL {major}"),
    }
}

#[test]
fn the_servers_own_extension_version_is_read() {
    let pg = PgCluster::shared();
    let db = "stmt_default_version";
    let agent = setup(pg, db, true);
    let server = pg.server_version_num();
    let version = pg.psql(
        db,
        "SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'",
    );
    assert_eq!(
        version,
        default_extension_version(server),
        "server {server}"
    );
    pg.psql(db, "CREATE TABLE own_version (i int)");
    run_times(pg, db, "SELECT count(*) FROM own_version", 2);
    let body = statements(&agent, "");
    let selects = selects_on(&body, db, "own_version");
    assert_eq!(selects.len(), 1, "{version}: {body}");
    let row = selects[0];
    assert_eq!(row["calls"], 2, "{version}: {row}");
    for key in SPEC_KEYS {
        assert!(row.get(key).is_some(), "{version}: {key} missing");
    }
    assert_eq!(
        row["total_exec_time"], row["total_time"],
        "{version}: {row}"
    );
    // 1.11 (PostgreSQL 17) split the I/O times into shared and local blocks: the
    // spec's blk_*_time are their sums, and the split times are answered too.
    let split = server >= 170000;
    for key in [
        "shared_blk_read_time",
        "shared_blk_write_time",
        "local_blk_read_time",
        "local_blk_write_time",
    ] {
        assert_eq!(row.get(key).is_some(), split, "{version}: {key} in {row}");
    }
    if split {
        let sum = |a: &str, b: &str| row[a].as_f64().unwrap() + row[b].as_f64().unwrap();
        assert_eq!(
            row["blk_read_time"].as_f64().unwrap(),
            sum("shared_blk_read_time", "local_blk_read_time")
        );
        assert_eq!(
            row["blk_write_time"].as_f64().unwrap(),
            sum("shared_blk_write_time", "local_blk_write_time")
        );
    }
}

#[test]
fn concurrent_requests_all_get_complete_answers() {
    let pg = PgCluster::shared();
    let db = "stmt_concurrent";
    let agent = setup(pg, db, true);
    // More than the snapshots read at once (4): the others wait for their turn.
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let agent = &agent;
                s.spawn(move || {
                    let params = if i % 2 == 0 { "" } else { "&text=false" };
                    rows(&statements(agent, params)).len()
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap() > 0);
        }
    });
}

/// The bytes of a chunked body, and whether its terminating chunk came.
fn dechunk(mut data: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(end) = data.windows(2).position(|w| w == b"\r\n") else {
            return (body, false);
        };
        let size_text = String::from_utf8_lossy(&data[..end]).to_string();
        let Ok(size) = usize::from_str_radix(size_text.trim(), 16) else {
            return (body, false);
        };
        data = &data[end + 2..];
        if size == 0 {
            return (body, true);
        }
        if data.len() < size + 2 {
            body.extend_from_slice(&data[..size.min(data.len())]);
            return (body, false);
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[test]
fn a_failure_midway_truncates_the_answer() {
    use std::io::{Read, Write};

    let pg = PgCluster::shared();
    let db = "stmt_midway";
    pg.psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    pg.psql("postgres", &format!("CREATE DATABASE {db}"));
    pg.psql(db, "CREATE EXTENSION pg_stat_statements");
    // 2,000 distinct statements (IN lists of each length) with 16 kB of text each:
    // about 32 MB of answer, far more than every buffer between PostgreSQL and us.
    // The lists name a column: PostgreSQL 18 merges lists of constants into one entry.
    pg.psql(
        db,
        "SET pg_stat_statements.track = 'all';
         DO $$
         BEGIN
             FOR k IN 1..2000 LOOP
                 EXECUTE format('SELECT /* %s */ 1 FROM (SELECT 1 AS a) AS s WHERE a IN (%s)',
                                repeat('m', 16384),
                                array_to_string(array_fill('a'::text, ARRAY[k]), ','));
             END LOOP;
         END
         $$;",
    );
    let agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: format!("[statements]\ndbname = {db}\n"),
            ..AgentSetup::default()
        },
    );

    // A client that reads the start of the answer, then stops reading.
    let tcp = std::net::TcpStream::connect(("127.0.0.1", agent.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(common::client::tls_config(), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    write!(
        tls,
        "GET /statements?key={KEY} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    tls.flush().unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    while raw.len() < 200_000 {
        let n = tls.read(&mut buf).unwrap();
        assert!(n > 0, "answer ended early");
        raw.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&raw[..raw.len().min(300)]).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    // The agent's connection goes away while it streams.
    let terminate = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE datname = 'stmt_midway' AND application_name = 'temboard-agent'";
    assert_eq!(pg.psql("postgres", terminate), "1");

    // The rest: no terminating chunk, JSON that does not parse.
    loop {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let (body, complete) = dechunk(&raw[split + 4..]);
    assert!(!complete, "the answer must not look complete");
    assert!(body.starts_with(b"{\"snapshot_datetime\":"));
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    wait_until(
        Duration::from_secs(10),
        "the failure in the agent's log",
        || agent.log().contains("failed midway"),
    );

    // The next snapshot works, and the failed one was not kept.
    let body = statements(&agent, "&text=false&limit=1");
    assert_eq!(rows(&body).len(), 1);
}

/// The 1.11 snapshot statement (PostgreSQL 17+) on any server, against a stand-in
/// function with 1.11's column names and known counters: a statement counted both
/// top-level and nested (two rows to merge). The real 1.11 and 1.12 are read by
/// `the_servers_own_extension_version_is_read` on 17 and 18.
#[test]
fn the_1_11_statement_reads_split_io_times_and_merges_nested_executions() {
    use actors::statements::columns::{snapshot_sql, Naming};

    let pg = PgCluster::shared();
    let db = "stmt_v111";
    pg.psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    pg.psql("postgres", &format!("CREATE DATABASE {db}"));
    let blocks: String = [
        "shared_blks_hit",
        "shared_blks_read",
        "shared_blks_dirtied",
        "shared_blks_written",
        "local_blks_hit",
        "local_blks_read",
        "local_blks_dirtied",
        "local_blks_written",
        "temp_blks_read",
        "temp_blks_written",
    ]
    .iter()
    .map(|b| format!("OUT {b} int8, "))
    .collect();
    // Executions: 1 ms and 1 ms top-level, 3 ms and 3 ms nested.
    pg.psql(
        db,
        &format!(
            "CREATE SCHEMA v111;
             CREATE FUNCTION v111.pg_stat_statements(showtext boolean,
                 OUT userid oid, OUT dbid oid, OUT toplevel bool, OUT queryid bigint,
                 OUT query text, OUT plans int8, OUT calls int8, OUT total_exec_time float8,
                 OUT min_exec_time float8, OUT max_exec_time float8,
                 OUT mean_exec_time float8, OUT stddev_exec_time float8, OUT rows int8,
                 {blocks}
                 OUT shared_blk_read_time float8, OUT shared_blk_write_time float8,
                 OUT local_blk_read_time float8, OUT local_blk_write_time float8,
                 OUT temp_blk_read_time float8, OUT temp_blk_write_time float8)
             RETURNS SETOF record LANGUAGE sql AS $$
                 SELECT 10::oid, 1::oid, t, 42::int8,
                        CASE WHEN showtext THEN 'SELECT v111' END, 0::int8, 2::int8,
                        2.0 * m, m, m, m, 0.0::float8, 2::int8,
                        1::int8, 1::int8, 1::int8, 1::int8, 1::int8,
                        1::int8, 1::int8, 1::int8, 1::int8, 1::int8,
                        0.5::float8, 0.25::float8, 0.125::float8, 0.0625::float8,
                        0::float8, 0::float8
                 FROM (VALUES (true, 1.0::float8), (false, 3.0::float8)) AS v(t, m)
             $$;"
        ),
    );
    let sql = snapshot_sql(Naming::SharedBlk, "v111", None);
    let out = pg.psql(
        db,
        &format!(
            "SET search_path = pg_catalog, v111;
             PREPARE snapshot AS {sql};
             EXECUTE snapshot(true, 64, NULL, '{{}}', '{{}}', '{{}}', '{{}}', '{{}}');"
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "one row per (user, database, query): {out}");
    let columns: Vec<&str> = lines[0].split('|').collect();
    let column = |i: usize| columns[i].parse::<f64>().unwrap();
    // rolname|datname|userid|dbid|queryid|query|calls|total|min|max|mean|stddev|rows|...
    assert_eq!(columns[4], "42");
    assert_eq!(columns[5], "SELECT v111");
    assert_eq!(columns[6], "4", "calls summed");
    assert_eq!(column(7), 8.0, "total time summed");
    assert_eq!(
        (column(8), column(9)),
        (1.0, 3.0),
        "min of mins, max of maxes"
    );
    assert_eq!(column(10), 2.0, "mean over both");
    assert!(
        (column(11) - 1.0).abs() < 1e-9,
        "pooled stddev: {}",
        columns[11]
    );
    assert_eq!(columns[12], "4");
    assert_eq!(columns[13], "2", "blocks summed");
    // blk_read_time = shared + local; then the split times themselves.
    assert_eq!(column(23), 2.0 * (0.5 + 0.125));
    assert_eq!(column(24), 2.0 * (0.25 + 0.0625));
    assert_eq!(
        (column(25), column(26), column(27), column(28)),
        (1.0, 0.5, 0.25, 0.125)
    );
}

fn oid(text: &str) -> Value {
    Value::from(text.parse::<u64>().expect("an oid"))
}

/// Every row names its role and database with strings.
fn assert_names_are_strings(body: &Value) {
    for row in rows(body) {
        assert!(
            row["datname"].is_string() && row["rolname"].is_string(),
            "{row}"
        );
    }
}

#[test]
fn statements_of_a_dropped_database_or_role_are_left_out() {
    let pg = PgCluster::shared();
    let home = "stmt_home";
    let agent = setup(pg, home, true);
    let doomed = "stmt_doomed";
    pg.fresh_db(doomed);
    pg.psql(doomed, "CREATE TABLE doomed_db_t (i int)");
    run_times(pg, doomed, "SELECT count(*) FROM doomed_db_t", 2);
    let doomed_oid = pg.psql(
        "postgres",
        &format!("SELECT oid FROM pg_database WHERE datname = '{doomed}'"),
    );
    pg.psql(
        home,
        "DROP ROLE IF EXISTS stmt_doomed_role; CREATE ROLE stmt_doomed_role; \
         CREATE TABLE doomed_role_t (i int); GRANT SELECT ON doomed_role_t TO stmt_doomed_role",
    );
    pg.psql(
        home,
        "SET ROLE stmt_doomed_role; SELECT count(*) FROM doomed_role_t; RESET ROLE",
    );
    let role_oid = pg.psql(
        "postgres",
        "SELECT oid FROM pg_roles WHERE rolname = 'stmt_doomed_role'",
    );

    let before = statements(&agent, "");
    assert_eq!(
        selects_on(&before, doomed, "doomed_db_t").len(),
        1,
        "{before}"
    );
    let role_rows: Vec<&Value> = rows(&before)
        .iter()
        .filter(|r| r["rolname"] == "stmt_doomed_role")
        .collect();
    assert!(!role_rows.is_empty(), "{before}");
    let at = before["snapshot_datetime"].as_str().unwrap().to_string();

    pg.psql("postgres", &format!("DROP DATABASE {doomed} WITH (FORCE)"));
    pg.psql(
        home,
        "DROP TABLE doomed_role_t; DROP OWNED BY stmt_doomed_role; DROP ROLE stmt_doomed_role",
    );
    // Ground truth: pg_stat_statements keeps the entries of both.
    let kept = pg.psql(
        home,
        &format!(
            "SELECT count(*) > 0 AND bool_or(dbid = {doomed_oid}) AND bool_or(userid = {role_oid}) \
             FROM pg_stat_statements WHERE dbid = {doomed_oid} OR userid = {role_oid}"
        ),
    );
    assert_eq!(kept, "t", "pg_stat_statements still holds them");

    for params in [String::new(), format!("&since={}", encode(&at))] {
        let body = statements(&agent, &params);
        assert_names_are_strings(&body);
        let gone: Vec<&Value> = rows(&body)
            .iter()
            .filter(|r| r["dbid"] == oid(&doomed_oid) || r["userid"] == oid(&role_oid))
            .collect();
        assert!(gone.is_empty(), "{params}: {gone:?}");
    }
    // The other statements are still answered.
    assert!(!rows(&statements(&agent, "")).is_empty());
}
