//! Shared activity listings (`[activity] max_age_ms`): concurrent requests share one
//! reading and each gets its own filters applied to it; a listing is never served
//! to a request that arrived more than max_age_ms after its reading began; with
//! max_age_ms = 0 every request reads PostgreSQL anew. How often an agent read is
//! counted with pg_stat_statements: each test's agent connects to a database of its
//! own, so that the tests running at once do not count each other's readings.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

/// An agent connected to `db` (created), reading listings again for `ms`.
fn agent_with_max_age(pg: &PgCluster, db: &str, ms: u64) -> Agent {
    pg.fresh_db(db);
    Agent::start_with(
        pg,
        AgentSetup {
            extra: format!("[postgresql]\ndbname = {db}\n\n[activity]\nmax_age_ms = {ms}\n"),
            ..AgentSetup::default()
        },
    )
}

fn listing(agent: &Agent, session: &str, path: &str) -> Vec<Value> {
    let res = agent.get_as(path, session);
    assert_eq!(res.status, 200, "{path}: {}", res.text());
    res.json()["rows"].as_array().expect("rows").clone()
}

fn pids(rows: &[Value]) -> BTreeSet<i64> {
    rows.iter().map(|r| r["pid"].as_i64().unwrap()).collect()
}

/// How many times an agent connected to `db` has run the /activity listing.
fn listing_reads(pg: &PgCluster, db: &str) -> i64 {
    pg.psql(
        "postgres",
        &format!(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements \
             WHERE query LIKE '%AS waiting%FROM pg_catalog.pg_stat_activity AS a%' \
             AND dbid = (SELECT oid FROM pg_database WHERE datname = '{db}')"
        ),
    )
    .parse()
    .unwrap()
}

/// `n` sessions of `db` sleeping, and their pids.
fn sleepers(pg: &PgCluster, db: &str, n: usize) -> (Vec<Bg>, BTreeSet<i64>) {
    let tag = format!("sleeper_{db}");
    let sessions: Vec<Bg> = (0..n)
        .map(|_| Bg::run(pg, db, &format!("SELECT pg_sleep(600) /* {tag} */")))
        .collect();
    let sql = format!(
        "SELECT pid FROM pg_stat_activity WHERE query LIKE '%/* {tag} */' \
         AND wait_event = 'PgSleep' ORDER BY pid"
    );
    let mut found = BTreeSet::new();
    wait_until(WAIT, &format!("{n} sleepers in {db}"), || {
        found = pg
            .psql("postgres", &sql)
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        found.len() == n
    });
    (sessions, found)
}

/// pg_stat_statements readable from `postgres`, created once (concurrent CREATE
/// EXTENSION IF NOT EXISTS can collide).
fn with_statements(pg: &PgCluster) {
    static CREATED: std::sync::Once = std::sync::Once::new();
    CREATED.call_once(|| {
        pg.psql(
            "postgres",
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
        );
    });
}

fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn concurrent_requests_share_a_reading_and_each_sees_its_own_filters() {
    let pg = PgCluster::shared();
    pg.fresh_db("share_a");
    pg.fresh_db("share_b");
    with_statements(pg);
    let (_a, in_a) = sleepers(pg, "share_a", 6);
    let (_b, in_b) = sleepers(pg, "share_b", 4);
    let agent = agent_with_max_age(pg, "share_agent", 10_000);
    let session = agent.login();
    let reads_before = listing_reads(pg, "share_agent");

    let answers: Vec<(String, Vec<Value>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let (agent, session) = (&agent, &session);
                scope.spawn(move || {
                    let path = [
                        "/activity",
                        "/activity?dbname=share_a",
                        "/activity?dbname=share_b",
                        "/activity?limit=3",
                        "/activity?dbname=share_a&user=postgres",
                        "/activity?min_duration=0",
                        "/activity?dbname=share_b&limit=2",
                        "/activity?user=nobody",
                    ][t];
                    (0..10)
                        .map(|_| (path.to_string(), listing(agent, session, path)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let everyone: BTreeSet<i64> = in_a.union(&in_b).copied().collect();
    for (path, rows) in &answers {
        let got = pids(rows);
        let durations: Vec<f64> = rows
            .iter()
            .map(|r| r["duration"].as_f64().unwrap())
            .collect();
        assert!(
            durations.windows(2).all(|w| w[0] >= w[1]),
            "{path}: longest first: {durations:?}"
        );
        match path.as_str() {
            "/activity?dbname=share_a" | "/activity?dbname=share_a&user=postgres" => {
                assert_eq!(got, in_a, "{path}")
            }
            "/activity?dbname=share_b" => assert_eq!(got, in_b, "{path}"),
            "/activity?dbname=share_b&limit=2" => {
                assert_eq!(rows.len(), 2, "{path}");
                assert!(got.is_subset(&in_b), "{path}: {got:?}");
            }
            "/activity?limit=3" => assert_eq!(rows.len(), 3, "{path}"),
            "/activity?user=nobody" => assert!(rows.is_empty(), "{path}"),
            _ => assert!(got.is_superset(&everyone), "{path}: {got:?}"),
        }
        for row in rows {
            if everyone.contains(&row["pid"].as_i64().unwrap()) {
                let db = if in_a.contains(&row["pid"].as_i64().unwrap()) {
                    "share_a"
                } else {
                    "share_b"
                };
                assert_eq!(row["database"], db, "{path}: {row}");
            }
        }
    }
    // 80 requests within 10 s of each other: one reading (two if the first one
    // began just before the others came).
    let reads = listing_reads(pg, "share_agent") - reads_before;
    assert!((1..=2).contains(&reads), "{reads} readings for 80 requests");
}

#[test]
fn with_max_age_zero_every_request_reads_anew() {
    let pg = PgCluster::shared();
    with_statements(pg);
    let agent = agent_with_max_age(pg, "share_zero", 0);
    let session = agent.login();
    let before = listing_reads(pg, "share_zero");
    for _ in 0..15 {
        listing(&agent, &session, "/activity");
    }
    assert_eq!(listing_reads(pg, "share_zero") - before, 15);

    // And a long max_age reads once for the same requests.
    let agent = agent_with_max_age(pg, "share_long", 60_000);
    let session = agent.login();
    let before = listing_reads(pg, "share_long");
    for _ in 0..15 {
        listing(&agent, &session, "/activity");
    }
    assert_eq!(listing_reads(pg, "share_long") - before, 1);
}

#[test]
fn a_listing_older_than_max_age_is_never_served() {
    let pg = PgCluster::shared();
    pg.fresh_db("share_age");
    with_statements(pg);
    let (_sleeper, pid) = sleepers(pg, "share_age", 1);
    let pid = *pid.iter().next().unwrap();
    // When the sleeper's query began, by the server's clock (the machine's).
    let query_start: f64 = pg
        .psql(
            "postgres",
            &format!(
                "SELECT extract(epoch FROM query_start) FROM pg_stat_activity WHERE pid = {pid}"
            ),
        )
        .parse()
        .unwrap();
    let max_age = 0.3;
    let agent = agent_with_max_age(pg, "share_age_agent", 300);
    let session = agent.login();
    let before = listing_reads(pg, "share_age_agent");
    let deadline = epoch_now() + 2.5;
    let served: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (agent, session) = (&agent, &session);
                scope.spawn(move || {
                    let mut n = 0;
                    while epoch_now() < deadline {
                        let sent = epoch_now();
                        let rows = listing(agent, session, "/activity?dbname=share_age");
                        let row = rows
                            .iter()
                            .find(|r| r["pid"] == pid)
                            .unwrap_or_else(|| panic!("the sleeper is listed: {rows:?}"));
                        // The listing's reading began at query_start + duration (the
                        // duration is rounded to the millisecond).
                        let read_at = query_start + row["duration"].as_f64().unwrap();
                        assert!(
                            read_at >= sent - max_age - 0.002,
                            "a listing read {:.3} s before the request was sent",
                            sent - read_at
                        );
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let reads = listing_reads(pg, "share_age_agent") - before;
    // The test means something only if listings were served again.
    assert!(
        (reads as usize) < served,
        "{reads} readings for {served} requests"
    );
    assert!(reads >= 2, "2.5 s of requests need more than one reading");
}
