//! Latency of `GET /statements` and the agent's memory against a pg_stat_statements
//! holding thousands of distinct statements with megabytes of query text.
//!
//! Starts a private PostgreSQL cluster (pg_stat_statements.max raised to 10000 so that
//! nothing is evicted) and the real `temboard-agent` binary (bench profile, i.e.
//! release) with the black-box test harness, then generates distinct statements in
//! two steps (500, then 5,000 in all): one table each and a `SELECT count(*)` on it
//! whose text carries a comment of 1 kB, or of 40 kB for one statement in ten (cut
//! by the agent at max_query_length, 16 kB), i.e. about 24 MB of query text at 5,000.
//! For each step it starts a fresh agent and times a few requests of each case:
//! `text=false`, with text, `limit=100&order=total_time`, and `since` an earlier
//! snapshot; after each case it reads the agent's VmRSS and VmHWM (peak RSS) from
//! /proc/<pid>/status. The client (the harness's: one TLS connection per request,
//! whole body read) runs on the same machine and competes for the CPUs.
//!
//! Run: `cargo bench --bench statements` (about a minute on 2 cores). Without `--bench`
//! on the command line (e.g. `cargo test --all-targets`) it runs a quick smoke pass on
//! a few statements, numbers meaningless.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/figures.rs"]
mod figures;

use std::time::{Duration, Instant};

use common::client::encode_query_value;
use common::{Agent, AgentSetup, PgCluster, KEY};
use figures::{mib, percentile_ms, status_field};

const DB: &str = "bench";
/// Statements in pg_stat_statements at each step.
const STEPS: [usize; 2] = [500, 5000];
const SMOKE_STEPS: [usize; 2] = [20, 50];
/// Requests per case.
const REQUESTS: usize = 5;
const SMOKE_REQUESTS: usize = 1;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (steps, requests) = if full {
        (STEPS, REQUESTS)
    } else {
        println!("SMOKE PASS (no --bench argument): a few statements, numbers meaningless.");
        (SMOKE_STEPS, SMOKE_REQUESTS)
    };

    let pg = PgCluster::start();
    pg.psql(
        "postgres",
        "ALTER SYSTEM SET pg_stat_statements.max = 10000",
    );
    pg.stop();
    pg.start_again();
    pg.psql("postgres", &format!("CREATE DATABASE {DB}"));
    pg.psql(DB, "CREATE EXTENSION pg_stat_statements");

    let mut generated = 0;
    for size in steps {
        let started = Instant::now();
        generate(&pg, generated, size);
        generated = size;
        let facts = pg.psql(
            DB,
            "SELECT count(*), round(sum(length(query)) / 1048576.0, 1) FROM pg_stat_statements",
        );
        println!(
            "\n== {size} generated statements (entries | MiB of text: {facts}), generated in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        run_step(&pg, requests);
    }
}

/// Creates tables `t_<from>` to `t_<to - 1>` and runs one distinct statement on each.
fn generate(pg: &PgCluster, from: usize, to: usize) {
    pg.psql(
        DB,
        &format!(
            "SET pg_stat_statements.track = 'all';
             SET pg_stat_statements.track_utility = off;
             DO $$
             BEGIN
                 FOR k IN {from}..{last} LOOP
                     EXECUTE format('CREATE TABLE t_%s (i int)', k);
                     EXECUTE format('SELECT count(*) /* %s */ FROM t_%s',
                                    repeat('x', CASE WHEN k % 10 = 0 THEN 40000 ELSE 1000 END), k);
                 END LOOP;
             END
             $$;",
            last = to - 1
        ),
    );
}

struct Case {
    name: &'static str,
    params: String,
}

impl Case {
    fn new(name: &'static str, params: &str) -> Case {
        Case {
            name,
            params: params.to_string(),
        }
    }
}

/// Two fresh agents, so that each one's peak RSS (VmHWM) belongs to one mode: without
/// query text, then with it (and `since`).
fn run_step(pg: &PgCluster, requests: usize) {
    println!(
        "  {:<34} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "case", "rows", "MiB body", "p50 ms", "max ms", "VmRSS MiB", "VmHWM MiB"
    );
    let without_text = [
        Case::new("text=false", "&text=false"),
        Case::new(
            "text=false limit=100 order=calls",
            "&text=false&limit=100&order=calls",
        ),
    ];
    drop(run_on_a_fresh_agent(pg, &without_text, requests));

    let with_text = [
        Case::new("with text", ""),
        Case::new(
            "with text limit=100 order=total",
            "&limit=100&order=total_time",
        ),
    ];
    let agent = run_on_a_fresh_agent(pg, &with_text, requests);
    // `since` a snapshot taken now, one statement run in between. Each request takes a
    // snapshot too: the earlier one stays among the kept ones for these few requests.
    let earlier = get(&agent, "&text=false&limit=1");
    let at = earlier["snapshot_datetime"].as_str().unwrap().to_string();
    pg.psql(DB, "SELECT count(*) FROM t_1");
    let since = Case::new(
        "with text since earlier snapshot",
        &format!("&since={}", encode_query_value(&at)),
    );
    run_case(&agent, &since, requests);
}

/// Runs `cases` on a new agent, answered for more.
fn run_on_a_fresh_agent(pg: &PgCluster, cases: &[Case], requests: usize) -> Agent {
    let agent = start_agent(pg);
    for case in cases {
        run_case(&agent, case, requests);
    }
    agent
}

fn start_agent(pg: &PgCluster) -> Agent {
    let agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: format!("[statements]\ndbname = {DB}\n"),
            ..AgentSetup::default()
        },
    );
    std::thread::sleep(Duration::from_secs(1));
    let idle = Memory::read(agent.pid());
    println!(
        "  {:<34} {:>7} {:>9} {:>9} {:>9} {:>9.1} {:>9.1}",
        "(fresh agent, idle)", "", "", "", "", idle.rss_mib, idle.hwm_mib
    );
    agent
}

fn run_case(agent: &Agent, case: &Case, requests: usize) {
    let pid = agent.pid();
    let mut latencies = Vec::new();
    let (mut rows, mut bytes) = (0, 0);
    for _ in 0..requests {
        let started = Instant::now();
        let res = agent.get(&format!("/statements?key={KEY}{}", case.params));
        latencies.push(started.elapsed());
        assert_eq!(res.status, 200, "{}: {}", case.name, res.text());
        bytes = res.body.len();
        rows = res.json()["data"].as_array().unwrap().len();
    }
    let memory = Memory::read(pid);
    println!(
        "  {:<34} {:>7} {:>9.2} {:>9.0} {:>9.0} {:>9.1} {:>9.1}",
        case.name,
        rows,
        bytes as f64 / 1048576.0,
        percentile_ms(&latencies, 0.5),
        percentile_ms(&latencies, 1.0),
        memory.rss_mib,
        memory.hwm_mib
    );
}

fn get(agent: &Agent, params: &str) -> serde_json::Value {
    let res = agent.get(&format!("/statements?key={KEY}{params}"));
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

/// VmRSS and VmHWM (peak resident set) of the agent, from /proc/<pid>/status.
struct Memory {
    rss_mib: f64,
    hwm_mib: f64,
}

impl Memory {
    fn read(pid: u32) -> Memory {
        Memory {
            rss_mib: mib(status_field(pid, "VmRSS:")),
            hwm_mib: mib(status_field(pid, "VmHWM:")),
        }
    }
}
