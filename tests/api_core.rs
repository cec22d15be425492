//! Core API against a real agent and a real PostgreSQL: login, logout, profile,
//! sessions, agent key, discover, status, notifications, and the error shape of the
//! HTTP layer.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const LEGACY_LINE_PASSWORD: &str = "foo!!";

fn legacy_alice_line(name: &str) -> String {
    // The hash of "foo!!" for user "alice", as temboard-agent 7.x wrote it.
    let hash = include_str!("../actors/tests/fixtures/legacy_alice_foo.txt").trim();
    format!("{name}:{hash}")
}

#[test]
fn login_returns_a_64_hex_session_that_identifies_the_user() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    assert_eq!(session.len(), 64);
    assert!(session
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    let profile = agent.get_as("/profile", &session);
    assert_eq!(profile.status, 200);
    assert_eq!(profile.json(), json!({ "username": USER }));
    // The role only when asked for.
    let profile = agent.get_as("/profile?role=true", &session);
    assert_eq!(profile.json(), json!({ "username": USER, "role": "admin" }));
    let profile = agent.get_as("/profile?role=false", &session);
    assert_eq!(profile.json(), json!({ "username": USER }));
    for bad in ["role=yes", "role=", "role=true&role=true"] {
        let res = agent.get_as(&format!("/profile?{bad}"), &session);
        assert_eq!(res.status, 406, "{bad}");
        assert_eq!(res.error(), "Parameter 'role' is malformed.");
    }
}

#[test]
fn each_login_opens_its_own_session() {
    let agent = Agent::start(PgCluster::shared());
    let first = agent.login();
    let second = agent.login();
    assert_ne!(first, second);
    assert_eq!(agent.get_as("/profile", &first).status, 200);
    assert_eq!(agent.get_as("/profile", &second).status, 200);
}

#[test]
fn wrong_password_or_unknown_user_is_404() {
    let agent = Agent::start(PgCluster::shared());
    for (user, password) in [(USER, "wrong"), ("nobody", PASSWORD)] {
        let res = agent.try_login(user, password);
        assert_eq!(res.status, 404, "{user}");
        assert_eq!(res.error(), "Invalid username/password.");
    }
}

#[test]
fn malformed_login_fields_are_406_naming_the_field() {
    let agent = Agent::start(PgCluster::shared());
    let cases = [
        (json!({ "password": PASSWORD }), "username"),
        (
            json!({ "username": "AL", "password": PASSWORD }),
            "username",
        ),
        (
            json!({ "username": "Alice", "password": PASSWORD }),
            "username",
        ),
        (json!({ "username": 42, "password": PASSWORD }), "username"),
        (
            json!({ "username": "a".repeat(65), "password": PASSWORD }),
            "username",
        ),
        (json!({ "username": USER }), "password"),
        (json!({ "username": USER, "password": "" }), "password"),
        (
            json!({ "username": USER, "password": "x".repeat(73) }),
            "password",
        ),
        (json!({ "username": USER, "password": ["x"] }), "password"),
        (json!([USER, PASSWORD]), "username"),
        (json!("alice"), "username"),
    ];
    for (body, field) in cases {
        let res = agent.send(Request::post("/login", body.to_string()));
        assert_eq!(res.status, 406, "{body}");
        assert_eq!(
            res.error(),
            format!("Parameter '{field}' is malformed."),
            "{body}"
        );
    }
}

#[test]
fn login_body_that_is_not_json_is_400() {
    let agent = Agent::start(PgCluster::shared());
    for body in [
        "",
        "{",
        "username=alice&password=x",
        "{\"username\": \"alice\",}",
    ] {
        let res = agent.send(Request::post("/login", body));
        assert_eq!(res.status, 400, "{body:?}");
        assert!(!res.error().is_empty());
    }
}

#[test]
fn legacy_temboard_password_hash_logs_in() {
    let setup = AgentSetup {
        users: vec![],
        user_lines: vec!["# legacy users file".to_string(), legacy_alice_line(USER)],
        ..AgentSetup::default()
    };
    let agent = Agent::start_with(PgCluster::shared(), setup);
    assert_eq!(agent.try_login(USER, LEGACY_LINE_PASSWORD).status, 200);
    assert_eq!(agent.try_login(USER, "foo!").status, 404);
}

#[test]
fn logout_ends_the_session() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    let res = agent.get_as("/logout", &session);
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({ "logout": true }));
    let after = agent.get_as("/profile", &session);
    assert_eq!(after.status, 401);
    assert_eq!(after.error(), "Invalid session.");
    assert_eq!(agent.get_as("/logout", &session).status, 401);
}

#[test]
fn x_session_missing_or_malformed_is_406_unknown_is_401() {
    let agent = Agent::start(PgCluster::shared());
    let valid = agent.login();
    for path in ["/profile", "/logout", "/notifications"] {
        let missing = agent.get(path);
        assert_eq!(missing.status, 406, "{path}");
        assert_eq!(missing.error(), "Parameter 'X-Session' is malformed.");
        for bad in [
            "abc".to_string(),
            valid.to_uppercase(),
            valid[..63].to_string(),
            format!("{valid}0"),
            "g".repeat(64),
        ] {
            let res = agent.get_as(path, &bad);
            assert_eq!(res.status, 406, "{path} {bad}");
            assert_eq!(res.error(), "Parameter 'X-Session' is malformed.");
        }
        let unknown = agent.get_as(path, &"0".repeat(64));
        assert_eq!(unknown.status, 401, "{path}");
        assert_eq!(unknown.error(), "Invalid session.");
    }
}

#[test]
fn idle_sessions_expire() {
    let setup = AgentSetup {
        temboard: vec!["session_timeout = 1".to_string()],
        ..AgentSetup::default()
    };
    let agent = Agent::start_with(PgCluster::shared(), setup);
    let session = agent.login();
    assert_eq!(agent.get_as("/profile", &session).status, 200);
    // Idle expiry is about time itself: let more than the timeout pass unused.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(agent.get_as("/profile", &session).status, 401);
}

#[test]
fn session_cap_evicts_the_least_recently_used() {
    let setup = AgentSetup {
        temboard: vec!["max_sessions = 2".to_string()],
        ..AgentSetup::default()
    };
    let agent = Agent::start_with(PgCluster::shared(), setup);
    let first = agent.login();
    let second = agent.login();
    // Using the first makes the second the least recently used.
    assert_eq!(agent.get_as("/profile", &first).status, 200);
    let third = agent.login();
    assert_eq!(agent.get_as("/profile", &second).status, 401);
    assert_eq!(agent.get_as("/profile", &first).status, 200);
    assert_eq!(agent.get_as("/profile", &third).status, 200);
}

#[test]
fn notifications_record_logins_failures_and_logouts_newest_first() {
    let agent = Agent::start(PgCluster::shared());
    assert_eq!(agent.try_login(USER, "wrong").status, 404);
    let session = agent.login();
    let other = agent.login();
    assert_eq!(agent.get_as("/logout", &other).status, 200);
    let res = agent.get_as("/notifications", &session);
    assert_eq!(res.status, 200);
    let rows = res.json();
    let rows = rows.as_array().unwrap();
    let messages: Vec<&str> = rows
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["Logout", "Login", "Login", "Failed login from 127.0.0.1"]
    );
    for row in rows {
        assert_eq!(row["username"], USER);
        let date = row["date"].as_str().unwrap();
        assert!(
            chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%dT%H:%M:%S").is_ok(),
            "{date}"
        );
        assert_eq!(row.as_object().unwrap().len(), 3);
    }
}

#[test]
fn agent_key_authenticates_key_endpoints_only() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    // Key in the query or in the header is enough.
    assert_eq!(agent.get(&format!("/notifications?key={KEY}")).status, 200);
    let header = Request::get("/notifications").header("X-TemBoard-Agent-Key", KEY);
    assert_eq!(agent.send(header).status, 200);
    // A wrong key is 401 even with a valid session.
    let wrong = agent.send(Request::get("/notifications?key=nope").session(&session));
    assert_eq!(wrong.status, 401);
    assert!(!wrong.error().is_empty());
    let wrong_header = Request::get("/notifications")
        .header("X-TemBoard-Agent-Key", "nope")
        .session(&session);
    assert_eq!(agent.send(wrong_header).status, 401);
    // Outside the key endpoints the key grants nothing.
    let profile = agent.get(&format!("/profile?key={KEY}"));
    assert_eq!(profile.status, 406);
    assert_eq!(agent.get(&format!("/logout?key={KEY}")).status, 406);
}

#[test]
fn without_a_configured_key_any_key_is_refused() {
    let setup = AgentSetup {
        key: None,
        ..AgentSetup::default()
    };
    let agent = Agent::start_with(PgCluster::shared(), setup);
    assert_eq!(agent.get("/notifications?key=anything").status, 401);
    let session = agent.login();
    assert_eq!(agent.get_as("/notifications", &session).status, 200);
}

fn proc_cpu_count() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(|b| b.is_ascii_digit()))
        .count() as u64
}

fn mem_total_bytes() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[test]
fn discover_tells_the_truth_about_host_and_instance() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let res = agent.get("/discover");
    assert_eq!(res.status, 200);
    let d = res.json();
    assert_eq!(d["hostname"], HOSTNAME);
    assert_eq!(d["cpu"], proc_cpu_count());
    assert_eq!(d["memory_size"], mem_total_bytes());
    assert_eq!(d["pg_port"], pg.port());
    assert_eq!(d["pg_version"], pg.psql("postgres", "SELECT version()"));
    assert_eq!(d["pg_data"], pg.psql("postgres", "SHOW data_directory"));
    assert_eq!(
        d["plugins"],
        json!([
            "monitoring",
            "dashboard",
            "pgconf",
            "administration",
            "activity",
            "maintenance",
            "statements"
        ])
    );
}

#[test]
fn discover_checks_the_key_header_only_when_present() {
    let agent = Agent::start(PgCluster::shared());
    let right = Request::get("/discover").header("X-TemBoard-Agent-Key", KEY);
    assert_eq!(agent.send(right).status, 200);
    let wrong = Request::get("/discover").header("X-TemBoard-Agent-Key", "nope");
    let res = agent.send(wrong);
    assert_eq!(res.status, 401);
    assert!(!res.error().is_empty());
}

#[test]
fn discover_lists_the_configured_plugins() {
    let setup = AgentSetup {
        temboard: vec![r#"plugins = ["dashboard", "activity"]"#.to_string()],
        ..AgentSetup::default()
    };
    let agent = Agent::start_with(PgCluster::shared(), setup);
    assert_eq!(
        agent.get("/discover").json()["plugins"],
        json!(["dashboard", "activity"])
    );
    // A disabled plugin's routes are not served.
    let session = agent.login();
    assert_eq!(
        agent.get_as("/administration/pg_version", &session).status,
        404
    );
}

#[test]
fn status_describes_the_agent_process() {
    let agent = Agent::start(PgCluster::shared());
    let res = agent.get("/status");
    assert_eq!(res.status, 200);
    let s = res.json();
    assert_eq!(s["pid"], agent.pid());
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    let configfile = std::fs::canonicalize(&agent.config_path).unwrap();
    assert_eq!(s["configfile"], configfile.display().to_string());
    let me = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    assert_eq!(s["user"], String::from_utf8(me.stdout).unwrap().trim());
    for key in ["start_datetime", "reload_datetime"] {
        let text = s[key].as_str().unwrap();
        assert!(
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").is_ok(),
            "{key}: {text}"
        );
    }
    assert_eq!(s["start_datetime"], s["reload_datetime"]);
    // The six keys of the spec; the instance's state is at /status/postgres.
    assert_eq!(s.as_object().unwrap().len(), 6);
    wait_until(Duration::from_secs(20), "/status/postgres up", || {
        let pg = agent.get("/status/postgres");
        assert_eq!(pg.status, 200);
        let pg = pg.json();
        assert_eq!(sorted_keys(&pg), ["since", "state"], "{pg}");
        pg["state"] == "up"
    });
}

#[test]
fn pg_version_needs_a_session_and_reads_the_server() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    assert_eq!(
        agent
            .get(&format!("/administration/pg_version?key={KEY}"))
            .status,
        406
    );
    let session = agent.login();
    let res = agent.get_as("/administration/pg_version", &session);
    assert_eq!(res.status, 200);
    let v = res.json();
    assert_eq!(v["numeric"], pg.server_version_num());
    assert_eq!(v["full"], pg.psql("postgres", "SELECT version()"));
}

#[test]
fn errors_of_the_http_layer_are_json() {
    let agent = Agent::start(PgCluster::shared());
    let unknown = agent.get("/no/such/route");
    assert_eq!(unknown.status, 404);
    assert!(!unknown.error().is_empty());
    let wrong_method = agent.send(Request::new("DELETE", "/status"));
    assert_eq!(wrong_method.status, 405);
    assert!(!wrong_method.error().is_empty());
    let get_login = agent.get("/login");
    assert_eq!(get_login.status, 405);
    let huge = format!(
        "{{\"username\": \"alice\", \"password\": \"{}\"}}",
        "x".repeat(2 << 20)
    );
    let too_large = agent.send(Request::post("/login", huge));
    assert_eq!(too_large.status, 413);
    assert!(too_large.error().contains("too large"));
}

#[test]
fn every_response_carries_server_and_cors_headers() {
    let agent = Agent::start(PgCluster::shared());
    for res in [
        agent.get("/status"),
        agent.get("/nope"),
        agent.try_login(USER, "bad"),
    ] {
        let server = res.header("server").unwrap_or_default();
        assert_eq!(
            server,
            format!("temboard-agent/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(res.header("access-control-allow-origin"), Some("*"));
        assert!(res
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json"));
    }
}

#[test]
fn key_and_passwords_never_reach_the_log() {
    let agent = Agent::start(PgCluster::shared());
    agent.login();
    agent.try_login(USER, "wrong-password-xyz");
    agent.get(&format!("/notifications?key={KEY}"));
    agent.send(Request::get("/notifications").header("X-TemBoard-Agent-Key", KEY));
    let log = agent.log();
    assert!(log.contains("/notifications?key=***"), "{log}");
    for secret in [KEY, PASSWORD, "wrong-password-xyz"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}

#[test]
fn requests_are_served_while_a_login_is_held_back() {
    // Every failure is held back (no free failures): a held login must not block others.
    let setup = AgentSetup {
        temboard: vec!["login_free_failures = 0".to_string()],
        ..AgentSetup::default()
    };
    let agent = Agent::start_with(PgCluster::shared(), setup);
    for _ in 0..3 {
        agent.try_login(USER, "wrong");
    }
    let port = agent.port;
    let held = std::thread::spawn(move || {
        let body = json!({ "username": USER, "password": "wrong" }).to_string();
        common::client::send(port, &Request::post("/login", body)).status
    });
    // The fourth failure is held for 2 s; /status and a good login answer meanwhile.
    wait_until(Duration::from_secs(5), "status answers", || {
        agent.get("/status").status == 200
    });
    let status: Value = agent.get("/status").json();
    assert!(status["pid"].is_u64());
    // The session registry is not blocked either: a good login goes through.
    let session = agent.login();
    assert_eq!(agent.get_as("/profile", &session).status, 200);
    assert!(
        !held.is_finished(),
        "the held-back login answered too early"
    );
    assert_eq!(held.join().unwrap(), 404);
}

#[test]
fn agent_connections_are_named_and_accept_the_configured_timeouts() {
    // The options string itself is unit-tested in actors::pg_supervisor.
    let pg = PgCluster::shared();
    let mut agent = Agent::prepare(pg, AgentSetup::default());
    agent.write_config(&agent.config().replace(
        "[postgresql]\n",
        "[postgresql]\nstatement_timeout = 4321\nlock_timeout = 1234\n",
    ));
    agent.spawn();
    assert_eq!(agent.get("/discover").status, 200);
    // The pooled connection stays open: PostgreSQL shows it with its settings.
    let seen = pg.psql(
        "postgres",
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'temboard-agent' \
         AND backend_type = 'client backend'",
    );
    assert!(seen.parse::<u32>().unwrap() >= 1, "{seen}");
}

#[test]
fn a_parameter_given_twice_is_406_on_every_endpoint_that_reads_it() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    for (path, name) in [
        ("/statements?limit=1&limit=2", "limit"),
        ("/statements?order=calls&order=calls", "order"),
        ("/monitoring/history?limit=1&limit=1", "limit"),
        (
            "/maintenance/postgres/schema/public?limit=1&limit=2",
            "limit",
        ),
        (
            "/maintenance/postgres/schema/public?offset=0&offset=0",
            "offset",
        ),
        ("/pgconf/configuration?filter=a&filter=b", "filter"),
        (
            "/pgconf/configuration/categories?filter=a&filter=a",
            "filter",
        ),
        ("/activity?limit=1&limit=1", "limit"),
        ("/profile?role=true&role=true", "role"),
    ] {
        let res = agent.get_as(path, &session);
        assert_eq!(res.status, 406, "{path}: {}", res.text());
        assert_eq!(
            res.error(),
            format!("Parameter '{name}' is malformed."),
            "{path}"
        );
    }
    // Once, the same parameters are taken (ignored keys stay ignored).
    let res = agent.get_as(
        "/pgconf/configuration?filter=work_mem&key=x&key=y",
        &session,
    );
    assert_eq!(res.status, 200, "{}", res.text());
}
