//! Latency of `GET /activity` against the time of its SQL query alone, with 50 and
//! with 250 idle connections.
//!
//! Starts a private PostgreSQL cluster and the real agent (release build) with the
//! test harness (`tests/common`). Idle connections are held by `dblink` from one psql
//! session per step (50, then 200 more). For each step it measures, one request at a
//! time, spaced by `SPACING` (more than the 50 ms under which the agent reuses its
//! last CPU/I/O rates, so every request does the full /proc work of a UI refresh):
//!
//! - `sql`: the agent's own listing query (`actors::activity::queries::list`, i.e.
//!   prepare + execute on a pooled connection), from this process;
//! - `proc`: one pass over `/proc/<pid>/{stat,io}` for the pids it answered;
//! - `http`: `GET /activity?key=...` over one persistent TLS connection (as the
//!   temBoard UI talks to the agent): authentication, the actor, SQL, /proc, JSON;
//!   against an agent with `[activity] max_age_ms = 0`, so that every request reads.
//!
//! It prints p50/p90/max of each and the ratio of the http and sql medians.
//!
//! Then, with the 250 idle connections, the concurrent case of a busy UI: 8 client
//! threads for `LOAD_TIME`, every request on a new TLS connection (full handshakes,
//! then resumed ones), then over keep-alive connections, against the agent with `[activity] max_age_ms` 250 (the
//! default: listings shared) and 0 (every request reads anew, as before). Each line
//! gives requests/s, p50, p99 and the agent's CPU per request (from /proc/<pid>/stat)
//! next to the floor: the SQL and the /proc pass of one listing, measured above.
//!
//! Run: `cargo bench --bench activity` (about 30 s). Without `--bench` on the
//! command line (e.g. `cargo test --all-targets`), a smoke pass of a few requests.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/figures.rs"]
mod figures;
#[path = "support/load.rs"]
mod load;

use std::process::Child;
use std::time::{Duration, Instant};

use actors::activity::proc_reader::ProcReader;
use actors::activity::queries::{self, Filters, Kind};
use actors::pg_access::PgAccess;
use actors::pg_supervisor::PgSettings;
use common::keep_alive::KeepAlive;
use common::{wait_until, Agent, PgCluster, KEY};
use figures::percentile_ms;

const REQUESTS: usize = 100;
const SMOKE_REQUESTS: usize = 3;
const SPACING: Duration = Duration::from_millis(60);
const DB: &str = "bench_activity";
/// How long each concurrent case runs (the smoke pass: `SMOKE_LOAD_TIME`).
const LOAD_TIME: Duration = Duration::from_secs(6);
const SMOKE_LOAD_TIME: Duration = Duration::from_millis(300);
const LOAD_THREADS: usize = 8;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let requests = if full { REQUESTS } else { SMOKE_REQUESTS };
    let pg = PgCluster::shared();
    pg.psql("postgres", &format!("CREATE DATABASE {DB}"));
    pg.psql(DB, "CREATE EXTENSION dblink");
    let agent = Agent::start(pg);
    let system = actix::System::new();
    // The pool starts a timer: it is made inside the runtime.
    let access = system.block_on(async { PgAccess::new(pg_settings(pg)) });

    println!(
        "{:<28} {:>6} {:>9} {:>9} {:>9}",
        "case", "rows", "p50 ms", "p90 ms", "max ms"
    );
    let reading_anew = Agent::start_with(
        pg,
        common::AgentSetup {
            extra: "[activity]\nmax_age_ms = 0\n".to_string(),
            ..common::AgentSetup::default()
        },
    );
    let mut holders: Vec<Holder> = Vec::new();
    let mut total = 0;
    let mut floor_ms = 0.0;
    for target in [50, 250] {
        holders.push(Holder::open(pg, total, target - total));
        total = target;
        let sql = system.block_on(time_sql(&access, requests));
        let proc = time_proc(&system, &access, requests);
        let http = time_http(reading_anew.port, requests);
        print_row(&format!("{target} idle: sql alone"), &sql);
        print_row(&format!("{target} idle: /proc pass"), &proc);
        print_row(&format!("{target} idle: GET /activity"), &http);
        println!(
            "{:<28} http/sql p50 ratio: {:.2}",
            format!("{target} idle:"),
            median(&http.latencies) / median(&sql.latencies)
        );
        floor_ms = median(&sql.latencies) + median(&proc.latencies);
    }
    let load_time = if full { LOAD_TIME } else { SMOKE_LOAD_TIME };
    let floor = format!(
        "sql + /proc of one listing {floor_ms:.2} ms (at most {:.0} listings/s per core)",
        1000.0 / floor_ms
    );
    println!();
    let path = format!("/activity?key={KEY}");
    for (name, target) in [("max_age_ms 0", &reading_anew), ("max_age_ms 250", &agent)] {
        for (handshake, resume) in [("full handshakes", false), ("resumed handshakes", true)] {
            let load = load::run(
                target.port,
                target.pid(),
                &path,
                LOAD_THREADS,
                load_time,
                load::client_config(resume),
            );
            load::print(
                &format!("250 idle, {LOAD_THREADS} clients, {name}, {handshake}"),
                &load,
                &floor,
            );
        }
        let load = load::run_keep_alive(target.port, target.pid(), &path, LOAD_THREADS, load_time);
        load::print(
            &format!("250 idle, {LOAD_THREADS} clients, {name}, keep-alive"),
            &load,
            &floor,
        );
    }
    drop(holders);
    // The agent's own account of its last listings (SQL and /proc pass, in ms).
    let log = agent.log();
    let listed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("backends listed"))
        .collect();
    for line in &listed[listed.len().saturating_sub(3)..] {
        println!("agent: {line}");
    }
}

fn pg_settings(pg: &PgCluster) -> PgSettings {
    PgSettings {
        host: pg.socket_dir().display().to_string(),
        port: pg.port(),
        user: "postgres".to_string(),
        password: None,
        dbname: "postgres".to_string(),
        statement_timeout_ms: 30_000,
        lock_timeout_ms: 5_000,
        connect_timeout: Duration::from_secs(5),
        max_connections: 4,
        health_interval: Duration::from_secs(5),
        pg_ctl: None,
        control_timeout: Duration::from_secs(60),
    }
}

/// A psql session holding `count` idle dblink connections until dropped.
struct Holder(Child);

impl Holder {
    fn open(pg: &PgCluster, first: usize, count: usize) -> Holder {
        let conninfo = format!(
            "host={} port={} user=postgres dbname={DB} application_name=bench_idle",
            pg.socket_dir().display(),
            pg.port()
        );
        let sql = format!(
            "SELECT count(dblink_connect('c' || i, '{conninfo}')) \
             FROM generate_series({}, {}) AS i; SELECT pg_sleep(3600)",
            first + 1,
            first + count
        );
        let child = pg.spawn_psql(DB, &sql);
        let expected = (first + count).to_string();
        wait_until(Duration::from_secs(60), "the idle connections", || {
            pg.psql(
                "postgres",
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench_idle'",
            ) == expected
        });
        Holder(child)
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

struct Timings {
    rows: usize,
    latencies: Vec<Duration>,
}

async fn time_sql(access: &PgAccess, requests: usize) -> Timings {
    let mut latencies = Vec::with_capacity(requests);
    let mut rows = 0;
    // One warm-up: the pool's connection.
    queries::list(access, Kind::All, &Filters::default())
        .await
        .expect("the listing query");
    for _ in 0..requests {
        tokio::time::sleep(SPACING).await;
        let start = Instant::now();
        let listed = queries::list(access, Kind::All, &Filters::default())
            .await
            .expect("the listing query");
        latencies.push(start.elapsed());
        rows = listed.len();
    }
    Timings { rows, latencies }
}

fn time_proc(system: &actix::SystemRunner, access: &PgAccess, requests: usize) -> Timings {
    let listed = system
        .block_on(queries::list(access, Kind::All, &Filters::default()))
        .expect("the listing query");
    let pids: Vec<i32> = listed.iter().map(|r| r.backend.pid).collect();
    let reader = ProcReader::system();
    let mut latencies = Vec::with_capacity(requests);
    for _ in 0..requests {
        let start = Instant::now();
        let _ = reader.uptime();
        let read = pids.iter().filter_map(|&p| reader.sample(p)).count();
        latencies.push(start.elapsed());
        assert_eq!(read, pids.len(), "every backend readable");
    }
    Timings {
        rows: pids.len(),
        latencies,
    }
}

fn time_http(port: u16, requests: usize) -> Timings {
    let mut client = KeepAlive::new(port);
    let path = format!("/activity?key={KEY}");
    let (_, warm_up) = client.get(&path).expect("GET /activity");
    let mut latencies = Vec::with_capacity(requests);
    let mut rows = 0;
    for _ in 0..requests {
        std::thread::sleep(SPACING);
        let start = Instant::now();
        let (status, body) = client.get(&path).expect("GET /activity");
        latencies.push(start.elapsed());
        assert_eq!(status, 200, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        rows = json["rows"].as_array().expect("rows").len();
    }
    drop(warm_up);
    Timings { rows, latencies }
}

fn median(latencies: &[Duration]) -> f64 {
    percentile_ms(latencies, 0.5)
}

fn print_row(case: &str, t: &Timings) {
    let max = percentile_ms(&t.latencies, 1.0);
    println!(
        "{case:<28} {:>6} {:>9.2} {:>9.2} {:>9.2}",
        t.rows,
        median(&t.latencies),
        percentile_ms(&t.latencies, 0.9),
        max
    );
}
