//! SIGHUP: read the configuration and the users file again and apply what can change
//! while running (users and session settings, logging level; the log file is opened
//! again at its path, for logrotate), then record the reload
//! time. A configuration or users file that no longer loads is logged and the previous
//! one stays in force: a typo must not take the agent down. Changed settings that only
//! a restart applies are named in a warning, so that nobody believes they took effect.

use actix::Addr;
use tokio::signal::unix::{signal, SignalKind};

use actors::agent_status::{AgentStatus, Reloaded};
use actors::session_registry::{ReplaceUsers, SessionRegistry};
use actors::users::Users;

use crate::config::actor_settings;
use crate::config::Config;
use crate::logging::LogHandle;

/// The settings that differ between `old` and `new` but are read only at start-up.
pub fn restart_needed(old: &Config, new: &Config) -> Vec<&'static str> {
    let (a, b) = (&old.temboard, &new.temboard);
    let checks = [
        ("[temboard] port", a.port != b.port),
        ("[temboard] address", a.address != b.address),
        ("[temboard] plugins", a.plugins != b.plugins),
        (
            "[temboard] ssl_cert_file",
            a.ssl_cert_file != b.ssl_cert_file,
        ),
        ("[temboard] ssl_key_file", a.ssl_key_file != b.ssl_key_file),
        (
            "[temboard] ssl_ca_cert_file",
            a.ssl_ca_cert_file != b.ssl_ca_cert_file,
        ),
        ("[temboard] hostname", a.hostname != b.hostname),
        ("[temboard] key", a.key != b.key),
        ("[temboard] home", a.home != b.home),
        (
            "[temboard] notifications_max",
            a.notifications_max != b.notifications_max,
        ),
        (
            "[temboard] notifications_max_refusals",
            a.notifications_max_refusals != b.notifications_max_refusals,
        ),
        (
            "[temboard] max_connections, body_timeout or request_timeout",
            (a.max_connections, a.body_timeout, a.request_timeout)
                != (b.max_connections, b.body_timeout, b.request_timeout),
        ),
        ("[postgresql]", old.postgresql != new.postgresql),
        ("[dashboard]", old.dashboard != new.dashboard),
        ("[monitoring]", old.monitoring != new.monitoring),
        ("[administration]", old.administration != new.administration),
        ("[maintenance]", old.maintenance != new.maintenance),
        ("[console]", old.console != new.console),
        ("[statements]", old.statements != new.statements),
        ("[logging] method, facility or destination", {
            let (x, y) = (&old.logging, &new.logging);
            x.method != y.method || x.facility != y.facility || x.destination != y.destination
        }),
    ];
    checks
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| name)
        .collect()
}

pub async fn on_sighup(
    mut current: Config,
    log_handle: LogHandle,
    sessions: Addr<SessionRegistry>,
    agent: Addr<AgentStatus>,
) {
    let log = log_handle.logger();
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(err) => {
            slog::error!(log, "cannot listen for SIGHUP: reload is disabled"; "error" => %err);
            return;
        }
    };
    while hangups.recv().await.is_some() {
        // First, so that this reload's own lines land in the new file after logrotate.
        if let Err(err) = log_handle.reopen() {
            slog::error!(log, "cannot reopen the log file, still writing to the previous one"; "error" => %err);
        }
        let config_path = current.path.clone();
        slog::info!(log, "SIGHUP received: reloading the configuration"; "file" => %config_path.display());
        let config = match Config::load(&config_path) {
            Ok(c) => c,
            Err(err) => {
                slog::error!(log, "reload failed, the previous configuration stays in force"; "error" => %err);
                continue;
            }
        };
        let users = match Users::load(&config.temboard.users) {
            Ok(u) => u,
            Err(err) => {
                slog::error!(log, "reload failed, the previous users stay in force"; "error" => %err);
                continue;
            }
        };
        for warning in &config.warnings {
            slog::warn!(log, "{warning}");
        }
        log_handle.set_level(config.logging.level);
        let replaced = sessions
            .send(ReplaceUsers {
                users,
                settings: actor_settings::sessions(&config),
            })
            .await;
        if let Err(err) = replaced.and(agent.send(Reloaded).await) {
            slog::error!(log, "reload not applied"; "error" => %err);
            continue;
        }
        let pending = restart_needed(&current, &config);
        if !pending.is_empty() {
            slog::warn!(log, "changed settings take effect at the next restart only";
                "settings" => pending.join(", "));
        }
        current = config;
        slog::info!(log, "configuration reloaded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::defaults_for(std::path::Path::new("/etc/temboard-agent/agent.conf"))
    }

    #[test]
    fn reloadable_changes_need_no_restart() {
        let old = config();
        let mut new = config();
        new.temboard.session_timeout = 10;
        new.logging.level = crate::config::LogLevel::Debug;
        assert!(restart_needed(&old, &new).is_empty());
    }

    #[test]
    fn start_up_settings_are_named() {
        let old = config();
        let mut new = config();
        new.temboard.port = 9999;
        new.postgresql.port = 5433;
        assert_eq!(
            restart_needed(&old, &new),
            ["[temboard] port", "[postgresql]"]
        );
    }
}
