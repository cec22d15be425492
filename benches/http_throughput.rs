//! HTTP throughput and latency of the real agent, and its memory.
//!
//! Starts a private PostgreSQL cluster and the real `temboard-agent` binary (built by
//! cargo in the bench profile, i.e. release) on 127.0.0.1 with the black-box test
//! harness (`tests/common`), then for each case sends a bounded number of requests
//! from 1 and from 8 client threads, each case also capped in time:
//!
//! - `GET /status` (no PostgreSQL), `GET /discover` (one PostgreSQL query),
//!   `GET /profile` with a session (a session lookup), `GET /notifications?key=...`,
//!   `POST /login` (bcrypt, so fewer requests), all with the harness's client: ONE NEW
//!   TLS CONNECTION PER REQUEST (`Connection: close`), so every number includes a TCP
//!   connect and a full TLS handshake on both sides;
//! - `GET /status` again over one persistent TLS connection per thread
//!   (`Connection: keep-alive`, as the temBoard UI talks to the agent), with the small
//!   client at the bottom of this file.
//!
//! Then `GET /status` and `GET /dashboard` from 8 clients for `HANDSHAKE_LOAD_TIME`
//! each: on new connections with full TLS handshakes, with resumed ones (TLS 1.3
//! tickets), and over keep-alive connections, with the agent's CPU per request next
//! to its floor: the server's share of one TLS handshake, measured in memory
//! (`support/handshake.rs`, the agent's provider, aws-lc-rs, and the generated ECDSA
//! P-256 key).
//!
//! It prints one line per case (successful requests/s, p50/p90/p99/max latency, errors,
//! agent RSS after the case) and the agent's VmRSS/VmHWM (from /proc/<pid>/status) at
//! idle after start and after all the load. The client threads run on the same machine
//! as the agent and PostgreSQL and compete with them for the CPUs. The agent logs every
//! request (level DEBUG, to a file), as the test harness configures it.
//!
//! Run: `cargo bench --bench http_throughput` (optionally followed by a substring of case
//! names to run only those, e.g. `cargo bench --bench http_throughput -- keep-alive`).
//! It takes about a minute on 2 cores and at most ~2.5 minutes (each case stops after
//! 20 s, all the load after 110 s). Without `--bench` on the command line (e.g.
//! `cargo test --all-targets`), it only runs a quick smoke pass of a few requests per
//! case. `cargo test` alone does not build or run it (benches have `test = false`).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/figures.rs"]
mod figures;
#[path = "support/handshake.rs"]
mod handshake;
#[path = "support/load.rs"]
mod load;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use common::client::{self, Request};
use common::keep_alive::KeepAlive;
use common::{Agent, PgCluster, KEY};
use figures::{mib, percentile_ms, status_field};

/// Requests per case (requests that hash a password: `LOGIN_REQUESTS`).
const REQUESTS: usize = 2000;
const LOGIN_REQUESTS: usize = 100;
/// Per case in the smoke pass (no `--bench` argument).
const SMOKE_REQUESTS: usize = 16;
const SMOKE_LOGIN_REQUESTS: usize = 4;
/// Client threads of each case.
const CONCURRENCY: [usize; 2] = [1, 8];
/// Each case stops after this long, whatever it has sent.
const CASE_CAP: Duration = Duration::from_secs(20);
/// All cases together stop after this long (the remaining ones are skipped).
const LOAD_BUDGET: Duration = Duration::from_secs(110);
/// Each handshake case (smoke pass: a fraction of a second).
const HANDSHAKE_LOAD_TIME: Duration = Duration::from_secs(5);
const HANDSHAKE_CLIENTS: usize = 8;

/// How a case talks to the agent.
#[derive(Clone)]
enum Transport {
    /// The harness client: one TLS connection per request.
    Close(Request),
    /// One persistent TLS connection per thread, GET only.
    KeepAlive(String),
}

struct Case {
    name: String,
    transport: Transport,
    threads: usize,
    requests: usize,
}

#[derive(Default)]
struct Outcome {
    /// Latency of every answered request with the expected status.
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
    reconnects: usize,
    /// Keep-alive: the slowest first request of a thread (connect, handshake, request).
    first_on_connection: Option<Duration>,
    wall: Duration,
    timed_out: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let (requests, login_requests) = if full {
        (REQUESTS, LOGIN_REQUESTS)
    } else {
        (SMOKE_REQUESTS, SMOKE_LOGIN_REQUESTS)
    };

    let started = Instant::now();
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let pid = agent.pid();
    // Let the agent settle (actors started, first timers run) before the idle sample.
    std::thread::sleep(Duration::from_secs(1));
    let idle = ProcSample::read(pid);

    let session = agent.login();
    let login_body =
        serde_json::json!({ "username": common::USER, "password": common::PASSWORD }).to_string();
    let endpoints: Vec<(&str, Transport, usize)> = vec![
        (
            "GET /status",
            Transport::Close(Request::get("/status")),
            requests,
        ),
        (
            "GET /status keep-alive",
            Transport::KeepAlive("/status".to_string()),
            requests,
        ),
        (
            "GET /discover",
            Transport::Close(Request::get("/discover")),
            requests,
        ),
        (
            "GET /profile",
            Transport::Close(Request::get("/profile").session(&session)),
            requests,
        ),
        (
            "GET /notifications?key",
            Transport::Close(Request::get(&format!("/notifications?key={KEY}"))),
            requests,
        ),
        // Last: each login opens a session and the registry keeps at most 100, evicting
        // the least recently used (the /profile one).
        (
            "POST /login",
            Transport::Close(Request::post("/login", login_body)),
            login_requests,
        ),
    ];
    let cases: Vec<Case> = endpoints
        .into_iter()
        .flat_map(|(name, transport, requests)| {
            CONCURRENCY.into_iter().map(move |threads| Case {
                name: name.to_string(),
                transport: transport.clone(),
                threads,
                requests,
            })
        })
        .filter(|c| filter.as_ref().is_none_or(|f| c.name.contains(f.as_str())))
        .collect();

    // Warm up (TLS session setup paths, the PostgreSQL connection) outside the numbers.
    for path in ["/status", "/discover"] {
        for _ in 0..5 {
            let _ = client::try_send(agent.port, &Request::get(path));
        }
    }

    println!();
    println!(
        "temboard-agent HTTP benchmark: {} CPU(s), loopback, agent pid {pid}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "Cases without \"keep-alive\" open ONE NEW TLS CONNECTION PER REQUEST \
         (Connection: close): the numbers include TCP connect + TLS handshake."
    );
    println!(
        "Keep-alive: one persistent TLS connection per client thread. Clients share the \
         CPUs with the agent and PostgreSQL."
    );
    if !full {
        println!("SMOKE PASS (no --bench argument): a few requests per case, numbers meaningless.");
    }
    println!();
    println!(
        "{:<24} {:>4} {:>6} {:>5} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "case",
        "thr",
        "ok",
        "err",
        "secs",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "RSS MiB"
    );
    let load_start = Instant::now();
    let mut notes: Vec<String> = Vec::new();
    for case in &cases {
        let left = LOAD_BUDGET.saturating_sub(load_start.elapsed());
        if left.is_zero() {
            println!(
                "{:<24} {:>4}  skipped: load budget spent",
                case.name, case.threads
            );
            continue;
        }
        let outcome = run_case(agent.port, case, CASE_CAP.min(left));
        let rss = ProcSample::read(pid).rss_kib;
        print_row(case, &outcome, rss);
        if let Some(err) = &outcome.first_error {
            notes.push(format!(
                "{} x{}: {} error(s), first: {err}",
                case.name, case.threads, outcome.errors
            ));
        }
        if outcome.timed_out {
            notes.push(format!(
                "{} x{}: stopped by the {} s cap",
                case.name,
                case.threads,
                CASE_CAP.as_secs()
            ));
        }
        if let Some(first) = outcome.first_on_connection {
            notes.push(format!(
                "{} x{}: first request of a connection (connect + TLS handshake, not counted \
                 above): up to {:.2} ms",
                case.name,
                case.threads,
                first.as_secs_f64() * 1000.0
            ));
        }
        if outcome.reconnects > 0 {
            notes.push(format!(
                "{} x{}: {} reconnection(s) (server closed a keep-alive connection)",
                case.name, case.threads, outcome.reconnects
            ));
        }
    }
    if filter
        .as_ref()
        .is_none_or(|f| "handshakes".contains(f.as_str()))
    {
        handshake_cases(&agent, full);
    }
    let after_load = ProcSample::read(pid);
    std::thread::sleep(Duration::from_secs(2));
    let settled = ProcSample::read(pid);

    println!();
    println!("agent memory (VmRSS / VmHWM, threads, open fds):");
    for (label, s) in [
        ("idle after start", &idle),
        ("right after the load", &after_load),
        ("2 s after the load", &settled),
    ] {
        println!(
            "  {label:<22} VmRSS {:>8.1} MiB  VmHWM {:>8.1} MiB  threads {:>3}  fds {:>4}",
            mib(s.rss_kib),
            mib(s.hwm_kib),
            s.threads,
            s.fds
        );
    }
    let grown: Vec<String> = settled
        .fd_kinds
        .iter()
        .filter_map(|(kind, &n)| {
            let before = idle.fd_kinds.get(kind).copied().unwrap_or(0);
            (n != before).then(|| format!("{kind} {before} -> {n}"))
        })
        .collect();
    if !grown.is_empty() {
        println!("  fds changed since idle: {}", grown.join(", "));
    }
    let log = agent.log();
    let problems: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ERRO") || l.contains("WARN") || l.contains("CRIT"))
        .collect();
    println!(
        "agent log: {} lines, {} warning/error line(s)",
        log.lines().count(),
        problems.len()
    );
    for line in problems.iter().take(5) {
        println!("  {line}");
    }
    for note in &notes {
        println!("note: {note}");
    }
    println!("total time: {:.1} s", started.elapsed().as_secs_f64());
}

fn run_case(port: u16, case: &Case, cap: Duration) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    // All threads start together, after the keep-alive ones have connected.
    let barrier = Arc::new(Barrier::new(case.threads + 1));
    let workers: Vec<_> = (0..case.threads)
        .map(|_| {
            let next = next.clone();
            let first_error = first_error.clone();
            let barrier = barrier.clone();
            let transport = case.transport.clone();
            let total = case.requests;
            std::thread::spawn(move || {
                let mut out = Outcome::default();
                let mut keep_alive = KeepAlive::new(port);
                let record = |out: &mut Outcome, result: Result<(u16, String), String>| {
                    let error = match result {
                        Ok((200, _)) => return true,
                        Ok((status, body)) => format!("HTTP {status}: {body}"),
                        Err(e) => e,
                    };
                    out.errors += 1;
                    first_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_or_insert(error);
                    false
                };
                if let Transport::KeepAlive(path) = &transport {
                    // Connect + handshake + first request, outside the numbers.
                    let t0 = Instant::now();
                    let result = keep_alive.get(path);
                    if record(&mut out, result) {
                        out.first_on_connection = Some(t0.elapsed());
                    }
                }
                barrier.wait();
                let deadline = Instant::now() + cap;
                while Instant::now() < deadline && next.fetch_add(1, Ordering::Relaxed) < total {
                    let t0 = Instant::now();
                    let result = match &transport {
                        Transport::Close(request) => {
                            client::try_send(port, request).map(|r| (r.status, r.text()))
                        }
                        Transport::KeepAlive(path) => keep_alive.get(path),
                    };
                    let elapsed = t0.elapsed();
                    if record(&mut out, result) {
                        out.latencies.push(elapsed);
                    }
                }
                out.reconnects = keep_alive.reconnects;
                out
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut total = Outcome::default();
    for worker in workers {
        let out = worker.join().expect("a client thread panicked");
        total.latencies.extend(out.latencies);
        total.errors += out.errors;
        total.reconnects += out.reconnects;
        total.first_on_connection = total.first_on_connection.max(out.first_on_connection);
    }
    total.wall = start.elapsed();
    total.timed_out = next.load(Ordering::Relaxed) < case.requests;
    total.first_error = first_error.lock().unwrap_or_else(|p| p.into_inner()).take();
    total
}

fn print_row(case: &Case, outcome: &Outcome, rss_kib: u64) {
    let lat = &outcome.latencies;
    let pct = |p: usize| percentile_ms(lat, p as f64 / 100.0);
    let secs = outcome.wall.as_secs_f64();
    println!(
        "{:<24} {:>4} {:>6} {:>5} {:>7.2} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.1}",
        case.name,
        case.threads,
        lat.len(),
        outcome.errors,
        secs,
        lat.len() as f64 / secs.max(1e-9),
        pct(50),
        pct(90),
        pct(99),
        pct(100),
        mib(rss_kib)
    );
}

/// Figures of /proc/<pid>.
struct ProcSample {
    rss_kib: u64,
    hwm_kib: u64,
    threads: u64,
    fds: usize,
    /// Open descriptors by kind: `socket`, `pipe`, `anon_inode:[eventfd]`, a path...
    fd_kinds: BTreeMap<String, usize>,
}

impl ProcSample {
    fn read(pid: u32) -> ProcSample {
        let field = |name: &str| status_field(pid, name);
        let sockets = socket_kinds(pid);
        let mut fd_kinds = BTreeMap::new();
        for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let target = std::fs::read_link(entry.path())
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".to_string());
            let kind = match target.split_once(":[") {
                Some(("socket", inode)) => sockets
                    .get(inode.trim_end_matches(']'))
                    .cloned()
                    .unwrap_or_else(|| "socket".to_string()),
                Some(("pipe", _)) => "pipe".to_string(),
                _ => target,
            };
            *fd_kinds.entry(kind).or_insert(0) += 1;
        }
        ProcSample {
            rss_kib: field("VmRSS:"),
            hwm_kib: field("VmHWM:"),
            threads: field("Threads:"),
            fds: fd_kinds.values().sum(),
            fd_kinds,
        }
    }
}

/// Socket inode -> `tcp <state> <local port>` or `unix`, from /proc/<pid>/net.
fn socket_kinds(pid: u32) -> BTreeMap<String, String> {
    const STATES: [&str; 12] = [
        "?",
        "ESTABLISHED",
        "SYN_SENT",
        "SYN_RECV",
        "FIN_WAIT1",
        "FIN_WAIT2",
        "TIME_WAIT",
        "CLOSE",
        "CLOSE_WAIT",
        "LAST_ACK",
        "LISTEN",
        "CLOSING",
    ];
    let mut kinds = BTreeMap::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 {
                continue;
            }
            let state = usize::from_str_radix(f[3], 16).unwrap_or(0);
            let local_port = f[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                .unwrap_or(0);
            let kind = format!(
                "{table} {} :{local_port}",
                STATES.get(state).copied().unwrap_or("?")
            );
            kinds.insert(f[9].to_string(), kind);
        }
    }
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/unix")).unwrap_or_default();
    for line in text.lines().skip(1) {
        if let Some(inode) = line.split_whitespace().nth(6) {
            kinds.insert(inode.to_string(), "unix socket".to_string());
        }
    }
    kinds
}

/// New connections (full, resumed) and keep-alive, next to the handshake's floor.
fn handshake_cases(agent: &Agent, full: bool) {
    let (time, handshakes) = if full {
        (HANDSHAKE_LOAD_TIME, 400)
    } else {
        (Duration::from_millis(200), 3)
    };
    let (chain, key) = handshake::ecdsa_p256();
    let (full_us, resumed_us) =
        handshake::measure(&handshake::PROVIDERS[0], chain, &key, handshakes);
    println!();
    println!(
        "{HANDSHAKE_CLIENTS} clients, agent CPU per request next to its floor (server share of one \
         TLS handshake, in memory, {}, ECDSA P-256: full {:.3} ms, resumed {:.3} ms):",
        handshake::AGENT_PROVIDER,
        full_us / 1000.0,
        resumed_us / 1000.0
    );
    let dashboard = format!("/dashboard?key={KEY}");
    for (name, path) in [
        ("GET /status", "/status"),
        ("GET /dashboard", dashboard.as_str()),
    ] {
        for (how, resume, floor_us) in [
            ("full handshakes", false, full_us),
            ("resumed handshakes", true, resumed_us),
        ] {
            let load = load::run(
                agent.port,
                agent.pid(),
                path,
                HANDSHAKE_CLIENTS,
                time,
                load::client_config(resume),
            );
            load::print(
                &format!("{name}, new connections, {how}"),
                &load,
                &format!("handshake {:.3} ms", floor_us / 1000.0),
            );
        }
        let load = load::run_keep_alive(agent.port, agent.pid(), path, HANDSHAKE_CLIENTS, time);
        load::print(&format!("{name}, keep-alive"), &load, "no handshake");
    }
}
