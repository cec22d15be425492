//! `temboard-agent quickstart [--dir DIR] [--port PORT]`: try the agent in one
//! command.
//!
//! This file owns everything the quickstart puts in DIR: a throwaway
//! PostgreSQL cluster (`DIR/pg`: data directory, unix socket directory, server
//! log), a self-signed certificate (`server.pem`, `server.key`), a users file
//! with one `admin` user, the agent's configuration (`temboard-agent.conf`) and
//! its home (`home`). It then runs the agent in the foreground until Ctrl-C,
//! and stops the cluster.
//!
//! It is for trying the agent, NOT for production: the cluster trusts every
//! local connection, the certificate is self-signed, and the password and key
//! change at every run. A second run reuses the cluster (and its data) and the
//! certificate.
//!
//! PostgreSQL refuses to run as root: when we are root, `initdb` and `pg_ctl`
//! run as the `postgres` OS user through `runuser`, and `DIR/pg` belongs to
//! that user. The cluster listens on its own unix socket only (no TCP), so it
//! never disturbs another cluster on the machine, such as the system one.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{chown, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nix::unistd::{geteuid, User};
use rand::distributions::Alphanumeric;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};

const CONFIG_FILE: &str = "temboard-agent.conf";
const USERS_FILE: &str = "users";
const CERT_FILE: &str = "server.pem";
const KEY_FILE: &str = "server.key";
const HOME_DIR: &str = "home";
const ADMIN_USER: &str = "admin";
const PASSWORD_LENGTH: usize = 20;
const PG_OS_USER: &str = "postgres";
/// Seconds `pg_ctl` waits for the server to start or stop.
const PG_CTL_TIMEOUT: &str = "60";
/// Where Debian (and Ubuntu) install each major version's server binaries.
const DEBIAN_PG_LIB: &str = "/usr/lib/postgresql";
/// Longest socket path the kernel accepts (`sun_path` is 108 bytes, NUL
/// included) minus the socket file name `/.s.PGSQL.NNNNN`.
const MAX_SOCKET_DIR_LEN: usize = 107 - 15;
/// Client environment variables that could point `pg_ctl` elsewhere.
const PG_ENV_VARS: [&str; 6] = [
    "PGDATA",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGDATABASE",
    "PGOPTIONS",
];

/// Sets up DIR, runs the agent on 127.0.0.1:PORT until SIGINT/SIGTERM, then
/// stops the cluster.
pub fn run(dir: &Path, port: u16) -> Result<(), String> {
    let dir = make_dir(dir)?;
    let cluster = Cluster::new(&dir, find_bindir()?, postgres_os_user()?);
    cluster.make_folders()?;
    let pg_port = cluster.init_or_reuse()?;

    write_certificate(&dir)?;
    let password = random_password();
    write_users(&dir.join(USERS_FILE), ADMIN_USER, &password)?;
    let key = random_key();
    let config_path = dir.join(CONFIG_FILE);
    let config = config_text(&AgentSettings {
        port,
        key: &key,
        pg_socket_dir: &cluster.sock,
        pg_port,
        pg_ctl: &cluster.pg_ctl_template(),
    });
    write_private(&config_path, &config)?;

    cluster.start()?;
    if let Err(why) = cluster.create_extensions(pg_port) {
        // The agent works without it; only /statements answers 404.
        eprintln!("warning: cannot create pg_stat_statements: {why}");
    }
    print_banner(&dir, port, &password, &key, &cluster, pg_port);
    // Returns on SIGINT/SIGTERM (Ctrl-C), or with an error (e.g. the port is
    // taken): stop the cluster either way, so that nothing is left running.
    let served = crate::serve::run(&config_path);
    let stopped = cluster.stop();
    match (served, stopped) {
        (Err(served), Err(stopped)) => Err(format!("{served}; then {stopped}")),
        (served, stopped) => served.and(stopped),
    }
}

/// Makes DIR absolute and creates it, refusing a path that cannot carry the
/// paths derived from it.
fn make_dir(dir: &Path) -> Result<PathBuf, String> {
    let error = |e: std::io::Error| format!("{}: {e}", dir.display());
    // Checked before creating anything, and again once symbolic links and
    // ".." are resolved (they change the path written in the files).
    check_dir_name(&std::path::absolute(dir).map_err(error)?)?;
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let dir = fs::canonicalize(dir).map_err(error)?;
    check_dir_name(&dir)?;
    Ok(dir)
}

/// The paths under DIR go unquoted into the `pg_ctl` command template (a
/// command line) and `unix_socket_directories` (a comma-separated list), and
/// the socket path has a kernel length limit: refuse what would break them
/// rather than fail obscurely later.
fn check_dir_name(dir: &Path) -> Result<(), String> {
    let text = dir.to_string_lossy();
    let plain = |c: char| c.is_alphanumeric() || "/._-+@".contains(c);
    if !text.chars().all(plain) {
        return Err(format!(
            "{text}: choose a --dir whose path has only letters, digits and / . _ - + @ \
             (no spaces, quotes, % or commas)"
        ));
    }
    let socket_dir_len = dir.join("pg").join("sock").as_os_str().len();
    if socket_dir_len > MAX_SOCKET_DIR_LEN {
        return Err(format!(
            "{text}: path too long for PostgreSQL's unix socket; choose a shorter --dir"
        ));
    }
    Ok(())
}

/// The folder of `initdb` and `pg_ctl`: the newest Debian-style
/// `/usr/lib/postgresql/VERSION/bin`, else `pg_config --bindir`, else the
/// folder of `initdb` on PATH.
fn find_bindir() -> Result<PathBuf, String> {
    debian_bindir()
        .or_else(|| pg_config_bindir().filter(|dir| has_initdb(dir)))
        .or_else(|| on_path("initdb").and_then(|p| p.parent().map(Path::to_path_buf)))
        .ok_or_else(|| {
            "no PostgreSQL server binaries found (no initdb in /usr/lib/postgresql/*/bin, \
             pg_config --bindir or PATH): install them, e.g. apt-get install postgresql"
                .to_string()
        })
}

fn has_initdb(bindir: &Path) -> bool {
    bindir.join("initdb").is_file()
}

/// The newest `/usr/lib/postgresql/VERSION/bin` that has `initdb`.
fn debian_bindir() -> Option<PathBuf> {
    let bindir = |version: &str| Path::new(DEBIAN_PG_LIB).join(version).join("bin");
    let versions: Vec<String> = fs::read_dir(DEBIAN_PG_LIB)
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|version| has_initdb(&bindir(version)))
        .collect();
    newest_version(versions.iter().map(String::as_str)).map(bindir)
}

/// The highest of the version-like names (`9.6` < `15` < `16`); names that
/// are not versions are ignored.
fn newest_version<'a>(names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let version = |name: &str| -> Option<Vec<u32>> {
        name.split('.').map(|part| part.parse().ok()).collect()
    };
    names
        .filter_map(|name| Some((version(name)?, name)))
        .max()
        .map(|(_, name)| name)
}

fn pg_config_bindir() -> Option<PathBuf> {
    let out = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let dir = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !dir.trim().is_empty()).then(|| PathBuf::from(dir.trim()))
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// `None` when we are not root (PostgreSQL then runs as us); the `postgres`
/// OS user when we are, since PostgreSQL refuses to run as root.
fn postgres_os_user() -> Result<Option<User>, String> {
    if !geteuid().is_root() {
        return Ok(None);
    }
    match User::from_name(PG_OS_USER) {
        Ok(Some(user)) => Ok(Some(user)),
        Ok(None) => Err(format!(
            "running as root, but there is no {PG_OS_USER} OS user to run PostgreSQL as \
             (PostgreSQL refuses to run as root): apt-get install postgresql creates it, \
             or run the quickstart as a non-root user"
        )),
        Err(e) => Err(format!("cannot look up the {PG_OS_USER} OS user: {e}")),
    }
}

/// The quickstart's PostgreSQL cluster, in DIR/pg.
struct Cluster {
    bindir: PathBuf,
    /// DIR/pg: owned by the user running PostgreSQL.
    root: PathBuf,
    data: PathBuf,
    sock: PathBuf,
    log: PathBuf,
    /// The OS user to run PostgreSQL as, when we are root.
    run_as: Option<User>,
}

impl Cluster {
    fn new(dir: &Path, bindir: PathBuf, run_as: Option<User>) -> Cluster {
        let root = dir.join("pg");
        Cluster {
            bindir,
            data: root.join("data"),
            sock: root.join("sock"),
            log: root.join("postgresql.log"),
            root,
            run_as,
        }
    }

    /// Creates DIR/pg and its socket folder, owned by the user running
    /// PostgreSQL (`initdb` creates the data directory itself).
    fn make_folders(&self) -> Result<(), String> {
        for folder in [&self.root, &self.sock] {
            fs::create_dir_all(folder)
                .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
            if let Some(user) = &self.run_as {
                chown(folder, Some(user.uid.as_raw()), Some(user.gid.as_raw())).map_err(|e| {
                    format!("cannot give {} to {PG_OS_USER}: {e}", folder.display())
                })?;
            }
        }
        self.check_reachable()
    }

    /// As root, DIR may sit under a folder closed to others (such as
    /// `/root`, the default working directory of root): PostgreSQL would
    /// then fail with a confusing permission error, so say it plainly.
    fn check_reachable(&self) -> Result<(), String> {
        if self.run_as.is_none() {
            return Ok(());
        }
        let mut test = self.command(Path::new("test"));
        test.arg("-w").arg(&self.root);
        let reachable = output(test, "runuser")?.status.success();
        if reachable {
            return Ok(());
        }
        Err(format!(
            "the {PG_OS_USER} OS user cannot write in {} (a parent folder is closed to other \
             users, as /root is): choose a --dir it can reach, e.g. --dir /tmp/quickstart",
            self.root.display()
        ))
    }

    /// A PostgreSQL binary, such as `pg_ctl`.
    fn binary(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }

    /// A command running `program` as the user running PostgreSQL.
    fn command(&self, program: &Path) -> Command {
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", &user.name, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        for var in PG_ENV_VARS {
            command.env_remove(var);
        }
        // The user running PostgreSQL may not be allowed in our working
        // directory (/root); DIR/pg is its own.
        command.current_dir(&self.root).stdin(Stdio::null());
        command
    }

    /// Creates the cluster on the first run; returns its port, read back
    /// from postgresql.conf on later runs.
    fn init_or_reuse(&self) -> Result<u16, String> {
        let conf = self.data.join("postgresql.conf");
        if self.data.join("PG_VERSION").exists() {
            let text = fs::read_to_string(&conf)
                .map_err(|e| format!("cannot read {}: {e}", conf.display()))?;
            println!("Reusing the PostgreSQL cluster in {}.", self.data.display());
            return port_from_conf(&text).ok_or_else(|| {
                format!(
                    "no port in {}: remove {} to start afresh",
                    conf.display(),
                    self.root.display()
                )
            });
        }
        if self.data.exists() {
            return Err(format!(
                "{} is not a complete PostgreSQL cluster (interrupted initdb?): remove {} \
                 and run again",
                self.data.display(),
                self.root.display()
            ));
        }
        println!(
            "Creating a PostgreSQL cluster in {}...",
            self.data.display()
        );
        self.initdb()?;
        let port = free_port()?;
        // Appending keeps the file's owner (the user running PostgreSQL).
        let settings = pg_settings(port, &self.sock);
        fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut f| f.write_all(settings.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        Ok(port)
    }

    fn initdb(&self) -> Result<(), String> {
        let mut initdb = self.command(&self.binary("initdb"));
        initdb.arg("-D").arg(&self.data);
        initdb.args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        // The C locale exists everywhere and matches UTF8: the caller's
        // locale may not (say, one forwarded by ssh but not installed here).
        initdb.arg("--locale=C");
        check(output(initdb, "initdb")?, "initdb")
    }

    /// `pg_ctl status`: exits with 0 when a server runs on the data directory.
    fn is_running(&self) -> Result<bool, String> {
        let out = output(self.pg_ctl(&["status"]), "pg_ctl status")?;
        Ok(out.status.success())
    }

    /// Creates pg_stat_statements in the `postgres` database, for /statements.
    fn create_extensions(&self, port: u16) -> Result<(), String> {
        let mut psql = self.command(&self.binary("psql"));
        psql.arg("-X")
            .arg("-q")
            .arg("-v")
            .arg("ON_ERROR_STOP=1")
            .arg("-h")
            .arg(&self.sock)
            .arg("-p")
            .arg(port.to_string())
            .arg("-d")
            .arg("postgres")
            .arg("-c")
            .arg(include_str!("sql/quickstart_extensions.sql"));
        check(output(psql, "psql")?, "CREATE EXTENSION pg_stat_statements")
    }

    /// Starts the cluster; a cluster still running (left over by an earlier
    /// run that was killed) is fine.
    fn start(&self) -> Result<(), String> {
        if self.is_running()? {
            println!("PostgreSQL is already running.");
            return Ok(());
        }
        let log = self.log.to_string_lossy();
        let start = self.pg_ctl(&["start", "-w", "-t", PG_CTL_TIMEOUT, "-l", &log]);
        let out = output(start, "pg_ctl start")?;
        if out.status.success() {
            return Ok(());
        }
        // pg_ctl only says that the server did not start; why is in its log.
        let why = last_error_line(&fs::read_to_string(&self.log).unwrap_or_default())
            .unwrap_or_else(|| last_line(&out));
        Err(format!(
            "PostgreSQL did not start (see {}): {why}",
            self.log.display()
        ))
    }

    fn stop(&self) -> Result<(), String> {
        if !self.is_running()? {
            return Ok(());
        }
        println!("Stopping PostgreSQL...");
        let stop = self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", PG_CTL_TIMEOUT]);
        check(output(stop, "pg_ctl stop")?, "pg_ctl stop")
    }

    /// `pg_ctl ARGS -D DATA`.
    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut pg_ctl = self.command(&self.binary("pg_ctl"));
        pg_ctl.args(args).arg("-D").arg(&self.data);
        pg_ctl
    }

    /// The `[administration] pg_ctl` template controlling this cluster: the
    /// agent runs as us, so as root it needs `runuser` too.
    fn pg_ctl_template(&self) -> String {
        let prefix = match &self.run_as {
            Some(user) => format!("runuser -u {} -- ", user.name),
            None => String::new(),
        };
        format!(
            "{prefix}{} %s -D {} -w -t {PG_CTL_TIMEOUT} -l {}",
            self.binary("pg_ctl").display(),
            self.data.display(),
            self.log.display()
        )
    }
}

/// Runs a command to its end, capturing its output.
fn output(mut command: Command, what: &str) -> Result<Output, String> {
    command
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))
}

/// Ok if the command succeeded; else its last line of output as the error.
fn check(out: Output, what: &str) -> Result<(), String> {
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}",
            out.status,
            last_line(&out)
        ))
    }
}

/// The last non-empty line of stderr, else of stdout.
fn last_line(out: &Output) -> String {
    [&out.stderr, &out.stdout]
        .into_iter()
        .filter_map(|bytes| {
            let text = String::from_utf8_lossy(bytes);
            text.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string())
        })
        .next()
        .unwrap_or_else(|| "no output".to_string())
}

/// The last FATAL/PANIC/ERROR line of a server log.
fn last_error_line(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .find(|l| ["FATAL:", "PANIC:", "ERROR:"].iter().any(|w| l.contains(w)))
        .map(|l| l.trim().to_string())
}

/// A TCP port nothing listens on now, never 5432. The cluster does not
/// listen on TCP (the port only names its socket file), but a port free on
/// TCP too avoids confusing anyone who later enables TCP.
fn free_port() -> Result<u16, String> {
    for _ in 0..20 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?
            .port();
        if port != 5432 {
            return Ok(port);
        }
    }
    Err("cannot find a free port on 127.0.0.1".to_string())
}

/// What the quickstart appends to postgresql.conf.
fn pg_settings(port: u16, socket_dir: &Path) -> String {
    let socket_dir = socket_dir.to_string_lossy().replace('\'', "''");
    format!(
        "\n# Added by temboard-agent quickstart.\n\
         port = {port}\n\
         listen_addresses = ''\n\
         unix_socket_directories = '{socket_dir}'\n\
         shared_preload_libraries = 'pg_stat_statements'\n"
    )
}

/// The port set in a postgresql.conf text: its last `port` line, as the
/// server reads it (`port = 5433`, `port 5433`, `port='5433'  # comment`).
fn port_from_conf(text: &str) -> Option<u16> {
    // The last setting wins: search from the end; a bad value there is None.
    text.lines().rev().find_map(port_line).flatten()
}

/// `Some(value)` if the line sets `port`, the value being `None` when it is
/// not a port number.
fn port_line(line: &str) -> Option<Option<u16>> {
    // Setting names are case-insensitive.
    let setting = line
        .split('#')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let rest = setting.strip_prefix("port")?;
    // Not another setting whose name starts with "port".
    if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let value = rest.trim_start().trim_start_matches('=').trim();
    Some(value.trim_matches('\'').parse().ok())
}

/// Writes a new self-signed certificate for localhost and 127.0.0.1, unless
/// both files already exist (a browser may have accepted it already).
fn write_certificate(dir: &Path) -> Result<(), String> {
    let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    if cert_path.exists() && key_path.exists() {
        return Ok(());
    }
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    // rcgen's default key is ECDSA P-256, the cheaper to handshake with.
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("cannot make a self-signed certificate: {e}"))?;
    write_private(&key_path, &certified.key_pair.serialize_pem())?;
    write_file(&cert_path, &certified.cert.pem(), 0o644)
}

/// Rewrites the users file with `name` only: the printed password is then
/// always the valid one.
fn write_users(path: &Path, name: &str, password: &str) -> Result<(), String> {
    let line = actors::users::bcrypt_line(name, password)?;
    write_private(path, &format!("{line}\n"))
}

fn random_password() -> String {
    OsRng
        .sample_iter(&Alphanumeric)
        .take(PASSWORD_LENGTH)
        .map(char::from)
        .collect()
}

/// 32 hexadecimal digits (128 random bits).
fn random_key() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a file only its owner can read (it holds a secret).
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    write_file(path, text, 0o600)
}

/// Writes (or replaces) a file and sets its mode, also when it existed.
fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), String> {
    let error = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(error)?;
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(error)?;
    file.write_all(text.as_bytes()).map_err(error)
}

/// The values of the generated configuration that are not fixed.
struct AgentSettings<'a> {
    port: u16,
    key: &'a str,
    pg_socket_dir: &'a Path,
    pg_port: u16,
    pg_ctl: &'a str,
}

/// The agent's configuration file. Paths of the agent's own files are
/// relative to the file's folder, DIR.
fn config_text(s: &AgentSettings) -> String {
    format!(
        "# Written by temboard-agent quickstart at each run: edits are lost.\n\
         # For trying the agent, not for production.\n\
         \n\
         [temboard]\n\
         port = {port}\n\
         address = 127.0.0.1\n\
         users = {USERS_FILE}\n\
         ssl_cert_file = {CERT_FILE}\n\
         ssl_key_file = {KEY_FILE}\n\
         home = {HOME_DIR}\n\
         key = {key}\n\
         \n\
         [postgresql]\n\
         host = {host}\n\
         port = {pg_port}\n\
         user = postgres\n\
         dbname = postgres\n\
         \n\
         [logging]\n\
         method = stderr\n\
         level = INFO\n\
         \n\
         [administration]\n\
         pg_ctl = {pg_ctl}\n",
        port = s.port,
        key = s.key,
        host = s.pg_socket_dir.display(),
        pg_port = s.pg_port,
        pg_ctl = s.pg_ctl,
    )
}

fn print_banner(dir: &Path, port: u16, password: &str, key: &str, pg: &Cluster, pg_port: u16) {
    let url = format!("https://127.0.0.1:{port}");
    let login = format!(r#"{{"username":"{ADMIN_USER}","password":"{password}"}}"#);
    println!(
        "\n\
         temboard-agent quickstart: for trying the agent, not for production.\n\
         \n\
         \x20 Agent URL:   {url}  (self-signed certificate: curl -k)\n\
         \x20 Console:     {url}/console  (open it in a browser; accept the certificate)\n\
         \x20 User:        {ADMIN_USER}\n\
         \x20 Password:    {password}\n\
         \x20 Key:         {key}\n\
         \x20 Config:      {config}\n\
         \x20 PostgreSQL:  {data} (socket {sock}, port {pg_port}, log {log})\n\
         \n\
         Try:\n\
         \x20 curl -k {url}/status\n\
         \x20 curl -k -X POST -H 'Content-Type: application/json' -d '{login}' {url}/login\n\
         \n\
         Ctrl-C stops the agent and the PostgreSQL cluster.\n",
        config = dir.join(CONFIG_FILE).display(),
        data = pg.data.display(),
        sock = pg.sock.display(),
        log = pg.log.display(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn port_is_read_back_from_postgresql_conf() {
        let initdb_default = "#port = 5432\t\t\t\t# (change requires restart)\n";
        assert_eq!(port_from_conf(initdb_default), None);
        let appended = pg_settings(54321, Path::new("/tmp/qs/pg/sock"));
        assert_eq!(
            port_from_conf(&format!("{initdb_default}{appended}")),
            Some(54321)
        );
        assert_eq!(port_from_conf("port=6000 # comment"), Some(6000));
        assert_eq!(port_from_conf("port '6001'"), Some(6001));
        assert_eq!(port_from_conf("PORT = 6002"), Some(6002));
        assert_eq!(port_from_conf("port = 1\nport = 2\n"), Some(2), "last wins");
        assert_eq!(port_from_conf("portal = 3\n"), None);
        assert_eq!(port_from_conf("port = 1\nport = x\n"), None, "last is bad");
    }

    #[test]
    fn newest_version_compares_numbers() {
        let names = ["9.6", "15", "README", "16", "13"];
        assert_eq!(newest_version(names.into_iter()), Some("16"));
        assert_eq!(newest_version(["9.6", "10"].into_iter()), Some("10"));
        assert_eq!(newest_version(["x"].into_iter()), None);
    }

    #[test]
    fn dir_names_that_would_break_generated_paths_are_refused() {
        assert!(check_dir_name(Path::new("/tmp/qs-1_a.b+c@d")).is_ok());
        for bad in ["/tmp/q s", "/tmp/q's", "/tmp/q%s", "/tmp/a,b", "/tmp/a\"b"] {
            assert!(check_dir_name(Path::new(bad)).is_err(), "{bad}");
        }
        let long = format!("/tmp/{}", "x".repeat(100));
        assert!(check_dir_name(Path::new(&long))
            .unwrap_err()
            .contains("too long"));
    }

    #[test]
    fn secrets_have_the_promised_shape() {
        let password = random_password();
        assert_eq!(password.len(), PASSWORD_LENGTH);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        let key = random_key();
        assert_eq!(key.len(), 32);
        assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(random_key(), key);
    }

    #[test]
    fn generated_config_loads_with_the_expected_values() {
        let dir = tempfile::tempdir().unwrap();
        let dir = fs::canonicalize(dir.path()).unwrap();
        let pg_ctl = "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl %s -D /q/pg/data";
        let text = config_text(&AgentSettings {
            port: 23999,
            key: "0123456789abcdef0123456789abcdef",
            pg_socket_dir: Path::new("/q/pg/sock"),
            pg_port: 54321,
            pg_ctl,
        });
        let path = dir.join(CONFIG_FILE);
        fs::write(&path, text).unwrap();

        let config = Config::load(&path).unwrap();
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        let t = &config.temboard;
        assert_eq!((t.port, t.address.as_str()), (23999, "127.0.0.1"));
        assert_eq!(t.users, dir.join("users"));
        assert_eq!(t.ssl_cert_file, dir.join("server.pem"));
        assert_eq!(t.ssl_key_file, dir.join("server.key"));
        assert_eq!(t.home, dir.join("home"));
        assert_eq!(t.key.as_deref(), Some("0123456789abcdef0123456789abcdef"));
        let pg = &config.postgresql;
        assert_eq!((pg.host.as_str(), pg.port), ("/q/pg/sock", 54321));
        assert_eq!(
            (pg.user.as_str(), pg.dbname.as_str()),
            ("postgres", "postgres")
        );
        assert_eq!(config.administration.pg_ctl.as_deref(), Some(pg_ctl));
    }

    #[test]
    fn pg_ctl_template_runs_as_postgres_only_when_root() {
        let bindir = PathBuf::from("/usr/lib/postgresql/15/bin");
        let mine = Cluster::new(Path::new("/q"), bindir.clone(), None);
        assert_eq!(
            mine.pg_ctl_template(),
            "/usr/lib/postgresql/15/bin/pg_ctl %s -D /q/pg/data -w -t 60 -l /q/pg/postgresql.log"
        );
        let postgres = User::from_name("root").unwrap().unwrap();
        let as_root = Cluster::new(Path::new("/q"), bindir, Some(postgres));
        assert!(as_root
            .pg_ctl_template()
            .starts_with("runuser -u root -- /usr/lib/"));
    }
}
