//! `temboard-agent serve`: start-up in order (configuration, logging, users, TLS,
//! durable store), then the actors and the HTTPS server, then wait for SIGTERM/SIGINT
//! (graceful stop) while SIGHUP reloads what can be reloaded.

use std::path::Path;
use std::time::Duration;

use actix::System;
use tokio::signal::unix::{signal, SignalKind};

use actors::host::HostFacts;
use actors::store::Store;
use actors::users::Users;

use crate::config::{actor_settings, Config, SAMPLE_KEY};
use crate::http::{self, AppState};
use crate::{logging, reload};

/// actix-web caps connections per worker: `[temboard] max_connections` is split
/// between the workers (one per CPU, fewer when the cap is smaller), rounded down, so
/// that all workers together never hold more.
fn workers_and_cap(max_connections: usize, cpus: usize) -> (usize, usize) {
    let workers = cpus.clamp(1, max_connections.max(1));
    (workers, (max_connections / workers).max(1))
}

fn server_limits(config: &Config) -> http::Limits {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (workers, connections_per_worker) = workers_and_cap(config.temboard.max_connections, cpus);
    http::Limits {
        workers,
        connections_per_worker,
        deadlines: http::deadline::Deadlines {
            body: Duration::from_secs(config.temboard.body_timeout),
            request: Duration::from_secs(config.temboard.request_timeout),
        },
    }
}

/// Files the agent opens besides client connections and PostgreSQL connections:
/// the listener, the store and its WAL, the log, /proc readings, pg_ctl's pipes,
/// each worker's event queue.
const OWN_FILES: u64 = 128;

/// The soft limit of open files, from /proc/self/limits (`Max open files  1024  524288  files`).
fn open_files_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    if soft == "unlimited" {
        Some(u64::MAX)
    } else {
        soft.parse().ok()
    }
}

/// Beyond its open-files limit the agent could accept no connection nor open any
/// file: said at start-up, with both ways out.
fn warn_if_too_few_open_files(log: &slog::Logger, config: &Config) {
    let needed = config.temboard.max_connections as u64
        + u64::from(config.postgresql.max_connections)
        + OWN_FILES;
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| open_files_limit(&text));
    if let Some(limit) = limit.filter(|&limit| limit < needed) {
        slog::warn!(log, "the open files limit is too low for [temboard] max_connections: raise it (LimitNOFILE= of the systemd unit, ulimit -n) or lower max_connections";
            "limit" => limit, "needed" => needed,
            "max_connections" => config.temboard.max_connections);
    }
}

/// The TLS private key must not be readable by every user of the machine; the
/// agent still starts (7.x did), but says how to fix it.
fn warn_if_others_read(log: &slog::Logger, key_file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(key_file) {
        if meta.permissions().mode() & 0o004 != 0 {
            slog::warn!(log, "the TLS private key is readable by every user of the machine: chmod o-r it (e.g. chmod 600)";
                "file" => %key_file.display(), "setting" => "[temboard] ssl_key_file");
        }
    }
}

fn os_user() -> String {
    let uid = nix::unistd::geteuid();
    nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

/// SIGTERM or SIGINT: stop accepting, let requests in flight finish (up to the
/// shutdown timeout), then return from `run`. A second signal stops at once.
async fn stop_on_signals(server: actix_web::dev::ServerHandle, log: slog::Logger) {
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        slog::error!(
            log,
            "cannot listen for SIGTERM/SIGINT; stop the agent with SIGKILL"
        );
        return;
    };
    let mut graceful = true;
    loop {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        if graceful {
            slog::info!(log, "stopping: requests in flight may finish"; "signal" => name);
        } else {
            slog::warn!(log, "stopping now"; "signal" => name);
        }
        actix::spawn(server.stop(graceful));
        graceful = false;
    }
}

/// The shortest agent key accepted: the key is a password that never changes hands
/// interactively, so it can be long.
const MIN_KEY_LENGTH: usize = 16;

pub fn run(config_path: &Path) -> Result<(), String> {
    let config = Config::load(config_path).map_err(|e| e.to_string())?;
    if config.temboard.key.as_deref() == Some(SAMPLE_KEY) {
        return Err(format!(
            "{}: [temboard] key: the sample value {SAMPLE_KEY} must be changed",
            config.path.display()
        ));
    }
    // Checked here, not at loading, for the same reason as the sample key. The
    // length only is named: the key never reaches a message.
    if let Some(key) = &config.temboard.key {
        let length = key.chars().count();
        if length < MIN_KEY_LENGTH {
            return Err(format!(
                "{}: [temboard] key: {length} characters is too short, at least \
                 {MIN_KEY_LENGTH} are needed (e.g. the output of openssl rand -hex 16)",
                config.path.display()
            ));
        }
    }
    let log_handle = logging::init(&config.logging)?;
    let log = log_handle.logger();
    for warning in &config.warnings {
        slog::warn!(log, "{warning}");
    }
    let users = Users::load(&config.temboard.users)?;
    if users.is_empty() {
        slog::warn!(log, "no user in the users file: nobody can log in";
            "file" => %config.temboard.users.display(), "hint" => "temboard-agent adduser NAME");
    }
    // ssl_ca_cert_file is accepted for compatibility: 7.x used it to check the UI's
    // certificate when calling the UI, which this agent never does.
    let tls = http::tls::load(
        &config.temboard.ssl_cert_file,
        &config.temboard.ssl_key_file,
    )?;
    if tls.x509_v1 {
        slog::warn!(log, "the TLS certificate is X.509 version 1, which browsers and rustls clients refuse; replace it with a v3 certificate";
            "file" => %config.temboard.ssl_cert_file.display());
    }
    warn_if_others_read(&log, &config.temboard.ssl_key_file);
    let store = Store::init(&config.temboard.home).map_err(|e| e.to_string())?;
    if let Some(aside) = store.set_aside() {
        slog::warn!(log, "the durable store could not be read (corrupt or not a database): it was moved aside and a new one created; notifications and scheduled maintenance tasks in it are lost";
            "moved_to" => %aside.display());
    }
    warn_if_too_few_open_files(&log, &config);
    let host = HostFacts::read(config.temboard.hostname.as_deref());
    // Bound before any actor starts, so that a port in use is one clean error line.
    let listen = format!("{}:{}", config.temboard.address, config.temboard.port);
    let listener =
        std::net::TcpListener::bind((config.temboard.address.as_str(), config.temboard.port))
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let listen = listener.local_addr().map_or(listen, |a| a.to_string());
    if config.temboard.port == 0 {
        // The OS picked the port: say which on stdout, whatever the log method, for
        // whoever started the agent (the test harness does so).
        use std::io::Write;
        let _ = writeln!(
            std::io::stdout(),
            "temboard-agent listening on https://{listen}"
        );
    }

    let result = System::new().block_on(async {
        let actors = actors::start_all(actors::Settings {
            store,
            notifications_max: config.temboard.notifications_max,
            notifications_max_refusals: config.temboard.notifications_max_refusals,
            users,
            sessions: actor_settings::sessions(&config),
            pg: actor_settings::postgresql(&config),
            dashboard: actor_settings::dashboard(&config),
            monitoring: actor_settings::monitoring(&config),
            activity: actor_settings::activity(&config),
            pgconf: actor_settings::pgconf(&config),
            maintenance: actor_settings::maintenance(&config),
            statements: actor_settings::statements(&config),
            log: log.clone(),
        });
        let state = AppState {
            actors: actors.clone(),
            host,
            key: config.temboard.key.clone(),
            plugins: config.temboard.plugins.clone(),
            console: config.console.enabled,
            os_user: os_user(),
            config_file: config.path.clone(),
        };
        let server = http::serve(state, tls.config, listener, server_limits(&config))
            .map_err(|e| format!("cannot serve on {listen}: {e}"))?;
        slog::info!(log, "temboard-agent started";
            "version" => env!("CARGO_PKG_VERSION"),
            "listen" => format!("https://{listen}"),
            "config" => %config.path.display(), "pid" => std::process::id());
        actix::spawn(stop_on_signals(server.handle(), log.clone()));
        actix::spawn(reload::on_sighup(
            config.clone(),
            log_handle.clone(),
            actors.sessions,
            actors.agent,
        ));
        let stopped = server.await;
        slog::info!(log, "temboard-agent stopped");
        stopped.map_err(|e| format!("HTTPS server: {e}"))
    });
    log_handle.flush();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_is_split_between_workers_never_above_the_total() {
        assert_eq!(workers_and_cap(512, 2), (2, 256));
        assert_eq!(workers_and_cap(5, 2), (2, 2));
        assert_eq!(workers_and_cap(1, 8), (1, 1));
        assert_eq!(workers_and_cap(3, 8), (3, 1));
        assert_eq!(workers_and_cap(100, 0), (1, 100));
    }

    #[test]
    fn the_open_files_limit_is_read_from_proc() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63457                63457                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(open_files_limit(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(open_files_limit(unlimited), Some(u64::MAX));
        assert_eq!(open_files_limit("nothing here"), None);
    }
}
