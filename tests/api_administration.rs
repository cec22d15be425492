//! Administration API against a real agent and real PostgreSQL: control actions
//! (reload, restart, stop, start) on a private cluster with the harness's pg_ctl
//! template, the one-at-a-time rule, failing and slow templates, the fallback
//! without a template, input validation, the audit trail, and the instance state
//! in /status. Tests that control PostgreSQL own their cluster; the others share
//! one that nobody stops.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const CONTROL: &str = "/administration/control";

fn control(agent: &Agent, session: &str, action: &str) -> Response {
    agent.post_as(CONTROL, session, &json!({ "action": action }))
}

fn assert_ok(res: &Response, action: &str) {
    assert_eq!(res.status, 200, "{action}: {}", res.text());
    assert_eq!(res.json(), json!({ "action": action, "state": "ok" }));
}

fn pg_state(agent: &Agent) -> String {
    let status = agent.get("/status/postgres").json();
    status["state"]
        .as_str()
        .unwrap_or_else(|| panic!("no state in /status/postgres: {status}"))
        .to_string()
}

/// The messages of `user`'s notifications, oldest first.
fn notifications(agent: &Agent, session: &str) -> Vec<String> {
    let res = agent.get_as("/notifications", session);
    assert_eq!(res.status, 200);
    let mut messages: Vec<String> = res
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["username"] == USER)
        .map(|n| n["message"].as_str().unwrap().to_string())
        .collect();
    messages.reverse();
    messages
}

fn postmaster_start_time(pg: &PgCluster) -> String {
    pg.psql("postgres", "SELECT pg_postmaster_start_time()")
}

/// An agent on the shared cluster whose `[administration]` section is `section`.
fn agent_with(section: &str) -> Agent {
    Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            extra: format!("[administration]\n{section}\n"),
            ..AgentSetup::default()
        },
    )
}

#[test]
fn reload_restart_stop_and_start_a_private_cluster() {
    let pg = PgCluster::start();
    let agent = Agent::start(&pg);
    let session = agent.login();
    wait_until(Duration::from_secs(30), "the instance to be up", || {
        pg_state(&agent) == "up"
    });
    let status = agent.get("/status/postgres").json();
    assert_eq!(sorted_keys(&status), ["since", "state"], "{status}");
    let since = status["since"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(since, "%Y-%m-%dT%H:%M:%S").is_ok(),
        "{status}"
    );

    // reload: a sighup setting changed in postgresql.auto.conf is in effect as
    // soon as the agent answers.
    pg.psql(
        "postgres",
        "ALTER SYSTEM SET log_autovacuum_min_duration = '4321ms'",
    );
    let show = "SHOW log_autovacuum_min_duration";
    assert_ne!(pg.psql("postgres", show), "4321ms");
    assert_ok(&control(&agent, &session, "reload"), "reload");
    assert_eq!(pg.psql("postgres", show), "4321ms");

    // A reload PostgreSQL refuses (unparsable file) is not "ok".
    let auto_conf = pg.data_dir().join("postgresql.auto.conf");
    let good = std::fs::read_to_string(&auto_conf).unwrap();
    std::fs::write(&auto_conf, format!("{good}this is = not valid = at all\n")).unwrap();
    let refused = control(&agent, &session, "reload");
    assert_eq!(refused.status, 500, "{}", refused.text());
    let error = refused.error();
    assert!(
        error.starts_with("PostgreSQL reload failed: PostgreSQL did not reload"),
        "{error}"
    );
    std::fs::write(&auto_conf, good).unwrap();
    assert_ok(&control(&agent, &session, "reload"), "reload");

    // restart: a new postmaster, and the agent's pooled connections to the old
    // one are never handed out.
    for _ in 0..4 {
        assert_eq!(
            agent.get_as("/administration/pg_version", &session).status,
            200
        );
    }
    let started = postmaster_start_time(&pg);
    assert_ok(&control(&agent, &session, "restart"), "restart");
    assert_ne!(postmaster_start_time(&pg), started);
    for _ in 0..4 {
        let res = agent.get_as("/administration/pg_version", &session);
        assert_eq!(res.status, 200, "right after restart: {}", res.text());
        assert_eq!(
            res.json()["numeric"].as_i64().unwrap(),
            i64::from(pg.server_version_num())
        );
    }
    assert_eq!(agent.get("/discover").json()["pg_port"], pg.port());
    assert_eq!(pg_state(&agent), "up");

    // stop: refused connections as soon as the agent answers.
    assert_ok(&control(&agent, &session, "stop"), "stop");
    assert!(!pg.is_running());
    assert_eq!(pg_state(&agent), "down");
    let version = agent.get_as("/administration/pg_version", &session);
    assert_eq!(version.status, 500);
    assert!(version.error().starts_with("PostgreSQL is unreachable"));

    // start: accepting connections as soon as the agent answers.
    assert_ok(&control(&agent, &session, "start"), "start");
    assert!(pg.is_running());
    assert_eq!(pg_state(&agent), "up");
    assert_eq!(
        agent.get_as("/administration/pg_version", &session).status,
        200
    );

    // Every action and its outcome, under the user's name.
    let messages = notifications(&agent, &session);
    let mut expected: Vec<String> = ["reload", "reload", "reload", "restart", "stop", "start"]
        .iter()
        .flat_map(|a| {
            [
                format!("PostgreSQL {a} requested"),
                format!("PostgreSQL {a}"),
            ]
        })
        .collect();
    expected[3] = "PostgreSQL reload failed: PostgreSQL did not reload: its configuration \
                   load time did not change; are the configuration files valid? (the server \
                   log says)"
        .to_string();
    let control_messages: Vec<String> = messages
        .into_iter()
        .filter(|m| m.starts_with("PostgreSQL"))
        .collect();
    assert_eq!(control_messages, expected);

    // Changes made by another hand are seen by the periodic check.
    pg.stop();
    wait_until(Duration::from_secs(30), "the state to be down", || {
        pg_state(&agent) == "down"
    });
    pg.start_again();
    wait_until(Duration::from_secs(30), "the state to be up", || {
        pg_state(&agent) == "up"
    });

    let log = agent.log();
    for line in [
        "PostgreSQL restart done",
        "PostgreSQL is stopping",
        "PostgreSQL is down",
        "PostgreSQL is unreachable",
        "PostgreSQL is up",
    ] {
        assert!(log.contains(line), "{line:?} not in the agent log:\n{log}");
    }
}

#[test]
fn a_control_request_during_another_is_409() {
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("release");
    // Runs until the test creates the file.
    let agent = agent_with(&format!(
        "pg_ctl = sh -c 'while [ ! -e {} ]; do sleep 0.05; done; echo %s done'",
        release.display()
    ));
    let session = agent.login();
    let port = agent.port;
    let first = {
        let session = session.clone();
        std::thread::spawn(move || {
            let body = json!({ "action": "restart" }).to_string();
            common::client::send(port, &Request::post(CONTROL, body).session(&session))
        })
    };
    wait_until(Duration::from_secs(30), "the restart to be running", || {
        pg_state(&agent) == "stopping"
    });

    for action in ["reload", "start", "restart"] {
        let res = control(&agent, &session, action);
        assert_eq!(res.status, 409, "{action}: {}", res.text());
        assert_eq!(
            res.error(),
            "PostgreSQL restart is in progress; try again when it is done."
        );
    }
    // The supervisor keeps answering while the action runs.
    let started = Instant::now();
    assert_eq!(agent.get("/status").status, 200);
    assert_eq!(
        agent.get_as("/administration/pg_version", &session).status,
        200
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    std::fs::write(&release, "").unwrap();
    assert_ok(&first.join().unwrap(), "restart");
    assert_eq!(pg_state(&agent), "up");
    // The flag is cleared: the next action runs.
    assert_ok(&control(&agent, &session, "start"), "start");
    let messages = notifications(&agent, &session);
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.starts_with("PostgreSQL"))
            .collect::<Vec<_>>(),
        [
            "PostgreSQL restart requested",
            "PostgreSQL restart",
            "PostgreSQL start requested",
            "PostgreSQL start"
        ]
    );
}

#[test]
fn a_failing_template_answers_500_with_its_exit_status_and_output() {
    let agent = agent_with(
        "pg_ctl = sh -c 'echo starting; echo \"pg_ctl: could not %s: boom\" >&2; exit 3'",
    );
    let session = agent.login();
    let res = control(&agent, &session, "restart");
    assert_eq!(res.status, 500);
    let error = res.error();
    assert!(
        error.starts_with("PostgreSQL restart failed: sh ended with exit status 3."),
        "{error}"
    );
    // stdout and stderr are two pipes: their relative order is not kept.
    let (_, output) = error
        .split_once(". Last lines of its output:\n")
        .unwrap_or_else(|| panic!("no output in {error:?}"));
    let mut lines: Vec<&str> = output.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["pg_ctl: could not restart: boom", "starting"]);
    assert_eq!(
        notifications(&agent, &session)
            .iter()
            .filter(|m| m.starts_with("PostgreSQL"))
            .collect::<Vec<_>>(),
        [
            "PostgreSQL restart requested",
            "PostgreSQL restart failed: sh ended with exit status 3"
        ]
    );
    // The shared instance was never touched: a check brings the state back.
    wait_until(Duration::from_secs(30), "the state to be up again", || {
        pg_state(&agent) == "up"
    });
    // A failed action does not keep the next one out.
    assert_eq!(control(&agent, &session, "stop").status, 500);
}

#[test]
fn a_template_running_past_control_timeout_is_killed() {
    let agent = agent_with("pg_ctl = sh -c 'echo trying to %s; sleep 60'\ncontrol_timeout = 1");
    let session = agent.login();
    let started = Instant::now();
    let res = control(&agent, &session, "stop");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(res.status, 500);
    let error = res.error();
    assert!(
        error.starts_with(
            "PostgreSQL stop failed: sh did not finish within 1 s (control_timeout) and was killed."
        ),
        "{error}"
    );
    assert!(error.ends_with("\ntrying to stop"), "{error}");
    assert!(notifications(&agent, &session)
        .iter()
        .any(|m| m.starts_with("PostgreSQL stop failed: sh did not finish within 1 s")));
}

#[test]
fn without_a_template_reload_uses_sql_and_the_others_say_what_to_configure() {
    let pg = PgCluster::shared();
    let agent = agent_with("pg_ctl =");
    let session = agent.login();
    pg.psql(
        "postgres",
        "ALTER SYSTEM SET log_min_duration_sample = '1234ms'",
    );
    let show = "SHOW log_min_duration_sample";
    assert_ok(&control(&agent, &session, "reload"), "reload");
    assert_eq!(pg.psql("postgres", show), "1234ms");
    for action in ["start", "stop", "restart"] {
        let res = control(&agent, &session, action);
        assert_eq!(res.status, 500, "{action}");
        let error = res.error();
        assert!(
            error.starts_with(&format!(
                "PostgreSQL {action} failed: no control command is configured: \
                 set [administration] pg_ctl"
            )),
            "{error}"
        );
    }
    assert_eq!(pg_state(&agent), "up");
    let messages = notifications(&agent, &session);
    assert!(messages.contains(&"PostgreSQL reload".to_string()));
    assert!(messages
        .iter()
        .any(|m| m.starts_with("PostgreSQL stop failed: no control command")));
}

#[test]
fn malformed_actions_are_406_and_leave_no_trace() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    let cases: [Value; 8] = [
        json!({ "action": "promote" }),
        json!({ "action": "Restart" }),
        json!({ "action": "restart " }),
        json!({ "action": "status" }),
        json!({ "action": 1 }),
        json!({ "action": null }),
        json!({}),
        json!(["restart"]),
    ];
    for body in cases {
        let res = agent.post_as(CONTROL, &session, &body);
        assert_eq!(res.status, 406, "{body}");
        assert_eq!(res.error(), "Parameter 'action' is malformed.");
    }
    let not_json = agent.send(Request::post(CONTROL, "action=restart").session(&session));
    assert_eq!(not_json.status, 400);
    assert!(!notifications(&agent, &session)
        .iter()
        .any(|m| m.starts_with("PostgreSQL")));
}

#[test]
fn control_needs_a_session_and_the_key_grants_nothing() {
    let agent = Agent::start(PgCluster::shared());
    let body = json!({ "action": "reload" }).to_string();
    let none = agent.send(Request::post(CONTROL, body.clone()));
    assert_eq!(none.status, 406);
    assert_eq!(none.error(), "Parameter 'X-Session' is malformed.");
    let with_key = agent.send(
        Request::post(&format!("{CONTROL}?key={KEY}"), body.clone())
            .header("X-TemBoard-Agent-Key", KEY),
    );
    assert_eq!(with_key.status, 406);
    let unknown = agent.send(Request::post(CONTROL, body).session(&"a".repeat(64)));
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.error(), "Invalid session.");
    assert_eq!(agent.get(CONTROL).status, 405);
}

#[test]
fn pg_version_gives_the_server_version() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let session = agent.login();
    let res = agent.get_as("/administration/pg_version", &session);
    assert_eq!(res.status, 200);
    let body = res.json();
    assert_eq!(
        body["numeric"].as_i64().unwrap(),
        i64::from(pg.server_version_num())
    );
    assert_eq!(body["full"], pg.psql("postgres", "SELECT version()"));
    assert_eq!(agent.get("/administration/pg_version").status, 406);
}
