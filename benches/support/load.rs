//! Concurrent load for the benchmarks: client threads sending one request after the
//! other for a while, each on a NEW TLS connection (as the temBoard UI does), with a
//! client configuration that resumes TLS sessions or never does; and the agent's CPU
//! time read from /proc, to tell what one request costs it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::client::{self, Request};
use crate::figures::{cpu_seconds, percentile_ms};

/// What a load gave.
pub struct Load {
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub wall: Duration,
    /// Agent CPU seconds (user + system) spent during the load.
    pub agent_cpu: f64,
}

impl Load {
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    /// Agent CPU per answered request, in milliseconds.
    pub fn cpu_ms_per_request(&self) -> f64 {
        self.agent_cpu * 1000.0 / self.latencies.len().max(1) as f64
    }
}

/// TLS client configurations: one that resumes sessions (a shared session store),
/// one that never does (every handshake full).
pub fn client_config(resume: bool) -> Arc<rustls::ClientConfig> {
    let mut config = client::new_tls_config();
    if !resume {
        config.resumption = rustls::client::Resumption::disabled();
    }
    Arc::new(config)
}

/// `threads` clients send `GET path` for `duration`, each request on a new
/// connection made with `config`; every answer must be 200.
pub fn run(
    port: u16,
    agent_pid: u32,
    path: &str,
    threads: usize,
    duration: Duration,
    config: Arc<rustls::ClientConfig>,
) -> Load {
    drive(agent_pid, threads, duration, || {
        let config = config.clone();
        move || {
            client::try_send_with(port, &Request::get(path), config.clone())
                .is_ok_and(|r| r.status == 200)
        }
    })
}

/// `run`, over one persistent connection per client thread (keep-alive).
pub fn run_keep_alive(
    port: u16,
    agent_pid: u32,
    path: &str,
    threads: usize,
    duration: Duration,
) -> Load {
    drive(agent_pid, threads, duration, || {
        let mut connection = crate::common::keep_alive::KeepAlive::new(port);
        // The connection is made before the clock starts.
        let _ = connection.get(path);
        move || matches!(connection.get(path), Ok((200, _)))
    })
}

/// Runs `threads` clients, each made by `client` and sending one request per call
/// (answering whether it succeeded), for `duration`.
fn drive<C, F>(agent_pid: u32, threads: usize, duration: Duration, client: C) -> Load
where
    C: Fn() -> F + Sync,
    F: FnMut() -> bool,
{
    let cpu_before = cpu_seconds(agent_pid);
    let started = Instant::now();
    let deadline = started + duration;
    let results: Vec<(Vec<Duration>, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let client = &client;
                scope.spawn(move || {
                    let mut request = client();
                    let (mut latencies, mut errors) = (Vec::new(), 0);
                    while Instant::now() < deadline {
                        let start = Instant::now();
                        if request() {
                            latencies.push(start.elapsed());
                        } else {
                            errors += 1;
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wall = started.elapsed();
    let agent_cpu = cpu_seconds(agent_pid) - cpu_before;
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for (l, e) in results {
        latencies.extend(l);
        errors += e;
    }
    Load {
        latencies,
        errors,
        wall,
        agent_cpu,
    }
}

/// One line: requests/s, p50, p99, agent CPU per request, errors.
pub fn print(case: &str, load: &Load, floor: &str) {
    println!(
        "{case:<44} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  cpu {:>6.3} ms/req  errors {}  | floor: {floor}",
        load.per_second(),
        percentile_ms(&load.latencies, 0.5),
        percentile_ms(&load.latencies, 0.99),
        load.cpu_ms_per_request(),
        load.errors,
    );
}
