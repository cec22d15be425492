//! SIGHUP: read the configuration and the users file again and apply what can change
//! while running (users and session settings, logging level), then record the reload
//! time. A configuration or users file that no longer loads is logged and the previous
//! one stays in force: a typo must not take the agent down.

use std::path::PathBuf;

use actix::Addr;
use tokio::signal::unix::{signal, SignalKind};

use actors::agent_status::{AgentStatus, Reloaded};
use actors::session_registry::{ReplaceUsers, SessionRegistry};
use actors::users::Users;

use crate::config::Config;
use crate::logging::LogHandle;
use crate::serve::session_settings;

pub async fn on_sighup(
    config_path: PathBuf,
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
                settings: session_settings(&config),
            })
            .await;
        if let Err(err) = replaced.and(agent.send(Reloaded).await) {
            slog::error!(log, "reload not applied"; "error" => %err);
            continue;
        }
        slog::info!(log, "configuration reloaded");
    }
}
