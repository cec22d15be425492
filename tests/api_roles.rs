//! Read-only users (`name:hash:read` in the users file): every GET works as for an
//! admin, every request that could change something is refused with 403 before it
//! reaches a handler, and the refusal is in the audit trail. Lines without a role
//! (7.x files) are admins.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const READER: &str = "reader";
const READER_PASSWORD: &str = "look-only-pw";

fn agent_with_reader(pg: &PgCluster) -> Agent {
    Agent::start_with(
        pg,
        AgentSetup {
            user_lines: vec![format!("{}:read", users_line(READER, READER_PASSWORD))],
            key: Some(KEY.to_string()),
            ..AgentSetup::default()
        },
    )
}

fn login_reader(agent: &Agent) -> String {
    let res = agent.try_login(READER, READER_PASSWORD);
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["session"].as_str().unwrap().to_string()
}

/// Every endpoint that changes something, with a body that would be accepted.
fn write_requests(pid: u32) -> Vec<(&'static str, String, Option<Value>)> {
    let pids = json!({ "pids": [pid] });
    let mut requests = vec![
        ("POST", "/activity/kill".to_string(), Some(pids.clone())),
        ("POST", "/activity/cancel".to_string(), Some(pids)),
        (
            "POST",
            "/administration/control".to_string(),
            Some(json!({ "action": "restart" })),
        ),
        (
            "POST",
            "/pgconf/configuration".to_string(),
            Some(json!({ "settings": [{ "name": "work_mem", "setting": "7777kB" }] })),
        ),
        ("DELETE", "/pgconf/configuration/work_mem".to_string(), None),
    ];
    let table = "/maintenance/postgres/schema/public/table/roles_t";
    for op in ["vacuum", "analyze", "reindex"] {
        requests.push((
            "POST",
            format!("/maintenance/postgres/{op}"),
            Some(json!({})),
        ));
        requests.push(("POST", format!("{table}/{op}"), Some(json!({}))));
        requests.push(("DELETE", format!("/maintenance/{op}/0123abcd"), None));
    }
    requests.push((
        "POST",
        "/maintenance/postgres/schema/public/index/roles_t_pkey/reindex".to_string(),
        Some(json!({})),
    ));
    requests
}

fn send(agent: &Agent, method: &str, path: &str, body: &Option<Value>, session: &str) -> Response {
    let mut request = Request::new(method, path).session(session);
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    agent.send(request)
}

/// A psql session sleeping in a backend tagged `tag`, and that backend's pid.
fn sleeping_backend(pg: &PgCluster, tag: &str) -> (std::process::Child, u32) {
    let sleeper = pg.spawn_psql(
        "postgres",
        &format!("SELECT pg_sleep(600) /* roles-sleeper-{tag} */"),
    );
    let mut pid = 0u32;
    wait_until(Duration::from_secs(30), "the sleeping backend", || {
        let out = pg.psql(
            "postgres",
            &format!(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE '%roles-sleeper-{tag} */' \
                 AND pid <> pg_backend_pid()"
            ),
        );
        pid = out.trim().parse().unwrap_or(0);
        pid != 0
    });
    (sleeper, pid)
}

fn backend_count(pg: &PgCluster, pid: u32) -> String {
    pg.psql(
        "postgres",
        &format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"),
    )
    .trim()
    .to_string()
}

fn postmaster_start(pg: &PgCluster) -> String {
    pg.psql("postgres", "SELECT pg_postmaster_start_time()")
}

#[test]
fn read_user_profile_says_read_and_admin_lines_without_role_say_admin() {
    let agent = agent_with_reader(PgCluster::shared());
    let reader = login_reader(&agent);
    assert_eq!(
        agent.get_as("/profile?role=true", &reader).json(),
        json!({ "username": READER, "role": "read" })
    );
    let admin = agent.login();
    assert_eq!(
        agent.get_as("/profile?role=true", &admin).json(),
        json!({ "username": USER, "role": "admin" })
    );
}

#[test]
fn read_user_is_refused_every_write_and_nothing_changes() {
    let pg = PgCluster::shared();
    pg.psql(
        "postgres",
        "CREATE TABLE IF NOT EXISTS roles_t (id int PRIMARY KEY)",
    );
    let agent = agent_with_reader(pg);
    let reader = login_reader(&agent);
    let (mut sleeper, pid) = sleeping_backend(pg, "refused");
    let started = postmaster_start(pg);
    let work_mem = pg.psql("postgres", "SHOW work_mem");
    let auto_conf = std::fs::read_to_string(pg.data_dir().join("postgresql.auto.conf")).ok();

    for (method, path, body) in write_requests(pid) {
        let res = send(&agent, method, &path, &body, &reader);
        assert_eq!(res.status, 403, "{method} {path}: {}", res.text());
        assert_eq!(res.error(), format!("User '{READER}' is read-only."));
    }

    // The backend still runs, the server was not restarted, no setting changed.
    assert_eq!(backend_count(pg, pid), "1");
    assert_eq!(postmaster_start(pg), started);
    assert_eq!(pg.psql("postgres", "SHOW work_mem"), work_mem);
    assert_eq!(
        std::fs::read_to_string(pg.data_dir().join("postgresql.auto.conf")).ok(),
        auto_conf
    );
    // No maintenance task was scheduled.
    for op in ["vacuum", "analyze", "reindex"] {
        let list = agent.get_as(&format!("/maintenance/{op}/scheduled"), &reader);
        if list.status == 200 {
            assert_eq!(list.json(), json!([]), "{op}");
        }
    }
    // Each refusal is in the audit trail, under the reader's name, counted in one
    // row per minute (`... (N attempts this minute)`), the first one's message.
    let notifications = agent.get_as("/notifications", &reader).json();
    let refused: Vec<&str> = notifications
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["username"] == READER)
        .filter_map(|n| n["message"].as_str())
        .filter(|m| m.starts_with("Refused "))
        .collect();
    assert!(
        refused[refused.len() - 1].starts_with("Refused POST /activity/kill: read-only user"),
        "{notifications}"
    );
    let attempts: usize = refused
        .iter()
        .map(|m| {
            m.strip_suffix(" attempts this minute)")
                .and_then(|m| m.rsplit_once(" (")?.1.parse().ok())
                .unwrap_or(1)
        })
        .sum();
    assert_eq!(attempts, write_requests(pid).len(), "{notifications}");
    sleeper.kill().ok();
    sleeper.wait().ok();
}

#[test]
fn read_user_reads_like_an_admin() {
    let agent = agent_with_reader(PgCluster::shared());
    let reader = login_reader(&agent);
    let admin = agent.login();
    for path in [
        "/profile",
        "/notifications",
        "/activity",
        "/dashboard/config",
        "/pgconf/configuration/categories",
        "/maintenance",
        "/administration/pg_version",
    ] {
        let as_reader = agent.get_as(path, &reader);
        let as_admin = agent.get_as(path, &admin);
        assert_eq!(as_reader.status, as_admin.status, "{path}");
        assert_ne!(as_reader.status, 403, "{path}");
    }
}

#[test]
fn admin_writes_pass_the_guard_and_the_key_keeps_its_rights() {
    let pg = PgCluster::shared();
    let agent = agent_with_reader(pg);
    // An admin line without a role (as 7.x writes them) may terminate a backend.
    let admin = agent.login();
    let (mut sleeper, pid) = sleeping_backend(pg, "admin");
    let res = agent.post_as("/activity/kill", &admin, &json!({ "pids": [pid] }));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json(),
        json!({ "backends": [{ "pid": pid, "killed": true }] })
    );
    wait_until(Duration::from_secs(10), "the killed backend to go", || {
        backend_count(pg, pid) == "0"
    });
    sleeper.kill().ok();
    sleeper.wait().ok();
    // With the agent key, a write the key may do is served (here: an unknown task
    // id, 404), whoever's session comes along.
    let reader = login_reader(&agent);
    let res = agent.send(
        Request::new("DELETE", "/maintenance/vacuum/0123abcd")
            .session(&reader)
            .header("X-TemBoard-Agent-Key", KEY),
    );
    assert_eq!(res.status, 404, "{}", res.text());
}

#[test]
fn demoting_a_user_on_sighup_applies_to_their_open_session() {
    let agent = agent_with_reader(PgCluster::shared());
    let session = agent.login();
    let users_file = agent.dir.path().join("users");
    let text = std::fs::read_to_string(&users_file).unwrap();
    let demoted: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{USER}:")) {
                format!("{l}:read")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&users_file, demoted.join("\n") + "\n").unwrap();
    agent.signal("HUP");
    wait_until(Duration::from_secs(10), "the demotion", || {
        agent.get_as("/profile?role=true", &session).json()["role"] == "read"
    });
    let res = agent.post_as("/activity/kill", &session, &json!({ "pids": [1] }));
    assert_eq!(res.status, 403);
}

#[test]
fn unknown_role_stops_start_up_and_a_reload_keeps_the_previous_users() {
    let pg = PgCluster::shared();
    let mut bad = Agent::prepare(
        pg,
        AgentSetup {
            user_lines: vec![format!("{}:superuser", users_line("bob", "pw"))],
            ..AgentSetup::default()
        },
    );
    let output = bad.try_spawn().unwrap_err();
    assert!(output.contains("unknown role \"superuser\""), "{output}");
    assert!(output.contains("line 2"), "{output}");

    let agent = agent_with_reader(pg);
    let users_file = agent.dir.path().join("users");
    let good = std::fs::read_to_string(&users_file).unwrap();
    std::fs::write(&users_file, format!("{good}bob:$2b$10$x:superuser\n")).unwrap();
    agent.signal("HUP");
    wait_until(Duration::from_secs(10), "the failed reload", || {
        agent.log().contains("previous users stay in force")
    });
    assert_eq!(agent.try_login(READER, READER_PASSWORD).status, 200);
    assert_eq!(agent.try_login(USER, PASSWORD).status, 200);
}

#[test]
fn adduser_with_role_read_writes_a_read_line() {
    let mut agent = Agent::prepare(PgCluster::shared(), AgentSetup::default());
    let out = agent.run_command(&["adduser", "carol", "--role", "read"], "carol-pw\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let users = std::fs::read_to_string(agent.dir.path().join("users")).unwrap();
    assert!(
        users
            .lines()
            .any(|l| l.starts_with("carol:$2b$") && l.ends_with(":read")),
        "{users}"
    );
    agent.spawn();
    let res = agent.try_login("carol", "carol-pw");
    assert_eq!(
        res.status,
        200,
        "carol's login: {}\n{}",
        res.text(),
        agent.log()
    );
    let session = res.json()["session"].as_str().unwrap().to_string();
    assert_eq!(
        agent.get_as("/profile?role=true", &session).json()["role"],
        "read"
    );
    // An unknown role is refused by the command line itself.
    let refused = agent.run_command(&["adduser", "dave", "--role", "root"], "pw\n");
    assert!(!refused.status.success());
}
