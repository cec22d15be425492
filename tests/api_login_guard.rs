//! The brute-force guard of POST /login: failures per client address are counted, the
//! first ones answered at once, the next ones held back, and past a threshold the
//! address gets 429 until the window passes. Other addresses are never affected.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const OTHER_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn guarded_agent(free: u32, lockout: u32, window_s: u64) -> Agent {
    let setup = AgentSetup {
        temboard: vec![
            format!("login_free_failures = {free}"),
            format!("login_lockout_failures = {lockout}"),
            format!("login_lockout_window = {window_s}"),
        ],
        ..AgentSetup::default()
    };
    Agent::start_with(PgCluster::shared(), setup)
}

fn login_body(password: &str) -> String {
    json!({ "username": USER, "password": password }).to_string()
}

#[test]
fn failures_beyond_the_free_ones_are_held_back() {
    let agent = guarded_agent(2, 100, 600);
    for _ in 0..2 {
        assert_eq!(agent.try_login(USER, "wrong").status, 404);
    }
    // The third failure in the minute is held for at least one delay step (500 ms).
    let started = Instant::now();
    assert_eq!(agent.try_login(USER, "wrong").status, 404);
    assert!(started.elapsed() >= Duration::from_millis(450));
    // A correct password from the same address is still accepted.
    assert_eq!(agent.try_login(USER, PASSWORD).status, 200);
}

#[test]
fn too_many_failures_lock_the_address_out_but_not_others() {
    let agent = guarded_agent(100, 4, 600);
    for _ in 0..4 {
        assert_eq!(agent.try_login(USER, "wrong").status, 404);
    }
    let locked = agent.try_login(USER, PASSWORD);
    assert_eq!(locked.status, 429);
    assert!(
        locked.error().contains("Too many failed logins"),
        "{}",
        locked.text()
    );
    let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry));
    // Another client address logs in normally.
    let other = agent.send(Request::post("/login", login_body(PASSWORD)).from(OTHER_ADDRESS));
    assert_eq!(other.status, 200, "{}", other.text());
    // The lock-out shows in the audit trail as failed logins from the address.
    // (Read from the other address: the locked one gets 429 with the key too.)
    let rows = agent
        .send(Request::get(&format!("/notifications?key={KEY}")).from(OTHER_ADDRESS))
        .json();
    // Counted in one row per minute: `... (N attempts this minute)` beyond one.
    let failures: u32 = rows
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            r["message"]
                .as_str()?
                .strip_prefix("Failed login from 127.0.0.1")
        })
        .map(|rest| match rest.strip_suffix(" attempts this minute)") {
            Some(n) => n.trim_start_matches(" (").parse().unwrap(),
            None => 1,
        })
        .sum();
    assert_eq!(failures, 4, "{rows}");
}

#[test]
fn the_lock_out_ends_with_its_window() {
    let agent = guarded_agent(100, 2, 2);
    for _ in 0..2 {
        assert_eq!(agent.try_login(USER, "wrong").status, 404);
    }
    assert_eq!(agent.try_login(USER, PASSWORD).status, 429);
    // Refused attempts while locked out do not extend the lock-out.
    wait_until(Duration::from_secs(10), "the lock-out to end", || {
        agent.try_login(USER, PASSWORD).status == 200
    });
}

#[test]
fn malformed_requests_do_not_count_as_failures() {
    let agent = guarded_agent(0, 2, 600);
    for _ in 0..10 {
        let res = agent.send(Request::post(
            "/login",
            json!({ "username": USER }).to_string(),
        ));
        assert_eq!(res.status, 406);
        assert_eq!(agent.send(Request::post("/login", "not json")).status, 400);
    }
    let started = Instant::now();
    assert_eq!(agent.try_login(USER, PASSWORD).status, 200);
    assert!(started.elapsed() < Duration::from_secs(5));
}
