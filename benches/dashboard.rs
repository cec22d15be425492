//! Throughput and latency of `GET /dashboard` (answered from memory) and
//! `GET /dashboard/live` (a sample taken now: /proc plus one pipelined round of five
//! PostgreSQL queries) under concurrent clients over HTTPS, and the agent's RSS.
//!
//! Starts the shared test PostgreSQL cluster and the real agent (release build, via
//! `cargo bench`) with the test harness, then for each case sends requests from 1, 4
//! and 16 client threads, each over ONE PERSISTENT TLS CONNECTION (keep-alive, as the
//! temBoard UI talks to the agent), authenticated with `?key=`. One more case opens a
//! new TLS connection per request (`Connection: close`) for reference. Each case stops
//! after `CASE_CAP`. Clients, agent and PostgreSQL share the machine's CPUs.
//!
//! Run: `cargo bench --bench dashboard` (about 40 s). Without `--bench` (e.g.
//! `cargo test --all-targets`) it runs a smoke pass of a few requests per case.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/figures.rs"]
mod figures;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::client::{self, Request};
use common::keep_alive::KeepAlive;
use common::{Agent, PgCluster, KEY};
use figures::{mib, percentile_ms, rss_kib, status_field};

const CASE_CAP: Duration = Duration::from_secs(5);
const SMOKE_REQUESTS: usize = 5;
const THREADS: [usize; 3] = [1, 4, 16];

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let pid = agent.pid();
    // The first samples are taken; the pool has a connection.
    std::thread::sleep(Duration::from_secs(3));
    let idle_rss = rss_kib(pid);

    println!();
    println!(
        "temboard-agent dashboard benchmark: {} CPU(s), loopback, scheduler_interval 2 s",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if !full {
        println!("SMOKE PASS (no --bench argument): numbers meaningless.");
    }
    println!(
        "{:<34} {:>4} {:>7} {:>4} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "case", "thr", "ok", "err", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "RSS MiB"
    );
    let mut cases: Vec<(String, String, bool, usize)> = Vec::new();
    for path in ["/dashboard", "/dashboard/live"] {
        for threads in THREADS {
            cases.push((
                format!("GET {path} keep-alive"),
                path.to_string(),
                true,
                threads,
            ));
        }
    }
    cases.push((
        "GET /dashboard new TLS conn/request".to_string(),
        "/dashboard".to_string(),
        false,
        4,
    ));
    for (name, path, keep_alive, threads) in cases {
        let path = format!("{path}?key={KEY}");
        let (latencies, errors, wall) = run_case(agent.port, &path, keep_alive, threads, full);
        print_row(&name, threads, &latencies, errors, wall, rss_kib(pid));
    }
    println!();
    println!(
        "agent RSS: {:.1} MiB idle after start, {:.1} MiB after the load, peak (VmHWM) {:.1} MiB",
        mib(idle_rss),
        mib(rss_kib(pid)),
        mib(status_field(pid, "VmHWM:"))
    );
}

/// Runs one case; answers the latencies of the 200 answers, the error count and the
/// wall time.
fn run_case(
    port: u16,
    path: &str,
    keep_alive: bool,
    threads: usize,
    full: bool,
) -> (Vec<Duration>, usize, Duration) {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = barrier.clone();
            let path = path.to_string();
            std::thread::spawn(move || {
                let mut conn = KeepAlive::new(port);
                let mut latencies = Vec::new();
                let mut errors = 0;
                if keep_alive {
                    // Connect and handshake outside the numbers.
                    let _ = conn.get(&path);
                }
                barrier.wait();
                let deadline = Instant::now() + CASE_CAP;
                let mut sent = 0;
                while Instant::now() < deadline && (full || sent < SMOKE_REQUESTS) {
                    sent += 1;
                    let t0 = Instant::now();
                    let status = if keep_alive {
                        conn.get(&path).map(|(s, _)| s)
                    } else {
                        client::try_send(port, &Request::get(&path)).map(|r| r.status)
                    };
                    match status {
                        Ok(200) => latencies.push(t0.elapsed()),
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.join().expect("a client thread panicked");
        all.extend(l);
        errors += e;
    }
    (all, errors, start.elapsed())
}

fn print_row(
    name: &str,
    threads: usize,
    latencies: &[Duration],
    errors: usize,
    wall: Duration,
    rss: u64,
) {
    let pct = |p: usize| percentile_ms(latencies, p as f64 / 100.0);
    println!(
        "{:<34} {:>4} {:>7} {:>4} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.1}",
        name,
        threads,
        latencies.len(),
        errors,
        latencies.len() as f64 / wall.as_secs_f64().max(1e-9),
        pct(50),
        pct(90),
        pct(99),
        pct(100),
        mib(rss)
    );
}
