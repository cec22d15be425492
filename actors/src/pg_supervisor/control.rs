//! Control actions (start, stop, restart, reload): the `Control` message, what one
//! action does from request to outcome, and its audit trail. `PgSupervisor` lets one
//! action run at a time and keeps answering other messages while it runs; this file
//! holds no state of its own.
//!
//! An action runs the `[administration] pg_ctl` template (the action in place of
//! `%s`), then waits, within the same `control_timeout`, until PostgreSQL accepts
//! connections (start, restart), refuses them (stop) or has re-read its
//! configuration (reload). Without a template, reload falls back to
//! `pg_reload_conf()`; the other actions fail and say what to configure.

use std::time::Duration;

use actix::prelude::*;
use tokio::time::Instant;

use super::command::{self, describe_status, OUTPUT_TAIL_LINES};
use super::conf_reload::{self, Patience, Reloaded};
use super::readiness;
use super::{InstanceState, PgSettings, PgSupervisor};
use crate::error::Error;
use crate::notification_log::Notify;

/// The least time left to wait for the instance after a command that finished near
/// the end of `control_timeout`.
const MIN_WAIT: Duration = Duration::from_secs(5);
/// How long a reload may take to be in effect. The postmaster re-reads its files
/// within milliseconds of SIGHUP; when it does not, the files are invalid (it keeps
/// the previous settings and logs why) and waiting longer would not help. Each read
/// is a fresh connection, which may fail for a moment: tried again.
const RELOAD_PATIENCE: Patience = Patience {
    within: Duration::from_secs(10),
    poll_every: readiness::PROBE_INTERVAL,
    retry_failed_reads: true,
};

/// What the agent can do to the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Restart,
    Reload,
}

impl Action {
    /// The action named by the API's `action` field; None for anything else.
    pub fn parse(name: &str) -> Option<Action> {
        match name {
            "start" => Some(Action::Start),
            "stop" => Some(Action::Stop),
            "restart" => Some(Action::Restart),
            "reload" => Some(Action::Reload),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Restart => "restart",
            Action::Reload => "reload",
        }
    }

    /// The state shown while the action runs; None when it leaves the state alone.
    fn transition(self) -> Option<InstanceState> {
        match self {
            Action::Start => Some(InstanceState::Starting),
            // A restart shows `starting` once the instance is seen down.
            Action::Stop | Action::Restart => Some(InstanceState::Stopping),
            Action::Reload => None,
        }
    }

    /// The state once the action succeeded.
    fn outcome(self) -> Option<InstanceState> {
        match self {
            Action::Start | Action::Restart => Some(InstanceState::Up),
            Action::Stop => Some(InstanceState::Down),
            Action::Reload => None,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Run one control action for `username`; answers once it is done and its outcome
/// is in the notification log. Fails with `Conflict` while another action runs, with `Query`
/// (naming the action, the command's exit status and the end of its output) when
/// the action fails.
#[derive(Message)]
#[rtype(result = "Result<Action, Error>")]
pub struct Control {
    pub action: Action,
    pub username: String,
}

impl Handler<Control> for PgSupervisor {
    type Result = ResponseActFuture<Self, Result<Action, Error>>;

    fn handle(&mut self, msg: Control, _: &mut Self::Context) -> Self::Result {
        let action = msg.action;
        if let Some(running) = self.control {
            slog::warn!(self.log, "control action refused: another one is running";
                "action" => action.as_str(), "running" => running.as_str(),
                "user" => &msg.username);
            let err = Error::Conflict(format!(
                "PostgreSQL {running} is in progress; try again when it is done."
            ));
            return Box::pin(fut::ready(Err(err)));
        }
        self.control = Some(action);
        self.epoch += 1;
        // Without a command only reload can run: no state to announce.
        if let (Some(state), Some(_)) = (action.transition(), &self.settings.pg_ctl) {
            self.set_state(state, None);
        }
        let job = run(
            action,
            msg.username,
            self.audit.clone(),
            self.settings.clone(),
            self.log.clone(),
        );
        // Spawned, not awaited in the mailbox: state and discovery queries keep
        // being answered during a restart.
        Box::pin(job.into_actor(self).map(move |(result, seen), act, _| {
            act.control = None;
            act.epoch += 1;
            match (&result, action.outcome()) {
                (Ok(()), Some(state)) => act.set_state(state, None),
                _ => act.observe(act.epoch, seen.as_ref().copied().map_err(String::as_str)),
            }
            result.map(|()| action)
        }))
    }
}

/// Why an action failed: a one-line summary, and the end of the command's output.
struct Failure {
    summary: String,
    output: Vec<String>,
}

impl Failure {
    fn plain(summary: impl Into<String>) -> Failure {
        Failure {
            summary: summary.into(),
            output: Vec::new(),
        }
    }

    fn message(&self) -> String {
        if self.output.is_empty() {
            self.summary.clone()
        } else {
            format!(
                "{}. Last lines of its output:\n{}",
                self.summary,
                self.output.join("\n")
            )
        }
    }
}

/// One action from request to outcome, audit trail included. Also answers whether
/// the instance accepts connections once the action failed (or was a reload): the
/// state the action promised is then unknown.
async fn run(
    action: Action,
    username: String,
    audit: Recipient<Notify>,
    settings: PgSettings,
    log: slog::Logger,
) -> (Result<(), Error>, Result<(), String>) {
    slog::info!(log, "PostgreSQL {action} requested"; "user" => &username);
    notify(
        &audit,
        &username,
        format!("PostgreSQL {action} requested"),
        &log,
    )
    .await;
    let started = Instant::now();
    let result = perform(action, &settings, &log).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match &result {
        Ok(()) => {
            slog::info!(log, "PostgreSQL {action} done";
                "user" => &username, "elapsed_ms" => elapsed_ms);
            // 7.x writes "PostgreSQL <action>" once it is done.
            notify(&audit, &username, format!("PostgreSQL {action}"), &log).await;
        }
        Err(failure) if failure.output.is_empty() => {
            slog::error!(log, "PostgreSQL {action} failed";
                "user" => &username, "elapsed_ms" => elapsed_ms, "reason" => &failure.summary);
        }
        Err(failure) => {
            slog::error!(log, "PostgreSQL {action} failed";
                "user" => &username, "elapsed_ms" => elapsed_ms,
                "reason" => &failure.summary, "output" => failure.output.join("\n"));
        }
    }
    if let Err(failure) = &result {
        let message = format!("PostgreSQL {action} failed: {}", failure.summary);
        notify(&audit, &username, message, &log).await;
    }
    let seen = match (&result, action.outcome()) {
        (Ok(()), Some(_)) => Ok(()),
        _ => readiness::accepting(&settings).await,
    };
    let result =
        result.map_err(|f| Error::query(format!("PostgreSQL {action} failed"), f.message()));
    (result, seen)
}

/// Writes to the audit trail; a failure there is logged and does not change the
/// action's outcome (the action has happened).
async fn notify(audit: &Recipient<Notify>, username: &str, message: String, log: &slog::Logger) {
    let result = match audit.send(Notify::new(username, message.as_str())).await {
        Ok(result) => result,
        Err(err) => Err(Error::from(err)),
    };
    if let Err(err) = result {
        slog::error!(log, "cannot write the notification"; "message" => message, "error" => %err);
    }
}

async fn perform(action: Action, settings: &PgSettings, log: &slog::Logger) -> Result<(), Failure> {
    let deadline = Instant::now() + settings.control_timeout;
    let Some(template) = &settings.pg_ctl else {
        if action == Action::Reload {
            let request = async {
                readiness::reload_by_sql(settings)
                    .await
                    .map_err(Failure::plain)
            };
            return reload(settings, request).await;
        }
        return Err(Failure::plain(format!(
            "no control command is configured: set [administration] pg_ctl in the \
             agent's configuration (e.g. pg_ctl = pg_ctlcluster 15 main %s) to {action} PostgreSQL"
        )));
    };
    let argv = command::command_line(template, action.as_str())
        .map_err(|e| Failure::plain(format!("[administration] pg_ctl: {e}")))?;
    if action == Action::Reload {
        return reload(settings, run_command(&argv, settings, log)).await;
    }
    run_command(&argv, settings, log).await?;
    wait_after(action, settings, deadline).await
}

/// Runs the control command; fails with its exit status and the end of its output.
async fn run_command(
    argv: &[String],
    settings: &PgSettings,
    log: &slog::Logger,
) -> Result<(), Failure> {
    slog::info!(log, "running the control command"; "command" => argv.join(" "));
    let outcome = command::run(argv, settings.control_timeout)
        .await
        .map_err(Failure::plain)?;
    let output = outcome.tail(OUTPUT_TAIL_LINES);
    if !outcome.success() {
        let summary = match &outcome.status {
            Some(status) => format!("{} ended with {}", argv[0], describe_status(status)),
            None => format!(
                "{} did not finish within {} s (control_timeout) and was killed",
                argv[0],
                settings.control_timeout.as_secs()
            ),
        };
        return Err(Failure { summary, output });
    }
    slog::debug!(log, "the control command succeeded"; "output" => output.join("\n"));
    Ok(())
}

/// Reads the load time on fresh connections around `request` (the command or
/// `pg_reload_conf()`), until the postmaster's has moved.
async fn reload(
    settings: &PgSettings,
    request: impl std::future::Future<Output = Result<(), Failure>>,
) -> Result<(), Failure> {
    let read = || readiness::conf_load_time(settings);
    match conf_reload::reload_and_wait(read, request, RELOAD_PATIENCE).await? {
        Reloaded::InEffect => Ok(()),
        // Without a load time from before, there is nothing to compare with.
        Reloaded::Unknown(_) => Ok(()),
        Reloaded::NotSeen(Some(why)) => {
            Err(Failure::plain(format!("PostgreSQL did not reload: {why}")))
        }
        Reloaded::NotSeen(None) => Err(Failure::plain(
            "PostgreSQL did not reload: its configuration load time did not change; are the \
             configuration files valid? (the server log says)",
        )),
    }
}

/// Waits for the instance to be in the state the action promises.
async fn wait_after(
    action: Action,
    settings: &PgSettings,
    deadline: Instant,
) -> Result<(), Failure> {
    let deadline = deadline.max(Instant::now() + MIN_WAIT);
    // A reload waits in `reload`; start and restart wait for connections.
    let waited = match action {
        Action::Stop => readiness::wait_refusing(settings, deadline).await,
        _ => readiness::wait_accepting(settings, deadline).await,
    };
    waited.map_err(Failure::plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_actions_parse() {
        for name in ["start", "stop", "restart", "reload"] {
            assert_eq!(Action::parse(name).unwrap().as_str(), name);
        }
        for name in ["", "Start", "status", "promote", "start ", "restart;"] {
            assert_eq!(Action::parse(name), None, "{name:?}");
        }
    }

    #[test]
    fn failure_message_quotes_the_output() {
        let failure = Failure {
            summary: "pg_ctl ended with exit status 1".to_string(),
            output: vec!["a".to_string(), "b".to_string()],
        };
        assert_eq!(
            failure.message(),
            "pg_ctl ended with exit status 1. Last lines of its output:\na\nb"
        );
        assert_eq!(Failure::plain("x").message(), "x");
    }
}
