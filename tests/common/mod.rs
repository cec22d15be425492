//! The black-box test harness: a throwaway PostgreSQL cluster (`pg`), an HTTPS client
//! (`client`), and `Agent`, the real agent binary started on 127.0.0.1, on a port the
//! OS picks (`port = 0`), with a generated certificate, users file and configuration
//! in a temporary directory. An agent is
//! killed when its `Agent` is dropped.
#![allow(dead_code)]

pub mod bg;
pub mod client;
pub mod keep_alive;
pub mod maintenance;
pub mod pg;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[allow(unused_imports)] // each test binary uses a part of the harness
pub use bg::Bg;
pub use client::{Request, Response};
#[allow(unused_imports)]
pub use pg::{wait_until, PgCluster};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "s3cret-pw!";
pub const KEY: &str = "test-agent-key-0123456789";
pub const HOSTNAME: &str = "test-host.example";

pub fn agent_bin() -> &'static str {
    env!("CARGO_BIN_EXE_temboard-agent")
}

/// A port free now, for what cannot be given port 0 (the quick start's `--port`):
/// another process may take it before it is used.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A users-file line made by the agent's own `password` command.
pub fn users_line(name: &str, password: &str) -> String {
    let mut child = Command::new(agent_bin())
        .args(["password", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run temboard-agent password");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "temboard-agent password failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub enum Certificate {
    /// A v3 certificate generated for localhost.
    Generated,
    /// The X.509 v1 certificate of tests/fixtures (as old temboard samples).
    V1Fixture,
}

pub struct AgentSetup {
    pub key: Option<String>,
    pub users: Vec<(String, String)>,
    /// Users-file lines written as they are (legacy hashes, comments).
    pub user_lines: Vec<String>,
    /// Extra `key = value` lines of the [temboard] section.
    pub temboard: Vec<String>,
    /// Extra sections appended at the end.
    pub extra: String,
    pub certificate: Certificate,
}

impl Default for AgentSetup {
    fn default() -> Self {
        AgentSetup {
            key: Some(KEY.to_string()),
            users: vec![(USER.to_string(), PASSWORD.to_string())],
            user_lines: Vec::new(),
            temboard: Vec::new(),
            extra: String::new(),
            certificate: Certificate::Generated,
        }
    }
}

pub struct Agent {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub config_path: PathBuf,
}

impl Agent {
    pub fn start(pg: &PgCluster) -> Agent {
        Agent::start_with(pg, AgentSetup::default())
    }

    pub fn start_with(pg: &PgCluster, setup: AgentSetup) -> Agent {
        let mut agent = Agent::prepare(pg, setup);
        agent.spawn();
        agent
    }

    /// Writes the agent's directory and configuration without starting it.
    pub fn prepare(pg: &PgCluster, setup: AgentSetup) -> Agent {
        let dir = tempfile::Builder::new()
            .prefix("tba-agent-")
            .tempdir()
            .unwrap();
        // The OS picks the agent's port when it binds (see `try_spawn`).
        let port = 0;
        write_certificate(dir.path(), &setup.certificate);
        let mut users: Vec<String> = setup.users.iter().map(|(n, p)| users_line(n, p)).collect();
        users.extend(setup.user_lines.iter().cloned());
        std::fs::write(dir.path().join("users"), users.join("\n") + "\n").unwrap();
        let key_line = setup
            .key
            .as_ref()
            .map(|k| format!("key = {k}\n"))
            .unwrap_or_default();
        let config = format!(
            "[temboard]\nport = {port}\naddress = 127.0.0.1\nusers = users\n\
             ssl_cert_file = server.pem\nssl_key_file = server.key\nhome = home\n\
             hostname = {HOSTNAME}\n{key_line}{extra_temboard}\n\
             [postgresql]\nhost = {socket}\nport = {pg_port}\nuser = postgres\ndbname = postgres\n\n\
             [logging]\nmethod = stderr\nlevel = DEBUG\n\n\
             [administration]\npg_ctl = {pg_ctl}\n\n{extra}\n",
            extra_temboard = setup.temboard.join("\n"),
            socket = pg.socket_dir().display(),
            pg_port = pg.port(),
            pg_ctl = pg.pg_ctl_template(),
            extra = setup.extra,
        );
        let config_path = dir.path().join("temboard-agent.conf");
        std::fs::write(&config_path, config).unwrap();
        Agent {
            child: None,
            dir,
            port,
            config_path,
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("agent.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Starts the agent process (again) on the same directory and waits until it serves.
    pub fn spawn(&mut self) {
        if let Err(log) = self.try_spawn() {
            panic!("agent did not start:\n{log}");
        }
    }

    /// Like `spawn`, but answers the agent's output when it exits instead of serving.
    /// With `port = 0` (the harness's choice) the OS gives the agent a port it holds
    /// from the start, so no other process can take it before the agent listens: the
    /// agent prints it and `port` is set from that line. Another configured port is
    /// used as it is.
    pub fn try_spawn(&mut self) -> Result<(), String> {
        // Only what this start writes: an agent started again appends to the log.
        let log_start = std::fs::metadata(self.log_path()).map_or(0, |m| m.len());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let child = Command::new(agent_bin())
            .arg("-c")
            .arg(&self.config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start the agent");
        self.child = Some(child);
        let configured = configured_port(&self.config());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return Err(format!("exited with {status}:\n{}", self.log()));
            }
            let port = match configured {
                0 => self
                    .log_since(log_start)
                    .split_inclusive('\n')
                    .find_map(announced_port),
                port => Some(port),
            };
            // Only this agent's answer counts (a configured port may be another
            // process's, which may never answer: hence the short wait, after which
            // the agent's exit is looked for again).
            let pid = self.child.as_ref().unwrap().id();
            let status = Request::get("/status").read_timeout(Duration::from_secs(2));
            if let Some(port) = port {
                self.port = port;
                if client::try_send(port, &status).is_ok_and(|r| {
                    r.status == 200
                        && serde_json::from_slice::<Value>(&r.body)
                            .is_ok_and(|status| status["pid"] == pid)
                }) {
                    return Ok(());
                }
            }
            assert!(
                Instant::now() < deadline,
                "agent did not serve:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The agent's output after the first `offset` bytes.
    fn log_since(&self, offset: u64) -> String {
        let log = std::fs::read(self.log_path()).unwrap_or_default();
        let start = usize::try_from(offset).map_or(log.len(), |o| o.min(log.len()));
        String::from_utf8_lossy(&log[start..]).into_owned()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("agent running").id()
    }

    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.stop_with("TERM")
    }

    /// Sends a signal (TERM, INT) and waits for the exit status.
    pub fn stop_with(&mut self, signal: &str) -> std::process::ExitStatus {
        self.signal(signal);
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "agent did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Replaces the configuration file (the agent reads it again on SIGHUP).
    pub fn write_config(&self, text: &str) {
        std::fs::write(&self.config_path, text).unwrap();
    }

    pub fn config(&self) -> String {
        std::fs::read_to_string(&self.config_path).unwrap()
    }

    pub fn send(&self, request: Request) -> Response {
        client::send(self.port, &request)
    }

    pub fn get(&self, path: &str) -> Response {
        self.send(Request::get(path))
    }

    pub fn get_as(&self, path: &str, session: &str) -> Response {
        self.send(Request::get(path).session(session))
    }

    pub fn post_as(&self, path: &str, session: &str, body: &Value) -> Response {
        self.send(Request::post(path, body.to_string()).session(session))
    }

    pub fn try_login(&self, user: &str, password: &str) -> Response {
        let body = serde_json::json!({ "username": user, "password": password });
        self.send(Request::post("/login", body.to_string()))
    }

    /// Logs in as the default user and returns the session id.
    pub fn login(&self) -> String {
        let res = self.try_login(USER, PASSWORD);
        assert_eq!(res.status, 200, "login: {}", res.text());
        res.json()["session"].as_str().unwrap().to_string()
    }
}

/// The `[temboard] port` of a configuration the harness wrote: its first `port`
/// line (0 when there is none, as the harness always writes one).
fn configured_port(config: &str) -> u16 {
    config
        .lines()
        .find_map(|l| l.trim().strip_prefix("port = "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The port of the agent's `temboard-agent listening on https://ADDRESS:PORT` line,
/// once the whole line is written.
fn announced_port(line: &str) -> Option<u16> {
    let address = line
        .strip_suffix('\n')?
        .strip_prefix("temboard-agent listening on https://")?;
    address.rsplit_once(':')?.1.parse().ok()
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn write_certificate(dir: &Path, kind: &Certificate) {
    let (cert, key) = match kind {
        Certificate::Generated => {
            let generated = rcgen::generate_simple_self_signed(vec![
                "localhost".to_string(),
                "127.0.0.1".to_string(),
            ])
            .unwrap();
            (generated.cert.pem(), generated.key_pair.serialize_pem())
        }
        Certificate::V1Fixture => (
            include_str!("../fixtures/v1-cert.pem").to_string(),
            include_str!("../fixtures/v1-key.pem").to_string(),
        ),
    };
    std::fs::write(dir.join("server.pem"), cert).unwrap();
    std::fs::write(dir.join("server.key"), key).unwrap();
}

impl Agent {
    /// Runs `temboard-agent -c <this agent's config> ARGS` with `stdin` as its input
    /// (e.g. a password for adduser).
    pub fn run_command(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut child = Command::new(agent_bin())
            .arg("-c")
            .arg(&self.config_path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run temboard-agent");
        // A command that refuses its arguments exits before reading: ignore EPIPE.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().expect("wait for temboard-agent")
    }
}

impl Agent {
    /// Runs SQL on the agent's durable store with the sqlite3 tool (`.ci/run`
    /// installs it); answers its output.
    pub fn store_sql(&self, sql: &str) -> String {
        let db = self.dir.path().join("home").join("temboard-agent.db");
        let out = Command::new("sqlite3")
            .arg(&db)
            .arg(sql)
            .output()
            .expect("run sqlite3 (apt-get install sqlite3)");
        assert!(
            out.status.success(),
            "sqlite3: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The keys of a JSON object, sorted (panics on anything else).
pub fn sorted_keys(v: &serde_json::Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

impl PgCluster {
    /// A fresh, empty database of this name (dropped first if it exists).
    pub fn fresh_db(&self, name: &str) {
        self.psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
    }
}
