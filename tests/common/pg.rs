//! Throwaway PostgreSQL clusters for the integration tests.
//!
//! This file owns everything about the private PostgreSQL clusters the tests
//! run against: creating one in a fresh temporary directory (`initdb`),
//! starting and stopping it with `pg_ctl`, running SQL through the `psql`
//! binary, and removing it again.
//!
//! It must never touch the system cluster (port 5432, `/var/lib/postgresql`):
//! every cluster lives under its own `tba-pg-*` temporary directory and
//! listens only on a unix socket inside that directory.
//!
//! It must never leave processes or files behind: every cluster gets a
//! detached watchdog that stops the postmaster and removes the directory as
//! soon as the test process is gone (normal exit, panic or kill), and
//! non-shared clusters are also stopped and removed on `Drop`.
//!
//! When the tests run as root, the PostgreSQL binaries are run as the
//! `postgres` OS user (`initdb`, `postgres` and `pg_ctl` refuse to run as
//! root). Internally this uses `setpriv`, which `exec`s the program (unlike
//! `runuser`, which forks and waits), so that killing a spawned
//! [`std::process::Child`] kills the real process.
//!
//! The server's bin folder is `$TBA_PG_BIN` (e.g. a folder printed by
//! `tests/pg-versions.sh 18`), Debian's PostgreSQL 15 by default. Such a
//! folder may lack psql and pg_basebackup: psql is then the one on the PATH
//! (Debian's 15, which speaks to 13-18), and a standby is made from a copy of
//! the stopped primary.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The server's bin folder when `TBA_PG_BIN` is not set.
const DEFAULT_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
const PG_OS_USER: &str = "postgres";
/// Seconds `pg_ctl` waits for start/stop.
const PG_CTL_TIMEOUT: &str = "60";
/// Lines of the server log quoted in panic messages.
const LOG_TAIL_LINES: usize = 40;
/// Client environment variables that could redirect psql/pg_ctl elsewhere.
const PG_ENV_VARS: &[&str] = &[
    "PGDATA",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGDATABASE",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGOPTIONS",
    "PGSSLMODE",
    "PGTARGETSESSIONATTRS",
    "PSQLRC",
];

/// A private PostgreSQL cluster in a temporary directory.
///
/// Layout: `<tmp>/data` (data directory, mode 0700), `<tmp>/sock` (unix
/// socket directory), `<tmp>/postgres.log` (server log). Everything is owned
/// by the `postgres` OS user when running as root.
pub struct PgCluster {
    /// Removed on drop (after the server is stopped).
    tmp: tempfile::TempDir,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    /// The background process that cleans up after the test process.
    watchdog: Mutex<Option<Child>>,
}

/// Polls `cond` every 50 ms until it returns true; panics naming `what` if
/// it is still false after `deadline`.
pub fn wait_until(deadline: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    loop {
        if cond() {
            return;
        }
        if start.elapsed() >= deadline {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the effective uid of this process is 0.
fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0))
}

/// The psql binary: the one of the server's version when present.
fn psql_bin() -> PathBuf {
    let p = PgCluster::bin_dir().join("psql");
    if p.exists() {
        p
    } else {
        PathBuf::from("psql")
    }
}

/// A command running `program` as the `postgres` OS user when we are root,
/// directly otherwise, with a clean PostgreSQL client environment and
/// English messages.
fn pg_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            PG_OS_USER,
            "--regid",
            PG_OS_USER,
            "--init-groups",
            "--",
        ])
        .arg(program);
        c
    } else {
        Command::new(program)
    };
    for var in PG_ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env("LC_ALL", "C").stdin(Stdio::null());
    cmd
}

/// Single-quotes `s` for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Single-quotes `s` for postgresql.conf.
fn conf_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn describe_output(out: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim_end(),
        String::from_utf8_lossy(&out.stderr).trim_end()
    )
}

/// Whether process `pid` has exited (no longer exists, or is a zombie).
fn process_gone(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        Err(_) => true,
    }
}

/// A free port for the cluster. The server listens on a unix socket in a
/// private directory only, so the port merely names the socket; still pick
/// one no local TCP listener uses, and never 5432.
fn free_port(socket_dir: &Path) -> u16 {
    for _ in 0..100 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("binding 127.0.0.1:0 to find a free port")
            .port();
        if port == 5432 || socket_dir.join(format!(".s.PGSQL.{port}")).exists() {
            continue;
        }
        return port;
    }
    panic!("could not find a free port");
}

impl PgCluster {
    /// A cluster's temporary directory with its socket folder (and an empty data
    /// directory when asked: pg_basebackup wants to make its own), owned by the
    /// postgres OS user, a free port, and the watchdog: nothing started yet.
    fn allocate(make_data_dir: bool) -> PgCluster {
        let tmp = tempfile::Builder::new()
            .prefix("tba-pg-")
            .tempdir()
            .expect("creating the cluster's temporary directory");
        let root = tmp.path().to_path_buf();
        let data_dir = root.join("data");
        let socket_dir = root.join("sock");
        let log_file = root.join("postgres.log");
        if make_data_dir {
            fs::create_dir(&data_dir).expect("creating the data directory");
            fs::set_permissions(&data_dir, fs::Permissions::from_mode(0o700))
                .expect("chmod 0700 on the data directory");
        }
        fs::create_dir(&socket_dir).expect("creating the socket directory");
        if is_root() {
            let out = Command::new("chown")
                .args(["-R", &format!("{PG_OS_USER}:{PG_OS_USER}")])
                .arg(&root)
                .stdin(Stdio::null())
                .output()
                .expect("running chown");
            assert!(
                out.status.success(),
                "chown -R postgres {}: {}",
                root.display(),
                describe_output(&out)
            );
        }
        let port = free_port(&socket_dir);
        let cluster = PgCluster {
            tmp,
            data_dir,
            socket_dir,
            log_file,
            port,
            watchdog: Mutex::new(None),
        };
        // Before anything can start a postmaster, so that nothing outlives
        // this process even if it dies during initialisation.
        cluster.spawn_watchdog();
        cluster
    }

    /// Creates and starts a new private cluster. Panics (quoting the server
    /// log when there is one) if anything fails.
    pub fn start() -> PgCluster {
        let cluster = PgCluster::allocate(true);
        cluster.initdb();
        cluster.configure();
        cluster.pg_ctl_start();
        cluster
    }

    /// The cluster shared by all tests of this process: started on first
    /// use, stopped and removed by its watchdog when the process exits.
    pub fn shared() -> &'static PgCluster {
        static SHARED: OnceLock<PgCluster> = OnceLock::new();
        SHARED.get_or_init(PgCluster::start)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The unix socket directory, to use as `[postgresql] host`.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server log (`pg_ctl -l`).
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// `$TBA_PG_BIN`, else `/usr/lib/postgresql/15/bin`.
    pub fn bin_dir() -> &'static Path {
        static DIR: OnceLock<PathBuf> = OnceLock::new();
        DIR.get_or_init(|| match std::env::var_os("TBA_PG_BIN") {
            // Absolute: the binaries run from the clusters' own directories.
            Some(dir) if !dir.is_empty() => std::path::absolute(&dir)
                .unwrap_or_else(|e| panic!("TBA_PG_BIN={}: {e}", Path::new(&dir).display())),
            _ => PathBuf::from(DEFAULT_BIN_DIR),
        })
    }

    /// The major version of the server binaries (`postgres --version`), known
    /// before any cluster exists: some settings are version-dependent.
    pub fn server_major() -> u32 {
        static MAJOR: OnceLock<u32> = OnceLock::new();
        *MAJOR.get_or_init(|| {
            let bin = Self::bin_dir().join("postgres");
            let out = pg_command(&bin)
                .arg("--version")
                .current_dir("/")
                .output()
                .unwrap_or_else(|e| panic!("running {} --version: {e}", bin.display()));
            let text = String::from_utf8_lossy(&out.stdout);
            // "postgres (PostgreSQL) 18.4" or "... 15.18 (Debian 15.18-0+deb12u1)".
            text.split_whitespace()
                .nth(2)
                .and_then(|v| v.split('.').next())
                .and_then(|m| m.parse().ok())
                .unwrap_or_else(|| {
                    panic!(
                        "no major version in {} --version: {}",
                        bin.display(),
                        describe_output(&out)
                    )
                })
        })
    }

    /// A `pg_ctl` command template for the agent under test, `%s` standing
    /// for the action (`start`, `stop`, `restart`, `reload`, `status`).
    pub fn pg_ctl_template(&self) -> String {
        let prefix = if is_root() {
            format!("runuser -u {PG_OS_USER} -- ")
        } else {
            String::new()
        };
        format!(
            "{prefix}{}/pg_ctl %s -D {} -w -t {PG_CTL_TIMEOUT} -l {}",
            Self::bin_dir().display(),
            self.data_dir.display(),
            self.log_file.display()
        )
    }

    /// Stops the server (`pg_ctl stop -m fast -w`). Does nothing if it is
    /// not running.
    pub fn stop(&self) {
        if !self.is_running() {
            return;
        }
        let pid = self.postmaster_pid();
        let out = self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", PG_CTL_TIMEOUT]);
        if !out.status.success() && self.is_running() {
            self.fail("pg_ctl stop -m fast", &out);
        }
        if let Some(pid) = pid {
            wait_until(Duration::from_secs(30), "the postmaster to exit", || {
                process_gone(pid)
            });
        }
    }

    /// Starts the server again after [`PgCluster::stop`]. Does nothing if it
    /// is already running.
    pub fn start_again(&self) {
        if self.is_running() {
            return;
        }
        self.pg_ctl_start();
    }

    /// Whether a postmaster runs for this data directory (`pg_ctl status`).
    pub fn is_running(&self) -> bool {
        self.pg_ctl(&["status"]).status.success()
    }

    /// Runs `sql` in database `db`; returns the trimmed output (unaligned,
    /// tuples only). Panics with psql's stderr on failure.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        match self.try_psql(db, sql) {
            Ok(out) => out,
            Err(err) => panic!("psql -d {db} -c {sql:?} failed: {err}"),
        }
    }

    /// Runs `sql` in database `db`; returns the trimmed output or psql's
    /// trimmed stderr.
    pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = self
            .psql_command(db, sql)
            .output()
            .map_err(|e| format!("running psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
            Err(if stderr.is_empty() {
                format!("psql exited with {}", out.status)
            } else {
                stderr
            })
        }
    }

    /// Starts psql running `sql` in the background (e.g.
    /// `BEGIN; LOCK t; SELECT pg_sleep(60);`). The child is psql itself, so
    /// `kill()` ends the session; stdout and stderr are piped.
    pub fn spawn_psql(&self, db: &str, sql: &str) -> Child {
        self.psql_command(db, sql)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning psql")
    }

    /// `SHOW server_version_num`.
    pub fn server_version_num(&self) -> u32 {
        let v = self.psql("postgres", "SHOW server_version_num");
        v.parse()
            .unwrap_or_else(|e| panic!("parsing server_version_num {v:?}: {e}"))
    }

    fn psql_command(&self, db: &str, sql: &str) -> Command {
        let mut cmd = pg_command(psql_bin());
        cmd.args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.socket_dir)
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", db])
            .args(["-c", sql])
            .current_dir(self.tmp.path());
        cmd
    }

    /// Runs `pg_ctl <args> -D <data>` and returns its output.
    fn pg_ctl(&self, args: &[&str]) -> Output {
        self.try_pg_ctl(args).expect("running pg_ctl")
    }

    fn try_pg_ctl(&self, args: &[&str]) -> std::io::Result<Output> {
        pg_command(Self::bin_dir().join("pg_ctl"))
            .args(args)
            .arg("-D")
            .arg(&self.data_dir)
            .current_dir(self.tmp.path())
            .output()
    }

    fn pg_ctl_start(&self) {
        let out = self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            PG_CTL_TIMEOUT,
            "-l",
            &self.log_file.to_string_lossy(),
        ]);
        if !out.status.success() {
            self.fail("pg_ctl start", &out);
        }
    }

    fn initdb(&self) {
        let out = pg_command(Self::bin_dir().join("initdb"))
            .arg("-D")
            .arg(&self.data_dir)
            // --no-sync is -N.
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .current_dir(self.tmp.path())
            .output()
            .expect("running initdb");
        if !out.status.success() {
            panic!("initdb failed:\n{}", describe_output(&out));
        }
    }

    fn configure(&self) {
        let conf = format!(
            "\n# Added by the integration-test harness (tests/common/pg.rs).\n\
             port = {port}\n\
             listen_addresses = ''\n\
             unix_socket_directories = {sock}\n\
             shared_preload_libraries = 'pg_stat_statements'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             max_connections = 300\n\
             shared_buffers = 32MB\n\
             logging_collector = off\n",
            port = self.port,
            sock = conf_quote(&self.socket_dir.to_string_lossy()),
        );
        // Let a backend notice a killed client (spawn_psql) during a long query
        // such as pg_sleep() and release its locks. PostgreSQL 14 and later: 13
        // notices only when it next writes to the client.
        let conf = if Self::server_major() >= 14 {
            conf + "client_connection_check_interval = '100ms'\n"
        } else {
            conf
        };
        // Appending keeps the file's owner (postgres).
        fs::OpenOptions::new()
            .append(true)
            .open(self.data_dir.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .expect("appending to postgresql.conf");
    }

    /// Spawns the detached watchdog: once this process is gone, it stops the
    /// server (`-m immediate`) and removes the temporary directory. It also
    /// exits when the directory disappears (cluster dropped). It runs in its
    /// own process group (no terminal Ctrl-C) with its stdio on /dev/null
    /// (so that it never holds the test binary's output pipes open).
    fn spawn_watchdog(&self) {
        let root = sh_quote(&self.tmp.path().to_string_lossy());
        let pg_ctl = format!(
            "{}{}",
            if is_root() {
                format!("setpriv --reuid {PG_OS_USER} --regid {PG_OS_USER} --init-groups -- ")
            } else {
                String::new()
            },
            sh_quote(&Self::bin_dir().join("pg_ctl").to_string_lossy())
        );
        let script = format!(
            "trap '' HUP INT; cd /; \
             while kill -0 {pid} 2>/dev/null && [ -d {root} ]; do sleep 0.5; done; \
             if [ -d {root} ]; then \
             {pg_ctl} stop -D {data} -m immediate -w -t 30; \
             rm -rf {root}; fi",
            pid = std::process::id(),
            data = sh_quote(&self.data_dir.to_string_lossy()),
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawning the cluster watchdog");
        *self.watchdog.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
    }

    /// The postmaster's pid from `postmaster.pid`, if the file exists.
    fn postmaster_pid(&self) -> Option<u32> {
        fs::read_to_string(self.data_dir.join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    fn log_tail(&self) -> String {
        match fs::read_to_string(&self.log_file) {
            Ok(log) => {
                let lines: Vec<&str> = log.lines().collect();
                lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
            }
            Err(e) => format!("(cannot read {}: {e})", self.log_file.display()),
        }
    }

    fn fail(&self, what: &str, out: &Output) -> ! {
        panic!(
            "{what} failed for {}:\n{}\nlast lines of {}:\n{}",
            self.data_dir.display(),
            describe_output(out),
            self.log_file.display(),
            self.log_tail()
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Never panic here: this also runs while unwinding.
        let pid = self.postmaster_pid();
        let _ = self.try_pg_ctl(&["stop", "-m", "immediate", "-w", "-t", PG_CTL_TIMEOUT]);
        if let Some(pid) = pid {
            // pg_ctl returns once postmaster.pid is gone, a moment before
            // the process itself is.
            let deadline = Instant::now() + Duration::from_secs(10);
            while !process_gone(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let watchdog = self
            .watchdog
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(mut child) = watchdog {
            let _ = child.kill();
            let _ = child.wait();
        }
        // `tmp` (the TempDir) removes the directory when dropped next.
    }
}

impl PgCluster {
    /// Starts psql reading SQL from a piped stdin, so that a test can keep a session
    /// open between statements (e.g. write `BEGIN; SELECT 1;` and leave it idle in
    /// transaction). Closing stdin or killing the child ends the session.
    pub fn spawn_psql_stdin(&self, db: &str) -> Child {
        pg_command(psql_bin())
            .args(["-X", "-A", "-t", "-q", "-h"])
            .arg(&self.socket_dir)
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", db])
            .current_dir(self.tmp.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning psql")
    }
}

impl PgCluster {
    /// Creates and starts a streaming standby of this cluster, in its own temporary
    /// directory with its own port and socket, watched, stopped and removed like any
    /// private cluster. The primary must allow replication connections from the local
    /// socket (initdb's default). With pg_basebackup in the server's bin folder it is
    /// `pg_basebackup -R` (WAL streamed); without it (the npm builds ship none, and
    /// Debian's 15 cannot stream from a newer server) the primary is stopped, its data
    /// directory copied and started again: a private primary only.
    pub fn start_standby(&self) -> PgCluster {
        let standby = PgCluster::allocate(false);
        let pg_basebackup = Self::bin_dir().join("pg_basebackup");
        if pg_basebackup.exists() {
            let out = pg_command(pg_basebackup)
                .arg("-D")
                .arg(&standby.data_dir)
                .arg("-h")
                .arg(&self.socket_dir)
                .args(["-p", &self.port.to_string(), "-U", "postgres"])
                .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"])
                .current_dir(standby.tmp.path())
                .output()
                .expect("running pg_basebackup");
            if !out.status.success() {
                panic!("pg_basebackup failed:\n{}", describe_output(&out));
            }
        } else {
            self.copy_stopped_to(&standby);
        }
        // The copied postgresql.conf names the primary's port and socket: the lines
        // appended now come last and win.
        standby.configure();
        standby.pg_ctl_start();
        standby
    }

    /// What `pg_basebackup -R` makes, without it: a copy of the cleanly stopped
    /// primary with `standby.signal` and a `primary_conninfo` to its socket.
    fn copy_stopped_to(&self, standby: &PgCluster) {
        self.stop();
        let out = pg_command("cp")
            .arg("-a")
            .arg(&self.data_dir)
            .arg(&standby.data_dir)
            .current_dir("/")
            .output()
            .expect("running cp");
        self.start_again();
        if !out.status.success() {
            panic!(
                "copying the primary's data directory failed:\n{}",
                describe_output(&out)
            );
        }
        for stale in ["postmaster.opts", "postmaster.pid"] {
            let _ = fs::remove_file(standby.data_dir.join(stale));
        }
        // Appending and creating as the postgres user keeps the files its own.
        let conninfo = format!(
            "host={} port={} user=postgres application_name=standby",
            self.socket_dir.display(),
            self.port
        );
        let out = pg_command("sh")
            .args([
                "-c",
                "touch \"$1/standby.signal\" && printf \"primary_conninfo = %s\\n\" \"$2\" >> \"$1/postgresql.auto.conf\"",
                "sh",
            ])
            .arg(&standby.data_dir)
            .arg(conf_quote(&conninfo))
            .current_dir("/")
            .output()
            .expect("running sh");
        if !out.status.success() {
            panic!(
                "making the copy a standby failed:\n{}",
                describe_output(&out)
            );
        }
    }
}
