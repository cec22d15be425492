//! The audit trail cannot be flushed (issue 20 point 6): failed logins, wrong agent
//! keys and writes refused to a read-only user are counted in one row per client
//! address, kind and minute, under their own cap (`notifications_max_refusals`), so
//! that a flood of them never pushes a real event out of `/notifications`; the rows
//! and their counts survive a restart.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use common::*;
use serde_json::{json, Value};

const READER: &str = "reader";
const READER_PASSWORD: &str = "look-only-pw";
/// The password of the legacy (SHA-512) line of alice: a wrong password costs no
/// bcrypt, so thousands of failed logins take seconds.
const LEGACY_PASSWORD: &str = "foo!!";

fn legacy_alice_line() -> String {
    let hash = include_str!("../actors/tests/fixtures/legacy_alice_foo.txt").trim();
    format!("{USER}:{hash}")
}

/// An agent whose login guard never slows down nor locks out the flood.
fn agent(temboard: &[&str]) -> Agent {
    let mut settings = vec![
        "login_free_failures = 100000".to_string(),
        "login_lockout_failures = 100000".to_string(),
    ];
    settings.extend(temboard.iter().map(|s| s.to_string()));
    Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            users: vec![],
            user_lines: vec![
                legacy_alice_line(),
                format!("{}:read", users_line(READER, READER_PASSWORD)),
            ],
            temboard: settings,
            ..AgentSetup::default()
        },
    )
}

fn login(agent: &Agent, user: &str, password: &str) -> String {
    let res = agent.try_login(user, password);
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["session"].as_str().unwrap().to_string()
}

fn notifications(agent: &Agent) -> Vec<Value> {
    let res = agent.get(&format!("/notifications?key={KEY}"));
    assert_eq!(res.status, 200, "{}", res.text());
    res.json().as_array().unwrap().clone()
}

/// The rows of one kind of refusal (`message` is the first attempt's) and the
/// attempts they count: a lone attempt reads as `message`, more as
/// `message (N attempts this minute)`.
fn counted(rows: &[Value], message: &str) -> (usize, u64) {
    let mut found = (0, 0);
    for row in rows {
        let text = row["message"].as_str().unwrap();
        let attempts = if text == message {
            1
        } else if let Some(n) = text
            .strip_prefix(&format!("{message} ("))
            .and_then(|rest| rest.strip_suffix(" attempts this minute)"))
        {
            n.parse().unwrap_or_else(|_| panic!("count of {text:?}"))
        } else {
            continue;
        };
        found = (found.0 + 1, found.1 + attempts);
    }
    found
}

/// Runs `each` `total` times on `threads` threads; every answer must be `status`.
fn flood(total: usize, threads: usize, status: u16, each: impl Fn() -> Response + Sync) {
    std::thread::scope(|s| {
        for t in 0..threads {
            let each = &each;
            s.spawn(move || {
                for _ in (t..total).step_by(threads) {
                    let res = each();
                    assert_eq!(res.status, status, "{}", res.text());
                }
            });
        }
    });
}

#[test]
fn a_flood_of_refused_attempts_cannot_push_out_real_events() {
    let mut agent = agent(&[]);
    login(&agent, USER, LEGACY_PASSWORD);
    let reader = login(&agent, READER, READER_PASSWORD);
    let started = Instant::now();

    // Two threads at most for logins: more would meet the bound on password checks.
    flood(2000, 2, 404, || agent.try_login(USER, "wrong"));
    flood(500, 2, 401, || {
        agent.send(Request::get("/notifications?key=wrong-key-0123456789"))
    });
    let kill = json!({ "pids": [] });
    flood(500, 2, 403, || {
        agent.post_as("/activity/kill", &reader, &kill)
    });
    // Each kind makes one row per minute the flood lasted.
    let most_rows = started.elapsed().as_secs() as usize / 60 + 2;

    let rows = notifications(&agent);
    for row in &rows {
        assert_eq!(sorted_keys(row), ["date", "message", "username"], "{row}");
    }
    let events: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r["message"] == "Login")
        .map(|r| {
            (
                r["username"].as_str().unwrap(),
                r["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(events, [(READER, "Login"), (USER, "Login")], "{rows:?}");
    let mut refusal_rows = 0;
    for (message, sent) in [
        ("Failed login from 127.0.0.1", 2000),
        ("Wrong agent key from 127.0.0.1", 500),
        ("Refused POST /activity/kill: read-only user", 500),
    ] {
        let (made, attempts) = counted(&rows, message);
        refusal_rows += made;
        assert_eq!(attempts, sent, "{message}: {rows:?}");
        assert!(
            (1..=most_rows).contains(&made),
            "{message}: {made} rows: {rows:?}"
        );
    }
    // Nothing else was written: the two logins and the refusal rows.
    assert_eq!(rows.len(), 2 + refusal_rows, "{rows:?}");

    // Rows and counts survive a restart; counting goes on after it.
    agent.kill9();
    agent.spawn();
    assert_eq!(notifications(&agent), rows);
    assert_eq!(agent.try_login(USER, "wrong").status, 404);
    let after = notifications(&agent);
    assert_eq!(counted(&after, "Failed login from 127.0.0.1").1, 2001);
    // Events are written as before.
    login(&agent, USER, LEGACY_PASSWORD);
    assert_eq!(notifications(&agent)[0]["message"], "Login");
}

#[test]
fn events_and_refusals_are_trimmed_each_at_their_own_cap() {
    let agent = agent(&["notifications_max = 3", "notifications_max_refusals = 2"]);
    for _ in 0..4 {
        login(&agent, USER, LEGACY_PASSWORD);
    }
    // Three addresses: three refusal rows made, the newest two kept.
    for last in 1..=3 {
        let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last));
        let body = json!({ "username": USER, "password": "wrong" }).to_string();
        for _ in 0..3 {
            let res = agent.send(Request::post("/login", body.clone()).from(from));
            assert_eq!(res.status, 404, "{}", res.text());
        }
    }
    let rows = notifications(&agent);
    let messages: Vec<&str> = rows
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    let refusal_rows = |last: u8| counted(&rows, &format!("Failed login from 127.0.0.{last}")).0;
    // The three attempts of one address fall in one minute or across two: the two
    // rows kept are the newest address's, or its one and the one before.
    assert_eq!(refusal_rows(1), 0, "{messages:?}");
    assert!(refusal_rows(3) >= 1, "{messages:?}");
    assert_eq!(refusal_rows(2) + refusal_rows(3), 2, "{messages:?}");
    assert_eq!(messages.iter().filter(|m| **m == "Login").count(), 3);
    assert_eq!(messages.len(), 5, "{messages:?}");
    // Events go on being written and trimmed at their own cap.
    login(&agent, USER, LEGACY_PASSWORD);
    let again = notifications(&agent);
    assert_eq!(again.len(), 5, "{again:?}");
    assert_eq!(again[0]["message"], "Login");
}
