//! The agent's life: what survives a `kill -9` and a restart, the notification cap,
//! graceful stop on SIGTERM, and configuration reload on SIGHUP.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn notifications(agent: &Agent) -> Vec<Value> {
    let res = agent.get(&format!("/notifications?key={KEY}"));
    assert_eq!(res.status, 200, "{}", res.text());
    res.json().as_array().unwrap().clone()
}

/// Failed logins recorded: rows of one minute count theirs, as
/// `Failed login from <address> (N attempts this minute)`.
fn failed_logins(agent: &Agent) -> u64 {
    notifications(agent)
        .iter()
        .filter_map(|row| row["message"].as_str())
        .filter(|message| message.starts_with("Failed login from "))
        .map(|message| {
            message
                .split_once(" (")
                .and_then(|(_, rest)| rest.strip_suffix(" attempts this minute)"))
                .map_or(1, |n| n.parse().unwrap())
        })
        .sum()
}

#[test]
fn kill_9_loses_no_acknowledged_notification() {
    let mut agent = Agent::start(PgCluster::shared());
    for _ in 0..5 {
        agent.login();
    }
    assert_eq!(agent.try_login(USER, "wrong").status, 404);
    let before = notifications(&agent);
    assert_eq!(before.len(), 6);
    agent.kill9();
    agent.spawn();
    assert_eq!(notifications(&agent), before);
}

#[test]
fn sessions_do_not_survive_a_restart() {
    let mut agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    agent.kill9();
    agent.spawn();
    assert_eq!(agent.get_as("/profile", &session).status, 401);
}

#[test]
fn the_notification_log_keeps_the_newest_rows() {
    let setup = AgentSetup {
        temboard: vec!["notifications_max = 3".to_string()],
        ..AgentSetup::default()
    };
    let agent = Agent::start_with(PgCluster::shared(), setup);
    agent.login();
    agent.login();
    let session = agent.login();
    agent.get_as("/logout", &session);
    agent.try_login(USER, "bad");
    let messages: Vec<String> = notifications(&agent)
        .iter()
        .map(|r| r["message"].as_str().unwrap().to_string())
        .collect();
    // The failed login is a refusal row, under its own cap: the 3 events are kept.
    assert_eq!(
        messages,
        ["Failed login from 127.0.0.1", "Logout", "Login", "Login"]
    );
}

#[test]
fn sigterm_lets_in_flight_requests_finish() {
    stop_lets_in_flight_requests_finish("TERM");
}

#[test]
fn sigint_lets_in_flight_requests_finish() {
    stop_lets_in_flight_requests_finish("INT");
}

fn stop_lets_in_flight_requests_finish(signal: &str) {
    let setup = AgentSetup {
        temboard: vec!["login_free_failures = 0".to_string()],
        ..AgentSetup::default()
    };
    let mut agent = Agent::start_with(PgCluster::shared(), setup);
    agent.try_login(USER, "wrong");
    agent.try_login(USER, "wrong");
    // The third failure is held back for 1.5 s: it is in flight when SIGTERM comes.
    let port = agent.port;
    let in_flight = std::thread::spawn(move || {
        let body = json!({ "username": USER, "password": "wrong" }).to_string();
        common::client::send(port, &Request::post("/login", body)).status
    });
    wait_until(
        Duration::from_secs(5),
        "the held login to be recorded",
        || failed_logins(&agent) == 3,
    );
    let status = agent.stop_with(signal);
    assert!(status.success(), "exit status {status}");
    assert_eq!(in_flight.join().unwrap(), 404);
    assert!(agent.log().contains("temboard-agent stopped"));
}

#[test]
fn sighup_reloads_users_and_records_the_reload_time() {
    let agent = Agent::start(PgCluster::shared());
    let alice = agent.login();
    let status = agent.get("/status").json();
    let started = status["start_datetime"].as_str().unwrap().to_string();
    // reload_datetime has a one-second resolution: let the clock pass the start second.
    wait_until(Duration::from_secs(3), "the next second", || {
        chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string() != started
    });
    // Replace alice by bob in the users file.
    let users = agent.dir.path().join("users");
    std::fs::write(&users, users_line("bob", "bob-password") + "\n").unwrap();
    agent.signal("HUP");
    wait_until(Duration::from_secs(10), "bob to log in", || {
        agent.try_login("bob", "bob-password").status == 200
    });
    assert_eq!(agent.try_login(USER, PASSWORD).status, 404);
    // The removed user's session ends with the reload.
    assert_eq!(agent.get_as("/profile", &alice).status, 401);
    let reloaded = agent.get("/status").json();
    assert_eq!(reloaded["start_datetime"], started.as_str());
    assert_ne!(reloaded["reload_datetime"], started.as_str());
}

#[test]
fn sighup_with_a_broken_configuration_keeps_the_previous_one() {
    let agent = Agent::start(PgCluster::shared());
    let good = agent.config();
    agent.write_config(&good.replace("[postgresql]", "[postgresql]\nstatement_timeout = soon"));
    agent.signal("HUP");
    wait_until(
        Duration::from_secs(10),
        "the reload failure in the log",
        || agent.log().contains("reload failed"),
    );
    assert!(
        agent.log().contains("statement_timeout"),
        "the log names the key"
    );
    // Still serving, with the previous users.
    assert_eq!(agent.get("/status").status, 200);
    agent.login();
}

#[test]
fn sighup_names_the_settings_that_need_a_restart() {
    let agent = Agent::start(PgCluster::shared());
    let config = agent.config();
    let moved = config.replacen("port = ", "port = 1\n# was: ", 1);
    agent.write_config(&moved);
    agent.signal("HUP");
    wait_until(Duration::from_secs(10), "the restart warning", || {
        agent.log().contains("take effect at the next restart only")
    });
    assert!(agent.log().contains("[temboard] port"), "{}", agent.log());
    // Still serving on the port it started with.
    assert_eq!(agent.get("/status").status, 200);
}

/// logrotate without copytruncate renames the file and sends SIGHUP: the agent must
/// go on writing at the old path, in a new file, and leave the renamed one alone.
#[test]
fn sighup_reopens_the_log_file_after_a_rotation() {
    let mut agent = Agent::prepare(PgCluster::shared(), AgentSetup::default());
    let path = agent.dir.path().join("temboard-agent.log");
    let rotated = agent.dir.path().join("temboard-agent.log.1");
    let config = agent.config().replace(
        "method = stderr",
        &format!("method = file\ndestination = {}", path.display()),
    );
    agent.write_config(&config);
    agent.spawn();
    agent.login();
    wait_until(Duration::from_secs(10), "the login in the log", || {
        std::fs::read_to_string(&path).is_ok_and(|t| t.contains("POST /login"))
    });
    std::fs::rename(&path, &rotated).unwrap();
    agent.signal("HUP");
    wait_until(Duration::from_secs(10), "a new log file", || {
        std::fs::read_to_string(&path).is_ok_and(|t| t.contains("configuration reloaded"))
    });
    agent.get("/status");
    wait_until(
        Duration::from_secs(10),
        "the request in the new file",
        || std::fs::read_to_string(&path).is_ok_and(|t| t.contains("GET /status")),
    );
    let old = std::fs::read_to_string(&rotated).unwrap();
    assert!(old.contains("POST /login"), "{old}");
    assert!(!old.contains("configuration reloaded"), "{old}");
}
