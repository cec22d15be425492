//! SettingsEditor: the actor that reads the instance's settings and changes them with
//! `ALTER SYSTEM`. Changes are atomic in the actor (one at a time, reads wait for
//! them), so that undoing a half-applied request never races another one.
//!
//! A change request is all or none: every item is checked before anything is
//! written (known name, value parsed as PostgreSQL would, and, for the settings a
//! session may set, checked by PostgreSQL itself); then each item is written; if
//! PostgreSQL refuses one midway, the items already written get back their previous
//! line of postgresql.auto.conf (or none) and the answer says so. The configuration
//! is then reloaded and each change goes to the notification log with the user's
//! name. This actor must not build SQL itself: statements come from `quote`.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use actix::prelude::*;
use serde::Serialize;

use super::catalog::{self, by_category, Category, Setting, SettingRow};
use super::{quote, secret, value};
use crate::error::Error;
use crate::notification_log::{NotificationLog, Notify};
use crate::pg_access::PgAccess;

/// How long a change waits for the reload to reach its own session.
const RELOAD_PATIENCE: Duration = Duration::from_secs(5);

pub struct SettingsEditor {
    pg: PgAccess,
    notifications: Addr<NotificationLog>,
    log: slog::Logger,
}

impl SettingsEditor {
    pub fn new(
        pg: PgAccess,
        notifications: Addr<NotificationLog>,
        log: slog::Logger,
    ) -> SettingsEditor {
        SettingsEditor {
            pg,
            notifications,
            log,
        }
    }
}

impl Actor for SettingsEditor {
    type Context = Context<Self>;
}

/// The settings grouped by category, optionally of one category only, optionally
/// only those whose name or description contains `filter`.
#[derive(Message)]
#[rtype(result = "Result<Vec<Category>, Error>")]
pub struct GetSettings {
    pub category: Option<String>,
    pub filter: Option<String>,
}

/// The names of the categories (of the settings that match `filter`).
#[derive(Message)]
#[rtype(result = "Result<Vec<String>, Error>")]
pub struct GetCategories {
    pub filter: Option<String>,
}

/// The settings waiting for a restart of the server.
#[derive(Message)]
#[rtype(result = "Result<RestartStatus, Error>")]
pub struct GetRestartStatus;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestartStatus {
    pub restart_changes: Vec<SettingRow>,
    pub restart_pending: bool,
}

/// One value to write, as it would be written in postgresql.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewValue {
    pub name: String,
    pub setting: String,
}

/// Write these values with ALTER SYSTEM, all or none, then reload.
#[derive(Message)]
#[rtype(result = "Result<Vec<Change>, Error>")]
pub struct ChangeSettings {
    pub username: String,
    pub items: Vec<NewValue>,
}

/// Remove a setting from postgresql.auto.conf (ALTER SYSTEM RESET), then reload.
#[derive(Message)]
#[rtype(result = "Result<Change, Error>")]
pub struct ResetSetting {
    pub username: String,
    pub name: String,
}

/// What a change did (spec: the reply of POST /pgconf/configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub setting: String,
    pub restart: bool,
    pub name: String,
    pub previous_setting: String,
}

impl Handler<GetSettings> for SettingsEditor {
    type Result = ResponseFuture<Result<Vec<Category>, Error>>;

    fn handle(&mut self, msg: GetSettings, _: &mut Self::Context) -> Self::Result {
        let pg = self.pg.clone();
        Box::pin(async move {
            let all = catalog::settings(&*pg.conn().await?).await?;
            if let Some(category) = &msg.category {
                if !all.iter().any(|s| &s.category == category) {
                    return Err(Error::NotFound(format!("Category '{category}' not found.")));
                }
            }
            let wanted = |s: &&Setting| {
                msg.category.as_ref().is_none_or(|c| &s.category == c)
                    && msg.filter.as_deref().is_none_or(|f| s.matches(f))
            };
            Ok(by_category(all.iter().filter(wanted)))
        })
    }
}

impl Handler<GetCategories> for SettingsEditor {
    type Result = ResponseFuture<Result<Vec<String>, Error>>;

    fn handle(&mut self, msg: GetCategories, _: &mut Self::Context) -> Self::Result {
        let pg = self.pg.clone();
        Box::pin(async move {
            let all = catalog::settings(&*pg.conn().await?).await?;
            let mut categories: Vec<String> = Vec::new();
            for s in &all {
                let matches = msg.filter.as_deref().is_none_or(|f| s.matches(f));
                if matches && categories.last() != Some(&s.category) {
                    categories.push(s.category.clone());
                }
            }
            Ok(categories)
        })
    }
}

impl Handler<GetRestartStatus> for SettingsEditor {
    type Result = ResponseFuture<Result<RestartStatus, Error>>;

    fn handle(&mut self, _: GetRestartStatus, _: &mut Self::Context) -> Self::Result {
        let pg = self.pg.clone();
        Box::pin(async move {
            let all = catalog::settings(&*pg.conn().await?).await?;
            let restart_changes: Vec<SettingRow> = all
                .iter()
                .filter(|s| s.pending_restart)
                .map(Setting::row)
                .collect();
            Ok(RestartStatus {
                restart_pending: !restart_changes.is_empty(),
                restart_changes,
            })
        })
    }
}

impl Handler<ChangeSettings> for SettingsEditor {
    type Result = AtomicResponse<Self, Result<Vec<Change>, Error>>;

    fn handle(&mut self, msg: ChangeSettings, _: &mut Self::Context) -> Self::Result {
        let (pg, log) = (self.pg.clone(), self.log.clone());
        let secret = msg.items.iter().any(|i| secret::is_secret(&i.name));
        let items = msg.items;
        let work = async move { change(&pg, &items, &log).await };
        self.audited(msg.username, secret, work, |changes: &Vec<Change>| {
            changes.iter().map(|c| c.message("changed")).collect()
        })
    }
}

impl Handler<ResetSetting> for SettingsEditor {
    type Result = AtomicResponse<Self, Result<Change, Error>>;

    fn handle(&mut self, msg: ResetSetting, _: &mut Self::Context) -> Self::Result {
        let (pg, log) = (self.pg.clone(), self.log.clone());
        let secret = secret::is_secret(&msg.name);
        let name = msg.name;
        let work = async move { reset(&pg, &name, &log).await };
        self.audited(msg.username, secret, work, |c: &Change| {
            vec![c.message("reset (removed from postgresql.auto.conf)")]
        })
    }
}

impl SettingsEditor {
    /// Runs a change request for `username`, one at a time in the actor; a refusal is
    /// logged (its reason withheld when `secret`), what was done goes to the audit
    /// trail, one message each.
    fn audited<T: 'static>(
        &self,
        username: String,
        secret: bool,
        work: impl Future<Output = Result<T, Error>> + 'static,
        messages: impl FnOnce(&T) -> Vec<String> + 'static,
    ) -> AtomicResponse<Self, Result<T, Error>> {
        let (notifications, log) = (self.notifications.clone(), self.log.clone());
        AtomicResponse::new(Box::pin(
            async move {
                let done = work
                    .await
                    .inspect_err(|err| refused(&log, &username, err, secret))?;
                for message in messages(&done) {
                    notify(&notifications, &log, &username, message).await;
                }
                Ok(done)
            }
            .into_actor(self),
        ))
    }
}

impl Change {
    /// The audit trail's line: "Setting <name> <what> from '<previous>' to '<new>'",
    /// secrets masked, and whether a restart is needed.
    fn message(&self, what: &str) -> String {
        let restart = if self.restart {
            " (restart needed)"
        } else {
            ""
        };
        format!(
            "Setting {} {what} from '{}' to '{}'{restart}",
            self.name,
            secret::shown(&self.name, &self.previous_setting),
            secret::shown(&self.name, &self.setting)
        )
    }
}

/// Logs a change request that failed, for the DBA to see what was tried. PostgreSQL's
/// reason may quote the value: withheld when a secret setting was among the items.
fn refused(log: &slog::Logger, username: &str, err: &Error, secret: bool) {
    if secret {
        slog::info!(log, "configuration change failed"; "user" => username,
            "reason" => "withheld: a secret setting was among the changes");
    } else {
        slog::info!(log, "configuration change failed"; "user" => username, "reason" => %err);
    }
}

/// Records a change in the audit trail. The change is made by then: a failing store
/// is logged, it does not turn a done change into an error.
async fn notify(
    notifications: &Addr<NotificationLog>,
    log: &slog::Logger,
    username: &str,
    message: String,
) {
    slog::info!(log, "{message}"; "user" => username);
    let sent = notifications.send(Notify::new(username, message)).await;
    if let Err(err) = sent.map_err(Error::from).and_then(|r| r) {
        slog::error!(log, "cannot record a configuration change in the notification log";
            "error" => %err);
    }
}

/// An item checked and ready to write.
struct Planned<'a> {
    setting: &'a Setting,
    value: String,
    statement: String,
}

/// Checks every item against pg_settings (and PostgreSQL where it can), before
/// anything is written.
async fn plan<'a>(
    conn: &tokio_postgres::Client,
    all: &'a HashMap<String, &'a Setting>,
    items: &[NewValue],
) -> Result<Vec<Planned<'a>>, Error> {
    let mut planned: Vec<Planned> = Vec::with_capacity(items.len());
    for item in items {
        let setting = *all
            .get(&item.name.to_lowercase())
            .ok_or_else(|| Error::Invalid(format!("Unknown setting '{}'.", item.name)))?;
        if planned.iter().any(|p| p.setting.name == setting.name) {
            return Err(Error::Invalid(format!(
                "Setting '{}' is given more than once.",
                setting.name
            )));
        }
        if setting.context == "internal" {
            return Err(Error::Invalid(format!(
                "parameter \"{}\" cannot be changed",
                setting.name
            )));
        }
        value::check(&setting.definition(), &item.setting).map_err(Error::Invalid)?;
        let statement =
            quote::alter_system_set(&setting.name, &item.setting).map_err(Error::Invalid)?;
        planned.push(Planned {
            setting,
            value: item.setting.clone(),
            statement,
        });
    }
    for p in &planned {
        if p.setting.session_settable() {
            catalog::check_value(conn, &p.setting.name, &p.value).await?;
        }
    }
    Ok(planned)
}

async fn change(
    pg: &PgAccess,
    items: &[NewValue],
    log: &slog::Logger,
) -> Result<Vec<Change>, Error> {
    let conn = pg.conn().await?;
    let settings = catalog::settings(&conn).await?;
    let by_name: HashMap<String, &Setting> = settings
        .iter()
        .map(|s| (s.name.to_lowercase(), s))
        .collect();
    let planned = plan(&conn, &by_name, items).await?;
    let before = catalog::auto_conf(&conn).await?;
    let mut written: Vec<&Setting> = Vec::new();
    for p in &planned {
        if let Err(err) = catalog::alter_system(&conn, &p.setting.name, &p.statement).await {
            let undone = undo(&conn, &written, &before).await;
            return Err(explain_failure(log, err, &written, undone));
        }
        written.push(p.setting);
    }
    reload(&conn, log).await?;
    Ok(planned
        .iter()
        .map(|p| Change {
            setting: p.value.clone(),
            restart: p.setting.needs_restart(),
            name: p.setting.name.clone(),
            previous_setting: p.setting.shown.clone(),
        })
        .collect())
}

/// Gives the settings written so far their previous line of postgresql.auto.conf.
async fn undo(
    conn: &tokio_postgres::Client,
    written: &[&Setting],
    before: &HashMap<String, String>,
) -> Result<(), Error> {
    for s in written.iter().rev() {
        let statement = match before.get(&s.name.to_lowercase()) {
            Some(previous) => quote::alter_system_set(&s.name, previous).map_err(Error::Invalid)?,
            None => quote::alter_system_reset(&s.name),
        };
        catalog::alter_system(conn, &s.name, &statement).await?;
    }
    Ok(())
}

/// The error of a request that failed midway, saying what became of the settings
/// written before the failure.
fn explain_failure(
    log: &slog::Logger,
    err: Error,
    written: &[&Setting],
    undone: Result<(), Error>,
) -> Error {
    let names: Vec<&str> = written.iter().map(|s| s.name.as_str()).collect();
    match undone {
        Ok(()) if names.is_empty() => with_suffix(err, " Nothing was changed."),
        Ok(()) => {
            slog::warn!(log, "ALTER SYSTEM failed midway; the settings already written were restored";
                "error" => %err, "restored" => names.join(", "));
            let restored = format!(
                " Nothing was changed: the settings already written ({}) were restored.",
                names.join(", ")
            );
            with_suffix(err, &restored)
        }
        Err(undo_err) => {
            slog::error!(log, "ALTER SYSTEM failed midway and the settings already written could not be restored; check postgresql.auto.conf";
                "error" => %err, "written" => names.join(", "), "undo_error" => %undo_err);
            Error::query(
                "ALTER SYSTEM",
                format!(
                    "{err}. The settings already written ({}) could not all be restored \
                     ({undo_err}): check postgresql.auto.conf.",
                    names.join(", ")
                ),
            )
        }
    }
}

/// Appends to the message of an error.
fn with_suffix(err: Error, suffix: &str) -> Error {
    match err {
        Error::Invalid(message) => Error::Invalid(message + suffix),
        Error::Query { context, message } => Error::Query {
            context,
            message: message + suffix,
        },
        other => other,
    }
}

async fn reload(conn: &tokio_postgres::Client, log: &slog::Logger) -> Result<(), Error> {
    if !catalog::reload(conn, RELOAD_PATIENCE).await? {
        slog::warn!(log, "the configuration reload was asked for but not seen within the delay";
            "delay_s" => RELOAD_PATIENCE.as_secs());
    }
    Ok(())
}

async fn reset(pg: &PgAccess, name: &str, log: &slog::Logger) -> Result<Change, Error> {
    let conn = pg.conn().await?;
    let settings = catalog::settings(&conn).await?;
    let setting = settings
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| Error::NotFound(format!("Unknown setting '{name}'.")))?;
    if setting.context == "internal" {
        return Err(Error::Invalid(format!(
            "parameter \"{}\" cannot be changed",
            setting.name
        )));
    }
    let statement = quote::alter_system_reset(&setting.name);
    catalog::alter_system(&conn, &setting.name, &statement).await?;
    reload(&conn, log).await?;
    let now = catalog::settings(&conn).await?;
    let after = now.iter().find(|s| s.name == setting.name);
    Ok(Change {
        setting: after.map(Setting::configured).unwrap_or_default(),
        restart: setting.needs_restart(),
        name: setting.name.clone(),
        previous_setting: setting.shown.clone(),
    })
}
