//! Cost of one monitoring collector run on the real agent, with 1, 20 and 100
//! databases.
//!
//! Starts a private PostgreSQL cluster, makes a template database with `TABLES`
//! analyzed tables (each with a primary key and a second index, so the bloat probes
//! have statistics to read) and clones it as many times as a case needs. For each
//! case it starts the real `temboard-agent` (bench profile) and waits for `RUNS`
//! collector runs, twice: with the default probes (`probes = *`, every 2 s) and with
//! every probe (the bloat estimates included, every 2 s + 1 s per 10 databases, so
//! that a run fits in its time box). It
//! reports, per case, the wall time of a run (from the collector's own
//! `took_ms` log line: probes, record building and the durable write) as p50 and max,
//! the agent's CPU time (user + system from /proc/<pid>/stat) per run, averaged
//! over the runs, and the agent's resident memory after them.
//!
//! Run: `cargo bench --bench monitoring` (about 3 minutes on 2 cores). Without
//! `--bench` on the command line it runs a smoke pass (1 and 3 databases, 2 runs).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/figures.rs"]
mod figures;

use std::time::{Duration, Instant};

use common::{wait_until, Agent, AgentSetup, PgCluster};
use figures::{cpu_seconds, ms, percentile_ms, rss_kib};

const TABLES: usize = 20;
const RUNS: usize = 6;
const SMOKE_RUNS: usize = 2;

/// Wall times of the collector runs the agent logged so far.
fn run_times(agent: &Agent) -> Vec<Duration> {
    agent
        .log()
        .lines()
        .filter(|l| l.contains("collector run recorded"))
        .filter_map(|l| {
            let after = l.split("took_ms").nth(1)?;
            let digits: String = after
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit())
                .collect();
            digits.parse().ok().map(Duration::from_millis)
        })
        .collect()
}

fn ensure_databases(pg: &PgCluster, n: usize) {
    for i in 1..=n {
        let name = format!("bench_db_{i}");
        if pg
            .psql(
                "postgres",
                &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
            )
            .trim()
            == "0"
        {
            pg.psql(
                "postgres",
                &format!("CREATE DATABASE {name} TEMPLATE bench_template"),
            );
        }
    }
}

fn case(pg: &PgCluster, databases: usize, probes: &str, runs: usize) {
    // Long enough that a run fits in its time box (90 % of the interval).
    let interval = if probes == "*" { 2 } else { 2 + databases / 10 };
    let mut agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: format!("[monitoring]\nscheduler_interval = {interval}\nprobes = {probes}\n"),
            ..AgentSetup::default()
        },
    );
    // The first run has no baselines: measure from the end of the first run on.
    wait_until(Duration::from_secs(300), "the first collector run", || {
        !run_times(&agent).is_empty()
    });
    let cpu_before = cpu_seconds(agent.pid());
    let started = Instant::now();
    wait_until(
        Duration::from_secs(600),
        &format!("{runs} more collector runs"),
        || run_times(&agent).len() > runs,
    );
    let cpu = Duration::from_secs_f64((cpu_seconds(agent.pid()) - cpu_before).max(0.0));
    let elapsed = started.elapsed();
    let times: Vec<Duration> = run_times(&agent)[1..=runs].to_vec();
    println!(
        "{databases:>3} databases, {:<13} run wall p50={:>7.1} ms max={:>7.1} ms   \
         agent CPU per run={:>6.1} ms   RSS {} kB   ({runs} runs in {:.1} s)",
        if probes == "*" {
            "default probes"
        } else {
            "every probe"
        },
        percentile_ms(&times, 0.5),
        percentile_ms(&times, 1.0),
        ms(cpu) / runs as f64,
        rss_kib(agent.pid()),
        elapsed.as_secs_f64(),
    );
    agent.terminate();
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (cases, runs): (&[usize], usize) = if full {
        (&[1, 20, 100], RUNS)
    } else {
        (&[1, 3], SMOKE_RUNS)
    };
    let pg = PgCluster::start();
    pg.psql("postgres", "CREATE DATABASE bench_template");
    pg.psql(
        "bench_template",
        &format!(
            "DO $$ BEGIN FOR i IN 1..{TABLES} LOOP \
               EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', i); \
               EXECUTE format('CREATE INDEX ON t%s (v)', i); \
               EXECUTE format('INSERT INTO t%s SELECT g, md5(g::text) \
                               FROM generate_series(1, 1000) g', i); \
             END LOOP; END $$;"
        ),
    );
    pg.psql("bench_template", "ANALYZE");
    let every: Vec<&str> = actors::monitoring::registry::PROBES
        .iter()
        .map(|p| p.name)
        .collect();
    let every = every.join(", ");
    for &n in cases {
        // bench_template itself is one database; the cases count the clones.
        ensure_databases(&pg, n.saturating_sub(1));
        case(&pg, n, "*", runs);
        case(&pg, n, &every, runs);
    }
}
