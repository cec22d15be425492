//! Reading the agent's INI configuration file into a typed [`Config`].
//!
//! This module owns the file format (the one of temBoard agent 7.x), the
//! `FILE.d/*.conf` override files, every default and the validation of every
//! value. It must do no I/O other than reading those configuration files: it
//! does not check that the files it names exist, nor connect to anything.
//!
//! The INI reader is a small hand-written one rather than `configparser`:
//! that crate silently accepts a line without `=`/`:` (as a key with no
//! value) and keys before any section, reports no line numbers for them,
//! does not strip quotes, and merging files with it loses which file a value
//! came from, which every error message must name.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub mod actor_settings;

/// The plugins this agent knows, in their default order.
pub const PLUGINS: [&str; 7] = [
    "monitoring",
    "dashboard",
    "pgconf",
    "administration",
    "activity",
    "maintenance",
    "statements",
];

/// The `key` value of the 7.x sample file; the agent must refuse to start
/// with it (checked by the caller: loading the file stays possible, e.g. to
/// add users).
pub const SAMPLE_KEY: &str = "SECRETKEYTOBECHANGED";

/// Syslog facilities accepted by `[logging] facility`.
const FACILITIES: [&str; 20] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];

/// Every section we read and the keys we understand in it.
const KNOWN_KEYS: [(&str, &[&str]); 10] = [
    (
        "temboard",
        &[
            "port",
            "address",
            "users",
            "plugins",
            "ssl_cert_file",
            "ssl_key_file",
            "ssl_ca_cert_file",
            "hostname",
            "key",
            "home",
            "session_timeout",
            "session_lifetime",
            "max_sessions",
            "max_user_sessions",
            "login_free_failures",
            "login_lockout_failures",
            "login_lockout_window",
            "notifications_max",
            "notifications_max_refusals",
            "max_connections",
            "body_timeout",
            "request_timeout",
        ],
    ),
    (
        "postgresql",
        &[
            "host",
            "port",
            "user",
            "password",
            "dbname",
            "instance",
            "statement_timeout",
            "lock_timeout",
            "connect_timeout",
            "max_connections",
        ],
    ),
    ("logging", &["method", "facility", "destination", "level"]),
    ("dashboard", &["scheduler_interval", "history_length"]),
    (
        "monitoring",
        &[
            "dbnames",
            "probes",
            "scheduler_interval",
            "history_window",
            "metrics_token",
        ],
    ),
    ("administration", &["pg_ctl", "control_timeout"]),
    ("maintenance", &["max_parallel", "max_pending_tasks"]),
    ("statements", &["dbname", "max_query_length"]),
    ("activity", &["max_age_ms"]),
    ("console", &["enabled"]),
];

/// 7.x plugin sections accepted without warnings: nothing in them is used.
const TOLERATED_SECTIONS: [&str; 1] = ["pgconf"];

/// Largest interval or timeout in seconds we accept (one year): keeps
/// `Instant + Duration` arithmetic far from overflowing.
const MAX_SECONDS: u64 = 365 * 24 * 3600;
/// Largest PostgreSQL timeout in milliseconds (PostgreSQL's own limit, INT_MAX).
const MAX_PG_MS: u64 = i32::MAX as u64;
/// Upper bound for counts (sessions, rows, failures): a sanity limit.
const MAX_COUNT: u64 = 100_000_000;
/// Upper bound for `[temboard] max_connections`: each one is an open file, and
/// no system gives an agent more than this.
const MAX_CLIENT_CONNECTIONS: u64 = 1_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Absolute, canonical path of the main configuration file.
    pub path: PathBuf,
    pub temboard: Temboard,
    pub postgresql: Postgresql,
    pub logging: Logging,
    pub dashboard: Dashboard,
    pub monitoring: Monitoring,
    pub administration: Administration,
    pub maintenance: Maintenance,
    pub statements: Statements,
    pub activity: Activity,
    pub console: Console,
    /// One line per unknown section or key, for the caller to log.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Temboard {
    pub port: u16,
    pub address: String,
    pub users: PathBuf,
    pub plugins: Vec<String>,
    pub ssl_cert_file: PathBuf,
    pub ssl_key_file: PathBuf,
    pub ssl_ca_cert_file: Option<PathBuf>,
    pub hostname: Option<String>,
    pub key: Option<String>,
    pub home: PathBuf,
    /// Seconds of idle before a login session expires.
    pub session_timeout: u64,
    /// Seconds after its login a session expires, however much it is used.
    pub session_lifetime: u64,
    pub max_sessions: usize,
    /// Live sessions of one user; that user's oldest is evicted beyond it.
    pub max_user_sessions: usize,
    /// Login failures per client address per minute answered without delay.
    pub login_free_failures: u32,
    /// Failures within `login_lockout_window` that lock the address out.
    pub login_lockout_failures: u32,
    /// Seconds.
    pub login_lockout_window: u64,
    pub notifications_max: usize,
    /// Rows of refused attempts (failed logins, wrong keys, read-only refusals, one
    /// per client and minute) kept apart from the `notifications_max` events.
    pub notifications_max_refusals: usize,
    /// Open client connections at most, all workers together; beyond, new
    /// connections wait in the listen backlog.
    pub max_connections: usize,
    /// Seconds a request body may take to arrive, from the end of its head.
    pub body_timeout: u64,
    /// Seconds a request to a PostgreSQL-backed endpoint may take, body included.
    pub request_timeout: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Postgresql {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    pub instance: String,
    /// Milliseconds, 0 = none.
    pub statement_timeout: u64,
    /// Milliseconds, 0 = none.
    pub lock_timeout: u64,
    /// Seconds.
    pub connect_timeout: u64,
    /// The agent's PostgreSQL connections at most, pooled and dedicated together.
    pub max_connections: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMethod {
    Stderr,
    Syslog,
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Logging {
    pub method: LogMethod,
    pub facility: String,
    /// Syslog socket for `syslog`, log file for `file`.
    pub destination: PathBuf,
    pub level: LogLevel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// Seconds.
    pub scheduler_interval: u64,
    pub history_length: usize,
}

/// A list of names where `*` means "all of them".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameList {
    All,
    Some(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Monitoring {
    pub dbnames: NameList,
    pub probes: NameList,
    /// Seconds.
    pub scheduler_interval: u64,
    /// Seconds a collector record is kept in the durable store.
    pub history_window: u64,
    /// Bearer token that /metrics accepts besides a session or the agent key.
    pub metrics_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Administration {
    /// Command template; its single `%s` is replaced by the action.
    pub pg_ctl: Option<String>,
    /// Seconds a control command may run before it is killed.
    pub control_timeout: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Maintenance {
    /// Operations (VACUUM, ANALYZE, REINDEX) running at once.
    pub max_parallel: usize,
    /// Tasks waiting (recurring ones until cancelled) or running at most; scheduling
    /// beyond answers 409.
    pub max_pending_tasks: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Milliseconds during which a listing is served again to other requests (0:
    /// every request reads PostgreSQL and /proc anew).
    pub max_age_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statements {
    pub dbname: String,
    /// Characters of query text answered per statement; longer texts are cut.
    pub max_query_length: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Console {
    /// Whether `/console` (the built-in web console) is served.
    pub enabled: bool,
}

/// Why the configuration cannot be used: one line naming the file (and the
/// section and key, or the line number) at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    fn new(message: String) -> Self {
        ConfigError { message }
    }

    fn cannot_read(path: &Path, error: &io::Error) -> Self {
        Self::new(format!("{}: cannot read: {error}", path.display()))
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl LogLevel {
    /// Case-insensitive `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`.
    pub fn parse(s: &str) -> Option<LogLevel> {
        let levels = [
            ("debug", LogLevel::Debug),
            ("info", LogLevel::Info),
            ("warning", LogLevel::Warning),
            ("error", LogLevel::Error),
            ("critical", LogLevel::Critical),
        ];
        let s = s.trim();
        levels
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|(_, level)| level)
    }
}

impl LogMethod {
    /// Case-insensitive `stderr`, `syslog` or `file`.
    pub fn parse(s: &str) -> Option<LogMethod> {
        match s.trim().to_ascii_lowercase().as_str() {
            "stderr" => Some(LogMethod::Stderr),
            "syslog" => Some(LogMethod::Syslog),
            "file" => Some(LogMethod::File),
            _ => None,
        }
    }
}

impl Config {
    /// Reads the main file, then its `FILE.d/*.conf` overrides in lexical
    /// order, and validates everything.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read(path)?;
        let path = fs::canonicalize(path).map_err(|e| ConfigError::cannot_read(path, &e))?;
        let mut settings = Settings::new(folder_of(&path));
        let mut warnings = Vec::new();
        settings.merge(&path, &text, &mut warnings)?;
        for file in override_files(&path)? {
            let text = read(&file)?;
            settings.merge(&file, &text, &mut warnings)?;
        }
        let mut config = Config::build(path, &settings)?;
        config.warnings = warnings;
        Ok(config)
    }

    /// All defaults, relative paths resolved against `path`'s folder. The
    /// file itself is not read.
    #[cfg(test)]
    pub fn defaults_for(path: &Path) -> Config {
        let path = fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .unwrap_or_else(|_| path.to_path_buf());
        let settings = Settings::new(folder_of(&path));
        Config::build(path, &settings).expect("the defaults are valid")
    }

    fn build(path: PathBuf, s: &Settings) -> Result<Config, ConfigError> {
        Ok(Config {
            temboard: Temboard::read(s)?,
            postgresql: Postgresql::read(s)?,
            logging: Logging::read(s)?,
            dashboard: Dashboard::read(s)?,
            monitoring: Monitoring::read(s)?,
            administration: Administration::read(s)?,
            maintenance: Maintenance::read(s)?,
            activity: Activity::read(s)?,
            statements: Statements::read(s)?,
            console: Console::read(s)?,
            warnings: Vec::new(),
            path,
        })
    }
}

impl Temboard {
    fn read(s: &Settings) -> Result<Self, ConfigError> {
        const S: &str = "temboard";
        Ok(Temboard {
            // 0: the OS picks a free port, printed at start-up (the tests use it).
            port: s.port(S, "port", 2345, 0)?,
            address: s.text(S, "address", "0.0.0.0")?,
            users: s.path(S, "users", "users")?,
            plugins: s.get(S, "plugins", default_plugins(), parse_plugins)?,
            ssl_cert_file: s.path(S, "ssl_cert_file", "server.pem")?,
            ssl_key_file: s.path(S, "ssl_key_file", "server.key")?,
            ssl_ca_cert_file: s.optional_path(S, "ssl_ca_cert_file")?,
            hostname: s.optional(S, "hostname")?,
            key: s.optional(S, "key")?,
            home: s.path(S, "home", "/var/lib/temboard-agent/main")?,
            session_timeout: s.int(S, "session_timeout", 3600, 1, MAX_SECONDS)?,
            session_lifetime: s.int(S, "session_lifetime", 43_200, 1, MAX_SECONDS)?,
            max_sessions: s.int(S, "max_sessions", 100, 1, MAX_COUNT)?,
            max_user_sessions: s.int(S, "max_user_sessions", 10, 1, MAX_COUNT)?,
            login_free_failures: s.int(S, "login_free_failures", 5, 0, MAX_COUNT)?,
            login_lockout_failures: s.int(S, "login_lockout_failures", 20, 1, MAX_COUNT)?,
            login_lockout_window: s.int(S, "login_lockout_window", 600, 1, MAX_SECONDS)?,
            notifications_max: s.int(S, "notifications_max", 1000, 1, MAX_COUNT)?,
            notifications_max_refusals: s.int(
                S,
                "notifications_max_refusals",
                1000,
                1,
                MAX_COUNT,
            )?,
            max_connections: s.int(S, "max_connections", 512, 1, MAX_CLIENT_CONNECTIONS)?,
            body_timeout: s.int(S, "body_timeout", 10, 1, 3600)?,
            request_timeout: s.int(S, "request_timeout", 30, 1, MAX_SECONDS)?,
        })
    }
}

impl Postgresql {
    fn read(s: &Settings) -> Result<Self, ConfigError> {
        const S: &str = "postgresql";
        Ok(Postgresql {
            host: s.text(S, "host", "/var/run/postgresql")?,
            port: s.port(S, "port", 5432, 1)?,
            user: s.text(S, "user", "postgres")?,
            password: s.optional(S, "password")?,
            dbname: s.text(S, "dbname", "postgres")?,
            instance: s.text(S, "instance", "main")?,
            statement_timeout: s.int(S, "statement_timeout", 10_000, 0, MAX_PG_MS)?,
            lock_timeout: s.int(S, "lock_timeout", 5_000, 0, MAX_PG_MS)?,
            connect_timeout: s.int(S, "connect_timeout", 3, 1, MAX_SECONDS)?,
            // Two at least: one pooled and one dedicated (browse, maintenance,
            // per-database probes) may then always run.
            max_connections: s.int(S, "max_connections", 8, 2, 1000)?,
        })
    }
}

impl Logging {
    fn read(s: &Settings) -> Result<Self, ConfigError> {
        const S: &str = "logging";
        let method = s.get(S, "method", LogMethod::Stderr, |v| {
            LogMethod::parse(v).ok_or_else(|| "is not a log method (stderr, syslog or file)".into())
        })?;
        // The destination's meaning, hence its default, depends on the method.
        let destination = match method {
            LogMethod::File => "/var/log/temboard-agent.log",
            LogMethod::Stderr | LogMethod::Syslog => "/dev/log",
        };
        Ok(Logging {
            method,
            facility: s.get(S, "facility", "local0".into(), parse_facility)?,
            destination: s.path(S, "destination", destination)?,
            level: s.get(S, "level", LogLevel::Info, |v| {
                LogLevel::parse(v).ok_or_else(|| {
                    "is not a log level (DEBUG, INFO, WARNING, ERROR or CRITICAL)".into()
                })
            })?,
        })
    }
}

impl Dashboard {
    fn read(s: &Settings) -> Result<Self, ConfigError> {
        Ok(Dashboard {
            scheduler_interval: s.int("dashboard", "scheduler_interval", 2, 1, MAX_SECONDS)?,
            history_length: s.int("dashboard", "history_length", 150, 1, MAX_COUNT)?,
        })
    }
}

impl Monitoring {
    fn read(s: &Settings) -> Result<Self, ConfigError> {
        const S: &str = "monitoring";
        Ok(Monitoring {
            dbnames: s.get(S, "dbnames", NameList::All, |v| Ok(parse_name_list(v)))?,
            probes: s.get(S, "probes", NameList::All, parse_probe_list)?,
            scheduler_interval: s.int(S, "scheduler_interval", 60, 1, MAX_SECONDS)?,
            history_window: s.int(S, "history_window", 6 * 3600, 60, MAX_SECONDS)?,
            metrics_token: s.secret(S, "metrics_token", 16)?,
        })
    }
}

impl Administration {
    fn read(s: &Settings) -> Result<Self, ConfigError> {
        Ok(Administration {
            pg_ctl: s.get("administration", "pg_ctl", None, parse_pg_ctl)?,
            control_timeout: s.int("administration", "control_timeout", 300, 1, MAX_SECONDS)?,
        })
    }
}

impl Maintenance {
    fn read(s: &Settings) -> Result<Self, ConfigError> {
        Ok(Maintenance {
            max_parallel: s.int("maintenance", "max_parallel", 2, 1, 64)?,
            max_pending_tasks: s.int("maintenance", "max_pending_tasks", 1000, 1, 100_000)?,
        })
    }
}

impl Activity {
    fn read(s: &Settings) -> Result<Self, ConfigError> {
        Ok(Activity {
            max_age_ms: s.int("activity", "max_age_ms", 250, 0, 60_000)?,
        })
    }
}

impl Statements {
    fn read(s: &Settings) -> Result<Self, ConfigError> {
        Ok(Statements {
            dbname: s.text("statements", "dbname", "postgres")?,
            max_query_length: s.int("statements", "max_query_length", 16384, 64, 1 << 30)?,
        })
    }
}

impl Console {
    fn read(s: &Settings) -> Result<Self, ConfigError> {
        Ok(Console {
            enabled: s.get("console", "enabled", true, parse_bool)?,
        })
    }
}

/// A boolean as Python's configparser reads one (temboard-agent 7.x's files).
fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" => Ok(false),
        _ => Err("is not a boolean (true or false)".into()),
    }
}

fn default_plugins() -> Vec<String> {
    PLUGINS.iter().map(|p| p.to_string()).collect()
}

/// A JSON list of known plugin names; duplicates are dropped.
fn parse_plugins(value: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = serde_json::from_str(value)
        .map_err(|_| r#"is not a JSON list of plugin names, e.g. ["monitoring", "dashboard"]"#)?;
    let mut plugins: Vec<String> = Vec::new();
    for name in names {
        if !PLUGINS.contains(&name.as_str()) {
            return Err(format!(
                "names an unknown plugin {name:?} (known: {})",
                PLUGINS.join(", ")
            ));
        }
        if !plugins.contains(&name) {
            plugins.push(name);
        }
    }
    Ok(plugins)
}

/// `*` means all; otherwise names separated by commas or newlines.
fn parse_name_list(value: &str) -> NameList {
    let names: Vec<String> = value
        .split([',', '\n'])
        .map(|name| unquote(name.trim()).trim())
        .filter(|name| !name.is_empty())
        .map(String::from)
        .collect();
    if names.iter().any(|name| name == "*") {
        NameList::All
    } else {
        NameList::Some(names)
    }
}

/// `probes`: `*` or names the registry has.
fn parse_probe_list(value: &str) -> Result<NameList, String> {
    let list = parse_name_list(value);
    if let NameList::Some(names) = &list {
        if let Some(unknown) = names
            .iter()
            .find(|n| actors::monitoring::registry::find(n).is_none())
        {
            let known: Vec<&str> = actors::monitoring::registry::PROBES
                .iter()
                .map(|p| p.name)
                .collect();
            return Err(format!(
                "names an unknown probe {unknown:?}; known probes: {}",
                known.join(", ")
            ));
        }
    }
    Ok(list)
}

fn parse_facility(value: &str) -> Result<String, String> {
    let facility = value.trim().to_ascii_lowercase();
    if FACILITIES.contains(&facility.as_str()) {
        Ok(facility)
    } else {
        Err(format!(
            "is not a syslog facility ({})",
            FACILITIES.join(", ")
        ))
    }
}

/// Empty means unset; otherwise the action is put in place of the one `%s`.
fn parse_pg_ctl(value: &str) -> Result<Option<String>, String> {
    match non_empty(value) {
        Some(template) if template.matches("%s").count() != 1 => Err(
            "must contain \"%s\" exactly once (it is replaced by start, stop, restart or reload)"
                .into(),
        ),
        template => Ok(template),
    }
}

fn non_empty(value: &str) -> Option<String> {
    Some(value.trim())
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// Strips one pair of matching single or double quotes around the value.
/// Left alone when the same quote appears inside (`"a", "b"` is two quoted
/// names, not one quoted value).
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            if !inner.contains(quote) {
                return inner;
            }
        }
    }
    value
}

fn read(path: &Path) -> Result<String, ConfigError> {
    fs::read_to_string(path).map_err(|e| ConfigError::cannot_read(path, &e))
}

fn folder_of(path: &Path) -> PathBuf {
    path.parent().unwrap_or(Path::new("/")).to_path_buf()
}

/// The `*.conf` files of the `FILE.d` folder next to the main file, in
/// lexical order. A missing folder means no overrides.
fn override_files(main: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let mut dir = main.as_os_str().to_owned();
    dir.push(".d");
    let dir = PathBuf::from(dir);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ConfigError::cannot_read(&dir, &e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| ConfigError::cannot_read(&dir, &e))?
            .path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        // Like the shell glob `*.conf`: no hidden files (editor leftovers).
        if name.ends_with(".conf") && !name.starts_with('.') && !path.is_dir() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// One section as written in a file; a section may appear several times.
struct RawSection {
    name: String,
    entries: Vec<(String, String)>,
}

/// Splits INI text into sections of `(key, value)`. Names are lowercased;
/// `#`/`;` start comment lines only; an indented line continues the previous
/// value (joined with "\n"); anything else must be `[section]` or
/// `key = value` / `key: value` inside a section.
fn parse_ini(file: &Path, text: &str) -> Result<Vec<RawSection>, ConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<RawSection> = Vec::new();
    // Indentation of the last key line, while indented lines may continue it.
    let mut key_indent: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        let content = line.trim();
        if content.is_empty() || content.starts_with(['#', ';']) {
            continue;
        }
        let syntax_error = |why: &str| {
            let file = file.display();
            ConfigError::new(format!("{file}: line {}: {why}: {content:?}", index + 1))
        };
        let indent = line.len() - line.trim_start().len();
        let entry = sections.last_mut().and_then(|s| s.entries.last_mut());
        if let (Some((_, value)), Some(key_indent)) = (entry, key_indent) {
            if indent > key_indent {
                value.push('\n');
                value.push_str(content);
                continue;
            }
        }
        if let Some(name) = content.strip_prefix('[').and_then(|c| c.strip_suffix(']')) {
            if name.trim().is_empty() {
                return Err(syntax_error("empty section name"));
            }
            let name = name.trim().to_lowercase();
            sections.push(RawSection {
                name,
                entries: Vec::new(),
            });
            key_indent = None;
            continue;
        }
        let Some(section) = sections.last_mut() else {
            return Err(syntax_error("key outside of any [section]"));
        };
        let Some((key, value)) = content.split_once(['=', ':']) else {
            return Err(syntax_error("expected [section], key = value or a comment"));
        };
        if key.trim().is_empty() {
            return Err(syntax_error("missing key name"));
        }
        let entry = (key.trim().to_lowercase(), value.trim().to_string());
        section.entries.push(entry);
        key_indent = Some(indent);
    }
    Ok(sections)
}

/// A value and the file it was read from, for error messages.
struct Setting {
    value: String,
    file: PathBuf,
}

/// The known settings of the main file and its overrides, later files
/// winning key by key, and typed accessors over them.
struct Settings {
    /// Folder of the main file: relative paths are resolved against it.
    dir: PathBuf,
    values: HashMap<(String, String), Setting>,
}

impl Settings {
    fn new(dir: PathBuf) -> Self {
        Settings {
            dir,
            values: HashMap::new(),
        }
    }

    /// Adds the settings of one file; unknown sections and keys become
    /// warnings.
    fn merge(
        &mut self,
        file: &Path,
        text: &str,
        warnings: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        for section in parse_ini(file, text)? {
            if TOLERATED_SECTIONS.contains(&section.name.as_str()) {
                continue;
            }
            let Some((_, keys)) = KNOWN_KEYS.iter().find(|(name, _)| *name == section.name) else {
                let name = &section.name;
                warnings.push(format!(
                    "{}: unknown section [{name}] (ignored)",
                    file.display()
                ));
                continue;
            };
            for (key, value) in section.entries {
                if !keys.contains(&key.as_str()) {
                    let name = &section.name;
                    warnings.push(format!(
                        "{}: unknown key [{name}] {key} (ignored)",
                        file.display()
                    ));
                    continue;
                }
                let value = unquote(&value).to_string();
                let setting = Setting {
                    value,
                    file: file.to_path_buf(),
                };
                self.values.insert((section.name.clone(), key), setting);
            }
        }
        Ok(())
    }

    /// The converted value of `[section] key`, or `default` when unset. A
    /// conversion error names the file, section, key and value.
    fn get<T>(
        &self,
        section: &str,
        key: &str,
        default: T,
        convert: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let Some(setting) = self.values.get(&(section.to_string(), key.to_string())) else {
            return Ok(default);
        };
        convert(&setting.value).map_err(|why| {
            let (file, value) = (setting.file.display(), &setting.value);
            ConfigError::new(format!("{file}: [{section}] {key}: {value:?} {why}"))
        })
    }

    /// An optional secret of at least `min_len` characters: unset or empty is
    /// `None`. Its error never quotes the value (it would reach logs).
    fn secret(
        &self,
        section: &str,
        key: &str,
        min_len: usize,
    ) -> Result<Option<String>, ConfigError> {
        let Some(setting) = self.values.get(&(section.to_string(), key.to_string())) else {
            return Ok(None);
        };
        match non_empty(&setting.value) {
            Some(v) if v.chars().count() < min_len => Err(ConfigError::new(format!(
                "{}: [{section}] {key}: must be at least {min_len} characters (value not shown)",
                setting.file.display()
            ))),
            other => Ok(other),
        }
    }

    /// A required, non-empty string.
    fn text(&self, section: &str, key: &str, default: &str) -> Result<String, ConfigError> {
        self.get(section, key, default.into(), |v| {
            non_empty(v).ok_or_else(|| "must not be empty".into())
        })
    }

    /// An optional string: unset or empty is `None`.
    fn optional(&self, section: &str, key: &str) -> Result<Option<String>, ConfigError> {
        self.get(section, key, None, |v| Ok(non_empty(v)))
    }

    /// A plain decimal integer between `min` and `max`.
    fn int<T: TryFrom<u64>>(
        &self,
        section: &str,
        key: &str,
        default: T,
        min: u64,
        max: u64,
    ) -> Result<T, ConfigError> {
        self.get(section, key, default, |v| {
            let v = v.trim();
            let n = Some(v)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|n| (min..=max).contains(n));
            n.and_then(|n| T::try_from(n).ok())
                .ok_or_else(|| format!("is not an integer between {min} and {max}"))
        })
    }

    fn port(
        &self,
        section: &str,
        key: &str,
        default: u16,
        lowest: u16,
    ) -> Result<u16, ConfigError> {
        self.get(section, key, default, |v| match v.trim().parse::<u16>() {
            Ok(port) if port >= lowest && v.trim().bytes().all(|b| b.is_ascii_digit()) => Ok(port),
            _ => Err(format!("is not a port number ({lowest}-65535)")),
        })
    }

    /// A required path, relative to the main file's folder unless absolute.
    fn path(&self, section: &str, key: &str, default: &str) -> Result<PathBuf, ConfigError> {
        self.get(section, key, self.dir.join(default), |v| {
            non_empty(v)
                .map(|v| self.dir.join(v))
                .ok_or_else(|| "must not be empty".into())
        })
    }

    /// An optional path: unset or empty is `None`.
    fn optional_path(&self, section: &str, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        let path = self.optional(section, key)?;
        Ok(path.map(|p| self.dir.join(p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        path
    }

    /// Loads `text` as `agent.conf` in a fresh folder (kept alive by the
    /// returned `TempDir`).
    fn load(text: &str) -> (TempDir, Result<Config, ConfigError>) {
        let dir = TempDir::new().unwrap();
        let path = write(dir.path(), "agent.conf", text);
        let config = Config::load(&path);
        (dir, config)
    }

    fn load_ok(text: &str) -> Config {
        let (_dir, config) = load(text);
        config.unwrap()
    }

    fn load_err(text: &str) -> String {
        let (_dir, config) = load(text);
        config.unwrap_err().to_string()
    }

    #[test]
    fn empty_file_gives_all_defaults() {
        let c = load_ok("");
        let dir = c.path.parent().unwrap().to_path_buf();
        assert!(c.path.is_absolute() && c.path.ends_with("agent.conf"));
        assert!(c.warnings.is_empty());
        let t = &c.temboard;
        assert_eq!((t.port, t.address.as_str()), (2345, "0.0.0.0"));
        assert_eq!(t.users, dir.join("users"));
        assert_eq!(t.plugins, default_plugins());
        assert_eq!(t.ssl_cert_file, dir.join("server.pem"));
        assert_eq!(t.ssl_key_file, dir.join("server.key"));
        assert_eq!(
            (&t.ssl_ca_cert_file, &t.hostname, &t.key),
            (&None, &None, &None)
        );
        assert_eq!(t.home, PathBuf::from("/var/lib/temboard-agent/main"));
        assert_eq!((t.session_timeout, t.max_sessions), (3600, 100));
        assert_eq!((t.login_free_failures, t.login_lockout_failures), (5, 20));
        assert_eq!((t.login_lockout_window, t.notifications_max), (600, 1000));
        assert_eq!(t.notifications_max_refusals, 1000);
        assert_eq!(
            (t.max_connections, t.body_timeout, t.request_timeout),
            (512, 10, 30)
        );
        let p = &c.postgresql;
        assert_eq!(
            (p.host.as_str(), p.port, p.user.as_str()),
            ("/var/run/postgresql", 5432, "postgres")
        );
        assert_eq!(
            (&p.password, p.dbname.as_str(), p.instance.as_str()),
            (&None, "postgres", "main")
        );
        assert_eq!(
            (p.statement_timeout, p.lock_timeout, p.connect_timeout),
            (10_000, 5_000, 3)
        );
        let l = &c.logging;
        assert_eq!(
            (l.method, l.facility.as_str(), l.level),
            (LogMethod::Stderr, "local0", LogLevel::Info)
        );
        assert_eq!(l.destination, PathBuf::from("/dev/log"));
        assert_eq!(
            c.dashboard,
            Dashboard {
                scheduler_interval: 2,
                history_length: 150
            }
        );
        let m = &c.monitoring;
        assert_eq!(
            (&m.dbnames, &m.probes, m.scheduler_interval),
            (&NameList::All, &NameList::All, 60)
        );
        assert_eq!(c.administration.pg_ctl, None);
        assert_eq!(c.statements.dbname, "postgres");
        assert_eq!(Config::defaults_for(&c.path), c);
    }

    #[test]
    fn defaults_for_missing_file_resolves_against_its_folder() {
        let c = Config::defaults_for(Path::new("/nowhere/agent.conf"));
        assert_eq!(c.path, PathBuf::from("/nowhere/agent.conf"));
        assert_eq!(c.temboard.users, PathBuf::from("/nowhere/users"));
    }

    #[test]
    fn colon_delimiter_and_inline_comment_characters_kept() {
        let c = load_ok("[postgresql]\nuser: bob\npassword = a;b#c\n# comment\n; comment\n");
        assert_eq!(c.postgresql.user, "bob");
        assert_eq!(c.postgresql.password.as_deref(), Some("a;b#c"));
    }

    #[test]
    fn first_delimiter_splits_key_and_value() {
        let c = load_ok("[postgresql]\npassword: x=y:z\n");
        assert_eq!(c.postgresql.password.as_deref(), Some("x=y:z"));
    }

    #[test]
    fn quotes_are_stripped() {
        let c = load_ok(
            "[administration]\npg_ctl = '/usr/lib/postgresql/15/bin/pg_ctl %s -D /x'\n\
             [postgresql]\npassword = \"se cret\"\nuser = 'o'reilly'\n",
        );
        let pg_ctl = c.administration.pg_ctl.as_deref();
        assert_eq!(pg_ctl, Some("/usr/lib/postgresql/15/bin/pg_ctl %s -D /x"));
        assert_eq!(c.postgresql.password.as_deref(), Some("se cret"));
        assert_eq!(c.postgresql.user, "'o'reilly'");
    }

    #[test]
    fn continuation_lines() {
        let c = load_ok(
            "[temboard]\nplugins = [\"monitoring\",\n    \"dashboard\"]\n\
             [monitoring]\ndbnames = a,\n  b\n  c\nprobes = db_size\n",
        );
        assert_eq!(c.temboard.plugins, ["monitoring", "dashboard"]);
        let names = |v: &[&str]| NameList::Some(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(c.monitoring.dbnames, names(&["a", "b", "c"]));
        assert_eq!(c.monitoring.probes, names(&["db_size"]));
    }

    #[test]
    fn continuation_joins_with_newline() {
        let c = load_ok("[postgresql]\npassword = a\n  b\n");
        assert_eq!(c.postgresql.password.as_deref(), Some("a\nb"));
    }

    #[test]
    fn sections_and_keys_are_case_insensitive() {
        let c = load_ok("[TEMBOARD]\nPort = 2346\n[Logging]\nLEVEL = debug\n");
        assert_eq!(c.temboard.port, 2346);
        assert_eq!(c.logging.level, LogLevel::Debug);
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn plugins_json_list() {
        let c = load_ok("[temboard]\nplugins = [\"statements\", \"activity\", \"activity\"]\n");
        assert_eq!(c.temboard.plugins, ["statements", "activity"]);
    }

    #[test]
    fn plugins_not_json_is_an_error() {
        let e = load_err("[temboard]\nplugins = monitoring, dashboard\n");
        assert!(
            e.contains(
                "agent.conf: [temboard] plugins: \"monitoring, dashboard\" is not a JSON list"
            ),
            "{e}"
        );
    }

    #[test]
    fn unknown_plugin_is_an_error() {
        let e = load_err("[temboard]\nplugins = [\"monitoring\", \"bogus\"]\n");
        assert!(
            e.contains("[temboard] plugins:") && e.contains("unknown plugin \"bogus\""),
            "{e}"
        );
    }

    #[test]
    fn name_lists() {
        let c = load_ok("[monitoring]\ndbnames = *\nprobes = cpu, 'memory' ,loadavg\n");
        assert_eq!(c.monitoring.dbnames, NameList::All);
        let probes = ["cpu", "memory", "loadavg"].map(String::from).to_vec();
        assert_eq!(c.monitoring.probes, NameList::Some(probes));
    }

    #[test]
    fn relative_paths_resolve_against_the_file_folder() {
        let c = load_ok(
            "[temboard]\nusers = etc/users\nssl_cert_file = /abs/cert.pem\nssl_key_file = k.key\n\
             ssl_ca_cert_file = ca.pem\nhome = home\n[logging]\nmethod = file\n",
        );
        let dir = c.path.parent().unwrap();
        assert_eq!(c.temboard.users, dir.join("etc/users"));
        assert_eq!(c.temboard.ssl_cert_file, PathBuf::from("/abs/cert.pem"));
        assert_eq!(c.temboard.ssl_key_file, dir.join("k.key"));
        assert_eq!(c.temboard.ssl_ca_cert_file, Some(dir.join("ca.pem")));
        assert_eq!(c.temboard.home, dir.join("home"));
        assert_eq!(
            c.logging.destination,
            PathBuf::from("/var/log/temboard-agent.log")
        );
    }

    #[test]
    fn overrides_apply_in_lexical_order_with_paths_from_main_folder() {
        let dir = TempDir::new().unwrap();
        let main = write(
            dir.path(),
            "agent.conf",
            "[temboard]\nport = 1000\naddress = 127.0.0.1\n",
        );
        let overrides = dir.path().join("agent.conf.d");
        fs::create_dir(&overrides).unwrap();
        write(&overrides, "20-b.conf", "[temboard]\nport = 3000\n");
        write(
            &overrides,
            "10-a.conf",
            "[temboard]\nport = 2000\nusers = u\n",
        );
        write(
            &overrides,
            "30-c.conf.disabled",
            "[temboard]\nport = 4000\n",
        );
        let c = Config::load(&main).unwrap();
        assert_eq!(c.temboard.port, 3000);
        assert_eq!(c.temboard.address, "127.0.0.1");
        assert_eq!(c.temboard.users, c.path.parent().unwrap().join("u"));
    }

    #[test]
    fn error_names_the_override_file() {
        let dir = TempDir::new().unwrap();
        let main = write(dir.path(), "agent.conf", "[temboard]\nport = 1000\n");
        let overrides = dir.path().join("agent.conf.d");
        fs::create_dir(&overrides).unwrap();
        write(&overrides, "bad.conf", "[temboard]\nport = abc\n");
        let e = Config::load(&main).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "agent.conf.d/bad.conf: [temboard] port: \"abc\" is not a port number (0-65535)"
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_port() {
        let e = load_err("[temboard]\nport = abc\n");
        assert!(
            e.ends_with("agent.conf: [temboard] port: \"abc\" is not a port number (0-65535)"),
            "{e}"
        );
        assert!(load_err("[postgresql]\nport = 0\n").contains("[postgresql] port: \"0\""));
        // The agent's own port may be 0: any free port.
        assert_eq!(load_ok("[temboard]\nport = 0\n").temboard.port, 0);
        assert!(load_err("[temboard]\nport = -1\n").contains("(0-65535)"));
        assert!(load_err("[postgresql]\nport = 65536\n").contains("not a port number"));
        assert!(load_err("[postgresql]\nport = +5\n").contains("not a port number"));
    }

    #[test]
    fn numbers_are_trimmed_plain_integers() {
        let c =
            load_ok("[dashboard]\nhistory_length =   42  \n[postgresql]\nstatement_timeout = 0\n");
        assert_eq!(c.dashboard.history_length, 42);
        assert_eq!(c.postgresql.statement_timeout, 0);
        let e = load_err("[dashboard]\nhistory_length = 4.2\n");
        assert!(
            e.contains("[dashboard] history_length: \"4.2\" is not an integer"),
            "{e}"
        );
    }

    #[test]
    fn bad_level() {
        let e = load_err("[logging]\nlevel = LOUD\n");
        assert!(
            e.contains("[logging] level: \"LOUD\" is not a log level"),
            "{e}"
        );
    }

    #[test]
    fn bad_facility() {
        assert_eq!(
            load_ok("[logging]\nfacility = LOCAL3\n").logging.facility,
            "local3"
        );
        let e = load_err("[logging]\nfacility = local9\n");
        assert!(
            e.contains("[logging] facility: \"local9\" is not a syslog facility"),
            "{e}"
        );
    }

    #[test]
    fn bad_method() {
        let e = load_err("[logging]\nmethod = journald\n");
        assert!(e.contains("[logging] method: \"journald\""), "{e}");
        let c = load_ok("[logging]\nmethod = syslog\n");
        assert_eq!(c.logging.method, LogMethod::Syslog);
        assert_eq!(c.logging.destination, PathBuf::from("/dev/log"));
    }

    #[test]
    fn zero_interval_is_an_error() {
        let e = load_err("[monitoring]\nmetrics_token = short-secret\n");
        assert!(
            e.contains("[monitoring] metrics_token: must be at least 16"),
            "{e}"
        );
        assert!(!e.contains("short-secret"), "{e}");
        let c = load_ok("[monitoring]\nmetrics_token = ' 0123456789abcdef '\n");
        assert_eq!(
            c.monitoring.metrics_token.as_deref(),
            Some("0123456789abcdef")
        );
        assert_eq!(
            load_ok("[monitoring]\nmetrics_token =\n")
                .monitoring
                .metrics_token,
            None
        );
        let e = load_err("[monitoring]\nscheduler_interval = 0\n");
        assert!(
            e.contains("[monitoring] scheduler_interval: \"0\" is not an integer between 1 and"),
            "{e}"
        );
        assert!(load_err("[dashboard]\nscheduler_interval = 0\n").contains("[dashboard]"));
    }

    #[test]
    fn slow_client_limits_are_read_and_bounded() {
        let t =
            load_ok("[temboard]\nmax_connections = 40\nbody_timeout = 2\nrequest_timeout = 5\n")
                .temboard;
        assert_eq!(
            (t.max_connections, t.body_timeout, t.request_timeout),
            (40, 2, 5)
        );
        for (key, value) in [
            ("max_connections", "0"),
            ("body_timeout", "0"),
            ("body_timeout", "3601"),
            ("request_timeout", "0"),
        ] {
            let e = load_err(&format!("[temboard]\n{key} = {value}\n"));
            assert!(
                e.contains(&format!("[temboard] {key}: \"{value}\" is not an integer")),
                "{e}"
            );
        }
    }

    #[test]
    fn pg_ctl_needs_exactly_one_placeholder() {
        let e = load_err("[administration]\npg_ctl = pg_ctlcluster 15 main\n");
        assert!(
            e.contains("[administration] pg_ctl: \"pg_ctlcluster 15 main\" must contain \"%s\""),
            "{e}"
        );
        assert!(load_err("[administration]\npg_ctl = x %s %s\n").contains("pg_ctl"));
        assert_eq!(
            load_ok("[administration]\npg_ctl =\n")
                .administration
                .pg_ctl,
            None
        );
    }

    #[test]
    fn missing_file_cannot_be_read() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("absent.conf");
        let e = Config::load(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: cannot read: ", path.display())),
            "{e}"
        );
    }

    #[test]
    fn directory_cannot_be_read() {
        let dir = TempDir::new().unwrap();
        let e = Config::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains(": cannot read: "), "{e}");
    }

    #[test]
    fn syntax_error_names_the_line() {
        let e = load_err("[temboard]\n# fine\n\nport 2345\n");
        assert!(
            e.contains("agent.conf: line 4: ") && e.contains("\"port 2345\""),
            "{e}"
        );
        assert!(load_err("port = 1\n").contains("line 1: key outside of any [section]"));
        assert!(load_err("[temboard\n").contains("line 1:"));
        assert!(load_err("[temboard]\n= 3\n").contains("line 2: missing key name"));
    }

    #[test]
    fn unknown_keys_and_sections_are_warnings() {
        let c = load_ok("[temboard]\nfoo = 1\n[bar]\nx = 1\n[pgconf]\nanything = 1\n[activity]\n");
        let file = c.path.display();
        assert_eq!(
            c.warnings,
            [
                format!("{file}: unknown key [temboard] foo (ignored)"),
                format!("{file}: unknown section [bar] (ignored)"),
            ]
        );
    }

    #[test]
    fn empty_required_values_are_errors() {
        assert!(load_err("[postgresql]\nuser =\n")
            .contains("[postgresql] user: \"\" must not be empty"));
        assert!(load_err("[temboard]\nusers = ''\n")
            .contains("[temboard] users: \"\" must not be empty"));
        let c = load_ok("[temboard]\nhostname =\nkey = \nssl_ca_cert_file =\n");
        assert_eq!((c.temboard.hostname, c.temboard.key), (None, None));
        assert_eq!(c.temboard.ssl_ca_cert_file, None);
    }

    #[test]
    fn console_is_enabled_unless_switched_off() {
        assert!(load_ok("").console.enabled);
        assert!(!load_ok("[console]\nenabled = false\n").console.enabled);
        assert!(!load_ok("[console]\nenabled = Off\n").console.enabled);
        assert!(load_ok("[console]\nenabled = yes\n").console.enabled);
        assert!(load_err("[console]\nenabled = maybe\n")
            .contains("[console] enabled: \"maybe\" is not a boolean (true or false)"));
    }

    #[test]
    fn log_level_parse() {
        assert_eq!(LogLevel::parse(" warning "), Some(LogLevel::Warning));
        assert_eq!(LogLevel::parse("Critical"), Some(LogLevel::Critical));
        assert_eq!(LogLevel::parse("warn"), None);
    }

    #[test]
    fn sample_file_loads_without_warnings() {
        let dir = TempDir::new().unwrap();
        let sample = include_str!("../conf/temboard-agent.conf");
        let path = write(dir.path(), "temboard-agent.conf", sample);
        let c = Config::load(&path).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(
            c.temboard.ssl_cert_file,
            PathBuf::from("/etc/temboard-agent/main/server.pem")
        );
        assert_eq!(c.temboard.users, c.path.parent().unwrap().join("users"));
        assert_eq!(c.temboard.key, None);
        assert_eq!(c.temboard.plugins, default_plugins());
    }
}
