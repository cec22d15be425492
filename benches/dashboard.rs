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

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::client::{self, Request};
use common::{Agent, PgCluster, KEY};

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
    let mut lat = latencies.to_vec();
    lat.sort_unstable();
    let pct = |p: usize| {
        let rank = (lat.len() * p).div_ceil(100).max(1);
        lat.get(rank - 1)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{:<34} {:>4} {:>7} {:>4} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.1}",
        name,
        threads,
        lat.len(),
        errors,
        lat.len() as f64 / wall.as_secs_f64().max(1e-9),
        pct(50),
        pct(90),
        pct(99),
        pct(100),
        mib(rss)
    );
}

fn status_field(pid: u32, name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmRSS:")
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A minimal HTTPS/1.1 keep-alive GET client (Content-Length bodies only); reconnects
/// when the server closed the connection.
struct KeepAlive {
    port: u16,
    stream: Option<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>,
}

impl KeepAlive {
    fn new(port: u16) -> KeepAlive {
        KeepAlive { port, stream: None }
    }

    fn connect(&mut self) -> Result<(), String> {
        let tcp = TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            Duration::from_secs(5),
        )
        .map_err(|e| format!("connect: {e}"))?;
        tcp.set_nodelay(true).ok();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("a server name");
        let conn =
            rustls::ClientConnection::new(client::tls_config(), name).map_err(|e| e.to_string())?;
        self.stream = Some(rustls::StreamOwned::new(conn, tcp));
        Ok(())
    }

    fn get(&mut self, path: &str) -> Result<(u16, String), String> {
        if self.stream.is_none() {
            self.connect()?;
        }
        let result = self.exchange(path);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn exchange(&mut self, path: &str) -> Result<(u16, String), String> {
        let stream = self.stream.as_mut().expect("connected");
        let head =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n");
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.flush())
            .map_err(|e| format!("write: {e}"))?;
        let mut raw = Vec::with_capacity(4096);
        let mut chunk = [0u8; 16384];
        let head_end = loop {
            if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let n = stream.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("connection closed".to_string());
            }
            raw.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("bad status line")?;
        let length: usize = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .ok_or("no Content-Length")?;
        let start = head_end + 4;
        while raw.len() < start + length {
            let n = stream.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("connection closed in the body".to_string());
            }
            raw.extend_from_slice(&chunk[..n]);
        }
        Ok((
            status,
            String::from_utf8_lossy(&raw[start..start + length]).into_owned(),
        ))
    }
}
