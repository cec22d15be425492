//! Start-up: a bad configuration stops the agent with one line naming file, section
//! and key; the sample key is refused; X.509 v1 certificates are served with a
//! warning; unknown keys are warned about; `adduser` writes a working users line.

mod common;

use std::process::{Command, Stdio};

use common::*;

fn start_failure(setup: AgentSetup, edit: impl Fn(String) -> String) -> String {
    let mut agent = Agent::prepare(PgCluster::shared(), setup);
    agent.write_config(&edit(agent.config()));
    match agent.try_spawn() {
        Ok(()) => panic!("the agent started:\n{}", agent.log()),
        Err(output) => output,
    }
}

#[test]
fn a_bad_value_names_file_section_and_key() {
    let output = start_failure(AgentSetup::default(), |c| {
        c.replace("[postgresql]\n", "[postgresql]\nstatement_timeout = soon\n")
    });
    assert!(output.contains("temboard-agent.conf"), "{output}");
    assert!(
        output.contains("[postgresql] statement_timeout"),
        "{output}"
    );
    let error_lines = output
        .lines()
        .filter(|l| l.contains("temboard-agent:"))
        .count();
    assert_eq!(error_lines, 1, "{output}");
}

#[test]
fn an_unreadable_users_file_stops_the_start() {
    let mut agent = Agent::prepare(PgCluster::shared(), AgentSetup::default());
    std::fs::remove_file(agent.dir.path().join("users")).unwrap();
    let output = agent.try_spawn().unwrap_err();
    assert!(output.contains("users"), "{output}");
}

#[test]
fn the_sample_key_is_refused() {
    let setup = AgentSetup {
        key: Some("SECRETKEYTOBECHANGED".to_string()),
        ..AgentSetup::default()
    };
    let output = start_failure(setup, |c| c);
    assert!(output.contains("[temboard] key"), "{output}");
}

#[test]
fn unknown_keys_are_warned_about() {
    let mut agent = Agent::prepare(PgCluster::shared(), AgentSetup::default());
    agent.write_config(
        &agent
            .config()
            .replace("[temboard]\n", "[temboard]\nfrobnicate = 1\n"),
    );
    agent.spawn();
    assert!(agent.log().contains("frobnicate"), "{}", agent.log());
}

#[test]
fn an_x509_v1_certificate_is_served_with_a_warning() {
    let setup = AgentSetup {
        certificate: Certificate::V1Fixture,
        ..AgentSetup::default()
    };
    let agent = Agent::start_with(PgCluster::shared(), setup);
    assert_eq!(agent.get("/status").status, 200);
    assert!(agent.log().contains("X.509 version 1"), "{}", agent.log());
}

#[test]
fn an_override_file_in_conf_d_wins() {
    let mut agent = Agent::prepare(PgCluster::shared(), AgentSetup::default());
    let dropin = agent.dir.path().join("temboard-agent.conf.d");
    std::fs::create_dir(&dropin).unwrap();
    std::fs::write(
        dropin.join("10-host.conf"),
        "[temboard]\nhostname = first.example\n",
    )
    .unwrap();
    std::fs::write(
        dropin.join("20-host.conf"),
        "[temboard]\nhostname = second.example\n",
    )
    .unwrap();
    agent.spawn();
    assert_eq!(agent.get("/discover").json()["hostname"], "second.example");
}

#[test]
fn adduser_appends_a_working_line() {
    let agent = Agent::prepare(PgCluster::shared(), AgentSetup::default());
    let out = agent.run_command(&["adduser", "carol"], "carol-pw\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let users = std::fs::read_to_string(agent.dir.path().join("users")).unwrap();
    assert!(
        users.lines().any(|l| l.starts_with("carol:$2b$")),
        "{users}"
    );
    assert!(!users.contains("carol-pw"));
    // Adding the same user again is refused.
    let again = agent.run_command(&["adduser", "carol"], "other-pw\n");
    assert!(!again.status.success());
    let mut agent = agent;
    agent.spawn();
    assert_eq!(agent.try_login("carol", "carol-pw").status, 200);
}

#[test]
fn password_prints_a_bcrypt_line_and_refuses_bad_names() {
    let line = users_line("dave", "pw");
    assert!(line.starts_with("dave:$2b$10$"), "{line}");
    let bad = Command::new(agent_bin())
        .args(["password", "Dave!"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn a_port_in_use_is_one_clean_error() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let output = start_failure(AgentSetup::default(), |c| {
        c.replacen("port = ", &format!("port = {port}\n# was: "), 1)
    });
    assert!(
        output.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{output}"
    );
    assert!(!output.contains("panicked"), "{output}");
}

#[test]
fn logging_to_a_file_and_changing_its_level_on_sighup() {
    let mut agent = Agent::prepare(PgCluster::shared(), AgentSetup::default());
    let with_file = agent.config().replace(
        "method = stderr\nlevel = DEBUG",
        "method = file\ndestination = agent-file.log\nlevel = INFO",
    );
    agent.write_config(&with_file);
    agent.spawn();
    let file = agent.dir.path().join("agent-file.log");
    let read = || std::fs::read_to_string(&file).unwrap_or_default();
    assert!(read().contains("temboard-agent started"), "{}", read());
    agent.get("/status?before-reload");
    wait_until(
        std::time::Duration::from_secs(5),
        "the access log line",
        || read().contains("/status?before-reload"),
    );
    // Raise the level to ERROR: access lines (INFO) stop. reload_datetime has a
    // one-second resolution: let the clock pass the start second first.
    let started = agent.get("/status").json()["start_datetime"].clone();
    wait_until(std::time::Duration::from_secs(3), "the next second", || {
        chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string() != started
    });
    agent.write_config(&with_file.replace("level = INFO", "level = ERROR"));
    agent.signal("HUP");
    wait_until(std::time::Duration::from_secs(10), "the reload", || {
        agent.get("/status").json()["reload_datetime"] != started
    });
    let session = agent.login();
    agent.get_as("/profile?after-reload", &session);
    // The request above is answered: had it been logged, it would be in the file now.
    assert!(!read().contains("after-reload"), "{}", read());
}

#[test]
fn an_unreadable_store_is_set_aside_and_the_agent_starts() {
    let mut agent = Agent::prepare(PgCluster::shared(), AgentSetup::default());
    let home = agent.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("temboard-agent.db"),
        "not a database at all ".repeat(500),
    )
    .unwrap();
    agent.spawn();
    assert!(agent.log().contains("moved aside"), "{}", agent.log());
    let session = agent.login();
    assert_eq!(agent.get_as("/notifications", &session).status, 200);
    let aside = std::fs::read_dir(&home)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains(".unreadable-"));
    assert!(aside);
}

/// `port = 0`, as the harness configures every agent: the OS picks a free port at
/// the bind, so that no other process can take it between its choice and its use
/// (the race of picking a free port, releasing it, then starting the agent on it).
/// The agent prints it on stdout and names it in its start line; two agents started
/// together never share one.
#[test]
fn port_zero_listens_on_a_port_the_system_picks_and_says_which() {
    let pg = PgCluster::shared();
    let mut first = Agent::prepare(pg, AgentSetup::default());
    let mut second = Agent::prepare(pg, AgentSetup::default());
    assert!(
        first.config().contains("\nport = 0\n"),
        "{}",
        first.config()
    );
    std::thread::scope(|s| {
        s.spawn(|| first.spawn());
        s.spawn(|| second.spawn());
    });
    assert_ne!(first.port, 0);
    assert_ne!(first.port, second.port);
    for agent in [&first, &second] {
        let log = agent.log();
        let printed = format!(
            "temboard-agent listening on https://127.0.0.1:{}\n",
            agent.port
        );
        assert!(log.contains(&printed), "{log}");
        assert!(
            log.contains(&format!("listen: https://127.0.0.1:{}", agent.port)),
            "the start line names the bound port, not 0:\n{log}"
        );
        assert_eq!(agent.get("/status").json()["pid"], agent.pid());
    }
    // Started again, an agent gets a port again and is found on it.
    first.terminate();
    first.spawn();
    assert_eq!(first.get("/status").json()["pid"], first.pid());
}
