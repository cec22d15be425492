//! Latency of the maintenance endpoints on the real agent.
//!
//! Starts a private PostgreSQL cluster and the real `temboard-agent` (bench profile)
//! with the black-box test harness, creates a database with `TABLES` tables (one in
//! ten with a primary key) plus one filled table, then times, one request after the
//! other from one client thread:
//!
//! - the pages: `GET /maintenance`, `/maintenance/<db>`, the schema page (every table,
//!   then a page of 100), a table page;
//! - scheduling: `POST .../analyze` with a datetime next year (a PostgreSQL existence
//!   check plus a durable SQLite write before the answer), and an immediate ANALYZE
//!   from the POST until the task's list shows it `done` (includes the scheduler's
//!   one-second tick at most).
//!
//! Each request opens a new TLS connection (the harness client), so every figure
//! includes a TCP connect and a TLS handshake. It prints p50 / p90 / max per case and
//! the agent's VmRSS at the end.
//!
//! Run: `cargo bench --bench maintenance` (about 30 s on 2 cores). Without `--bench`
//! on the command line it runs a smoke pass with few tables and requests.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/figures.rs"]
mod figures;

use std::time::{Duration, Instant};

use common::client::Request;
use common::{Agent, PgCluster};
use figures::{percentile_ms, rss_kib};
use serde_json::json;

const TABLES: usize = 2000;
const SMOKE_TABLES: usize = 50;
const REPEAT: usize = 20;
const SMOKE_REPEAT: usize = 2;

fn report(name: &str, samples: Vec<Duration>) {
    println!(
        "{name:<44} n={:<4} p50={:>8.1} ms  p90={:>8.1} ms  max={:>8.1} ms",
        samples.len(),
        percentile_ms(&samples, 0.5),
        percentile_ms(&samples, 0.9),
        percentile_ms(&samples, 1.0),
    );
}

fn time(agent: &Agent, session: &str, name: &str, repeat: usize, request: impl Fn() -> Request) {
    let mut samples = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let started = Instant::now();
        let res = agent.send(request().session(session));
        samples.push(started.elapsed());
        assert_eq!(res.status, 200, "{name}: {}", res.text());
    }
    report(name, samples);
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (tables, repeat) = if full {
        (TABLES, REPEAT)
    } else {
        (SMOKE_TABLES, SMOKE_REPEAT)
    };
    let pg = PgCluster::start();
    let db = "bench_maintenance";
    pg.psql("postgres", &format!("CREATE DATABASE {db}"));
    pg.psql(db, "CREATE SCHEMA s");
    let started = Instant::now();
    pg.psql(
        db,
        &format!(
            "DO $$ BEGIN FOR i IN 1..{tables} LOOP \
               EXECUTE format('CREATE TABLE s.t%s (id int%s)', i, \
                              CASE WHEN i % 10 = 0 THEN ' PRIMARY KEY' ELSE '' END); \
               IF i % 500 = 0 THEN COMMIT; END IF; \
             END LOOP; END $$;"
        ),
    );
    pg.psql(
        db,
        "CREATE TABLE public.filled (id int PRIMARY KEY, v text);\
         INSERT INTO public.filled SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g;",
    );
    pg.psql(db, "VACUUM ANALYZE public.filled");
    println!(
        "setup: {tables} tables in schema s and a 100,000-row table in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let agent = Agent::start(&pg);
    let session = agent.login();

    time(&agent, &session, "GET /maintenance", repeat, || {
        Request::get("/maintenance")
    });
    time(&agent, &session, "GET /maintenance/<db>", repeat, || {
        Request::get(&format!("/maintenance/{db}"))
    });
    time(
        &agent,
        &session,
        &format!("GET schema page ({tables} tables)"),
        repeat,
        || Request::get(&format!("/maintenance/{db}/schema/s")),
    );
    time(
        &agent,
        &session,
        "GET schema page (limit=100)",
        repeat,
        || Request::get(&format!("/maintenance/{db}/schema/s?limit=100&offset=500")),
    );
    time(&agent, &session, "GET table page", repeat, || {
        Request::get(&format!("/maintenance/{db}/schema/public/table/filled"))
    });
    let analyze = format!("/maintenance/{db}/schema/public/table/filled/analyze");
    time(
        &agent,
        &session,
        "POST analyze next year (durable)",
        repeat * 5,
        || {
            Request::post(
                &analyze,
                json!({ "datetime": "2099-01-01T00:00:00Z" }).to_string(),
            )
        },
    );

    let mut samples = Vec::new();
    for _ in 0..repeat.min(10) {
        let started = Instant::now();
        let res = agent.send(Request::post(&analyze, "{}").session(&session));
        assert_eq!(res.status, 200, "{}", res.text());
        let id = res.json()["id"].as_str().unwrap().to_string();
        loop {
            let list = agent.send(Request::get("/maintenance/analyze/scheduled").session(&session));
            let done = list
                .json()
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["id"] == id.as_str() && t["status"] == "done");
            if done {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "ANALYZE did not finish"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        samples.push(started.elapsed());
    }
    report("ANALYZE now: POST until listed done", samples);
    println!("agent VmRSS at the end: {} kB", rss_kib(agent.pid()));
}
