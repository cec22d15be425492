//! Slow clients (issue 20, point 5; docs/security.md row 5), on a real cluster: clients
//! trickling request bodies do not stop `/status` answering; a body that does not
//! arrive within `[temboard] body_timeout` gets 408 and its connection is closed;
//! `[temboard] max_connections` caps the open connections, and the agent answers
//! again once they go; a PostgreSQL-backed request blocked past `request_timeout`
//! answers 504.
//!
//! The clients here are raw TLS sockets, since the harness's client sends whole
//! requests at once.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use rustls::pki_types::ServerName;

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

const WAIT: Duration = Duration::from_secs(30);

/// A TLS connection to the agent, its handshake done (within `WAIT`).
fn connect(port: u16) -> Tls {
    let tcp = TcpStream::connect_timeout(
        &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        Duration::from_secs(5),
    )
    .expect("connect");
    tcp.set_nodelay(true).ok();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(client::tls_config(), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .expect("TLS handshake with the agent");
    }
    tls
}

/// The head of a login request whose body is `length` bytes long.
fn login_head(length: usize) -> String {
    format!(
        "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

/// Status, headers and body of the first response in `raw`, once it is whole.
fn parse(raw: &[u8]) -> Option<Response> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body = raw.get(head_end + 4..head_end + 4 + length)?.to_vec();
    Some(Response {
        status,
        headers,
        body,
    })
}

/// What one read of a connection gave.
enum Read1 {
    Data(Vec<u8>),
    Nothing,
    Closed,
}

/// One read, waiting `wait` at most.
fn read_some(tls: &mut Tls, wait: Duration) -> Read1 {
    tls.sock.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 4096];
    match tls.read(&mut buf) {
        Ok(0) => Read1::Closed,
        Ok(n) => Read1::Data(buf[..n].to_vec()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Read1::Nothing,
        Err(_) => Read1::Closed,
    }
}

fn status_answers_within(agent: &Agent, bound: Duration) {
    let started = Instant::now();
    let res = agent.get("/status");
    let took = started.elapsed();
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(took < bound, "/status took {took:?} (bound {bound:?})");
}

#[test]
fn three_hundred_clients_trickling_bodies_do_not_stop_status_answering() {
    // The default max_connections (512) holds them all; the body deadline is raised
    // so that none is cut during the test: the trickle itself must not hurt.
    let agent = Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            temboard: vec!["body_timeout = 120".into()],
            ..AgentSetup::default()
        },
    );
    const CLIENTS: usize = 300;
    let openers: Vec<_> = (0..10)
        .map(|_| {
            let port = agent.port;
            std::thread::spawn(move || {
                (0..CLIENTS / 10)
                    .map(|_| {
                        let mut tls = connect(port);
                        tls.write_all(login_head(1000).as_bytes()).unwrap();
                        tls.write_all(b"{").unwrap();
                        tls.flush().unwrap();
                        tls
                    })
                    .collect::<Vec<Tls>>()
            })
        })
        .collect();
    let mut tricklers: Vec<Tls> = openers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(tricklers.len(), CLIENTS);

    let stop = Arc::new(AtomicBool::new(false));
    let trickle = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut write_errors = 0;
            while !stop.load(Ordering::Relaxed) {
                for tls in &mut tricklers {
                    if tls.write_all(b" ").and_then(|()| tls.flush()).is_err() {
                        write_errors += 1;
                    }
                }
                // Pacing of the trickle (a byte a second), not synchronisation.
                std::thread::sleep(Duration::from_secs(1));
            }
            (tricklers, write_errors)
        })
    };

    let window = Instant::now() + Duration::from_secs(8);
    let mut probes = 0;
    while Instant::now() < window {
        // The bound: generous, as it demands.
        status_answers_within(&agent, Duration::from_secs(1));
        probes += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, Ordering::Relaxed);
    let (mut tricklers, write_errors) = trickle.join().unwrap();
    assert!(probes >= 10, "only {probes} probes of /status");
    assert_eq!(write_errors, 0, "a trickling client could not write");
    // Every trickler was still connected, waiting, all along: nothing was answered.
    let answered = tricklers
        .iter_mut()
        .map(|tls| read_some(tls, Duration::from_millis(1)))
        .filter(|read| !matches!(read, Read1::Nothing))
        .count();
    assert_eq!(answered, 0, "tricklers answered or closed before the end");
}

#[test]
fn a_body_late_past_body_timeout_gets_408_and_its_connection_closes() {
    let agent = Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            temboard: vec!["body_timeout = 2".into()],
            ..AgentSetup::default()
        },
    );
    // A body that trickles: a deadline reset by each byte would never fire.
    let mut tls = connect(agent.port);
    tls.write_all(login_head(200).as_bytes()).unwrap();
    let mut raw = Vec::new();
    let started = Instant::now();
    let response = loop {
        assert!(started.elapsed() < WAIT, "no answer to a late body");
        // A failed write means the agent closed: what it sent is read below.
        let _ = tls.write_all(b" ").and_then(|()| tls.flush());
        match read_some(&mut tls, Duration::from_millis(200)) {
            Read1::Data(data) => raw.extend_from_slice(&data),
            Read1::Nothing => {}
            Read1::Closed => break parse(&raw).expect("a response before the close"),
        }
        if let Some(response) = parse(&raw) {
            break response;
        }
    };
    assert_eq!(response.status, 408, "{}", response.text());
    assert!(
        response.error().contains("[temboard] body_timeout"),
        "{}",
        response.text()
    );
    assert_eq!(response.header("connection"), Some("close"));
    // Then the agent closes the connection (within a generous bound).
    let closing = Instant::now();
    loop {
        if let Read1::Closed = read_some(&mut tls, Duration::from_millis(200)) {
            break;
        }
        assert!(closing.elapsed() < WAIT, "the connection stayed open");
    }

    // A body sent in pieces within the deadline is read as usual.
    let body = serde_json::json!({ "username": USER, "password": PASSWORD }).to_string();
    let mut tls = connect(agent.port);
    tls.write_all(login_head(body.len()).as_bytes()).unwrap();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    tls.write_all(first).unwrap();
    tls.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300)); // the pause of a slow client
    tls.write_all(rest).unwrap();
    tls.flush().unwrap();
    let mut raw = Vec::new();
    let response = loop {
        match read_some(&mut tls, WAIT) {
            Read1::Data(data) => raw.extend_from_slice(&data),
            Read1::Nothing | Read1::Closed => panic!("no answer: {raw:?}"),
        }
        if let Some(response) = parse(&raw) {
            break response;
        }
    };
    assert_eq!(response.status, 200, "{}", response.text());
    status_answers_within(&agent, WAIT);
}

#[test]
fn connections_beyond_max_connections_wait_until_others_close() {
    let agent = Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            // Both held connections wait for their body all along the test.
            temboard: vec!["max_connections = 2".into(), "body_timeout = 120".into()],
            ..AgentSetup::default()
        },
    );
    let holders: Vec<Tls> = (0..2)
        .map(|_| {
            let mut tls = connect(agent.port);
            tls.write_all(login_head(100).as_bytes()).unwrap();
            tls.flush().unwrap();
            tls
        })
        .collect();

    // One more: the kernel accepts the TCP connection (listen backlog), the agent
    // does not take it, so its TLS handshake does not progress.
    let tcp = TcpStream::connect_timeout(
        &SocketAddr::from((Ipv4Addr::LOCALHOST, agent.port)),
        Duration::from_secs(5),
    )
    .expect("connect");
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(client::tls_config(), name).unwrap();
    let mut waiting = rustls::StreamOwned::new(conn, tcp);
    waiting.conn.write_tls(&mut waiting.sock).unwrap(); // the ClientHello
                                                        // A served connection would complete its handshake within this read.
    let read = read_some(&mut waiting, Duration::from_secs(2));
    assert!(
        !matches!(read, Read1::Closed),
        "a third connection was refused instead of waiting"
    );
    assert!(
        waiting.conn.is_handshaking(),
        "a third connection was served beyond max_connections = 2"
    );

    // Once the held connections go, the waiting one is served, and new ones too.
    drop(holders);
    waiting.sock.set_read_timeout(Some(WAIT)).unwrap();
    while waiting.conn.is_handshaking() {
        waiting
            .conn
            .complete_io(&mut waiting.sock)
            .expect("the waiting handshake completes once a slot is free");
    }
    waiting
        .write_all(b"GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    waiting.flush().unwrap();
    let mut raw = Vec::new();
    let response = loop {
        match read_some(&mut waiting, WAIT) {
            Read1::Data(data) => raw.extend_from_slice(&data),
            Read1::Nothing | Read1::Closed => panic!("no answer: {raw:?}"),
        }
        if let Some(response) = parse(&raw) {
            break response;
        }
    };
    assert_eq!(response.status, 200, "{}", response.text());
    for _ in 0..5 {
        status_answers_within(&agent, WAIT);
    }
}

#[test]
fn a_postgresql_backed_request_blocked_past_request_timeout_answers_504() {
    let pg = PgCluster::shared();
    pg.fresh_db("slow_deadline");
    pg.psql("slow_deadline", "CREATE TABLE blocked (id int)");
    // lock_timeout stays 5 s: without the deadline, the request would wait that long.
    let agent = Agent::start_with(
        pg,
        AgentSetup {
            temboard: vec!["request_timeout = 2".into()],
            ..AgentSetup::default()
        },
    );
    let path = "/maintenance/slow_deadline/schema/public/table/blocked";
    let by_key = |path: &str| Request::get(path).header("X-TemBoard-Agent-Key", KEY);
    assert_eq!(agent.send(by_key(path)).status, 200);

    let mut locker = Bg::open(pg, "slow_deadline");
    locker.send("BEGIN;");
    locker.send("LOCK TABLE blocked IN ACCESS EXCLUSIVE MODE;");
    wait_until(WAIT, "the table lock to be held", || {
        pg.psql(
            "slow_deadline",
            "SELECT count(*) FROM pg_locks WHERE relation = 'blocked'::regclass \
             AND mode = 'AccessExclusiveLock' AND granted",
        ) == "1"
    });

    let res = agent.send(by_key(path));
    assert_eq!(res.status, 504, "{}", res.text());
    assert!(
        res.error().contains("[temboard] request_timeout"),
        "{}",
        res.text()
    );
    // Endpoints that do not wait on PostgreSQL answer meanwhile.
    status_answers_within(&agent, WAIT);

    // Once the lock goes, the same request answers again.
    locker.send("ROLLBACK;");
    wait_until(WAIT, "the table to be browsable again", || {
        agent.send(by_key(path)).status == 200
    });
}
