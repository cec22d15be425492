//! What pgconf reads from and runs on PostgreSQL: the settings of `pg_settings` with
//! the values written in the configuration files, the lines of postgresql.auto.conf,
//! the value check through `set_config` (local to its own statement), `ALTER
//! SYSTEM`, and the reload. Each function takes the connection it runs on; the
//! `SettingsEditor` actor decides the order. The JSON shape of a setting row lives here too.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Row};

use super::value::Definition;
use crate::error::Error;
use crate::pg_row::Column;
use crate::pg_supervisor::conf_reload::{self, Patience, Reloaded, SqlFailure};
use crate::pg_supervisor::describe_pg_error;

/// One row of `pg_settings`, with what the API adds.
#[derive(Debug, Clone)]
pub struct Setting {
    pub category: String,
    pub name: String,
    pub setting: Option<String>,
    /// `current_setting(name)`: the value in force with its unit ("128MB").
    pub shown: String,
    pub unit: Option<String>,
    pub vartype: String,
    pub min_val: Option<String>,
    pub max_val: Option<String>,
    pub enumvals: Option<Vec<String>>,
    pub context: String,
    pub description: String,
    pub boot_val: Option<String>,
    pub reset_val: Option<String>,
    pub pending_restart: bool,
    /// The value as written in postgresql.conf or postgresql.auto.conf.
    pub file_setting: Option<String>,
}

/// A setting as the API shows it (spec: PgConf plugin API). Numbers of integer and
/// real settings are JSON numbers, everything else text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingRow {
    pub context: String,
    pub enumvals: Option<Vec<String>>,
    pub max_val: Value,
    pub min_val: Value,
    pub vartype: String,
    pub boot_val: Value,
    pub reset_val: Value,
    pub unit: Option<String>,
    pub desc: String,
    pub name: String,
    pub setting: Value,
    pub setting_raw: String,
    pub pending_restart: bool,
}

/// The settings of one category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Category {
    pub category: String,
    pub rows: Vec<SettingRow>,
}

impl Setting {
    fn from_row(row: &Row) -> Result<Setting, Error> {
        Ok(Setting {
            category: row.col("category")?,
            name: row.col("name")?,
            setting: row.col("setting")?,
            shown: row.col::<_, Option<String>>("shown")?.unwrap_or_default(),
            unit: row.col("unit")?,
            vartype: row.col("vartype")?,
            min_val: row.col("min_val")?,
            max_val: row.col("max_val")?,
            enumvals: row.col("enumvals")?,
            context: row.col("context")?,
            description: row.col("description")?,
            boot_val: row.col("boot_val")?,
            reset_val: row.col("reset_val")?,
            pending_restart: row.col("pending_restart")?,
            file_setting: row.col("file_setting")?,
        })
    }

    pub fn definition(&self) -> Definition {
        Definition {
            name: self.name.clone(),
            vartype: self.vartype.clone(),
            unit: self.unit.clone(),
            min_val: self.min_val.clone(),
            max_val: self.max_val.clone(),
            enumvals: self.enumvals.clone(),
        }
    }

    /// Whether a change takes effect only at the next start of the server.
    pub fn needs_restart(&self) -> bool {
        self.context == "postmaster"
    }

    /// Whether a session may set it, so that `set_config` can check a value.
    pub fn session_settable(&self) -> bool {
        matches!(self.context.as_str(), "user" | "superuser")
    }

    /// Case-insensitive substring of the name or the description.
    pub fn matches(&self, filter: &str) -> bool {
        let filter = filter.to_lowercase();
        self.name.to_lowercase().contains(&filter)
            || self.description.to_lowercase().contains(&filter)
    }

    fn typed(&self, value: &Option<String>) -> Value {
        let Some(text) = value else {
            return Value::Null;
        };
        let number = match self.vartype.as_str() {
            "integer" => text.trim().parse::<i64>().ok().map(Value::from),
            "real" => text
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
            _ => None,
        };
        number.unwrap_or_else(|| Value::String(text.clone()))
    }

    /// The value the configuration gives: the one in force, or for a setting
    /// waiting for a restart, the one written in the files (else the built-in one).
    pub fn configured(&self) -> String {
        if !self.pending_restart {
            return self.shown.clone();
        }
        self.file_setting
            .clone()
            .or_else(|| self.boot_val.clone())
            .unwrap_or_default()
    }

    pub fn row(&self) -> SettingRow {
        SettingRow {
            context: self.context.clone(),
            enumvals: self.enumvals.clone(),
            max_val: self.typed(&self.max_val),
            min_val: self.typed(&self.min_val),
            vartype: self.vartype.clone(),
            boot_val: self.typed(&self.boot_val),
            reset_val: self.typed(&self.reset_val),
            unit: self.unit.clone(),
            desc: self.description.clone(),
            name: self.name.clone(),
            setting: self.typed(&self.setting),
            setting_raw: self
                .file_setting
                .clone()
                .unwrap_or_else(|| self.shown.clone()),
            pending_restart: self.pending_restart,
        }
    }
}

/// Groups settings (sorted by category) into the API's categories.
pub fn by_category<'a>(settings: impl IntoIterator<Item = &'a Setting>) -> Vec<Category> {
    let mut groups: Vec<Category> = Vec::new();
    for s in settings {
        match groups.last_mut() {
            Some(group) if group.category == s.category => group.rows.push(s.row()),
            _ => groups.push(Category {
                category: s.category.clone(),
                rows: vec![s.row()],
            }),
        }
    }
    groups
}

fn query_error(context: &str, err: &tokio_postgres::Error) -> Error {
    if err.as_db_error().is_none() && err.is_closed() {
        return Error::PgUnreachable(describe_pg_error(err));
    }
    Error::query(context, describe_pg_error(err))
}

/// Every setting, sorted by category and name.
pub async fn settings(client: &Client) -> Result<Vec<Setting>, Error> {
    // One select list, after the lines of the files or, without the right to read
    // them, after none.
    const WITH_FILES: &str = concat!(
        include_str!("../../sql/pgconf/file_settings.sql"),
        include_str!("../../sql/pgconf/settings.sql"),
    );
    const WITHOUT_FILES: &str = concat!(
        include_str!("../../sql/pgconf/no_file_settings.sql"),
        include_str!("../../sql/pgconf/settings.sql"),
    );
    let rows = match client.query(WITH_FILES, &[]).await {
        Ok(rows) => rows,
        // Not allowed to read pg_file_settings: go without the values as written.
        Err(err) if err.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => client
            .query(WITHOUT_FILES, &[])
            .await
            .map_err(|e| query_error("read pg_settings", &e))?,
        Err(err) => return Err(query_error("read pg_settings and pg_file_settings", &err)),
    };
    rows.iter().map(Setting::from_row).collect()
}

/// The values postgresql.auto.conf holds now, by lower-case name.
pub async fn auto_conf(client: &Client) -> Result<HashMap<String, String>, Error> {
    let rows = client
        .query(include_str!("../../sql/pgconf/auto_conf.sql"), &[])
        .await
        .map_err(|e| query_error("read postgresql.auto.conf (pg_file_settings)", &e))?;
    // The last line of a name is the one in force.
    rows.iter()
        .map(|r| Ok((r.col::<_, String>("name")?, r.col::<_, String>("setting")?)))
        .collect()
}

/// Whether the error is the client's (a value or a setting PostgreSQL refuses)
/// rather than the server's or the agent's.
fn refused_value(err: &tokio_postgres::Error) -> bool {
    let Some(code) = err.code() else {
        return false;
    };
    [
        SqlState::INVALID_PARAMETER_VALUE,
        SqlState::CANT_CHANGE_RUNTIME_PARAM,
        SqlState::UNDEFINED_OBJECT,
        SqlState::INVALID_TEXT_REPRESENTATION,
        SqlState::DATA_EXCEPTION,
        SqlState::FEATURE_NOT_SUPPORTED,
    ]
    .contains(code)
}

/// Asks PostgreSQL to parse and check a value of a session-settable setting,
/// without keeping it: `set_config(..., is_local => true)` alone in its implicit
/// transaction, which reverts it at once. (An explicit BEGIN .. ROLLBACK would leave
/// the session idle in a transaction, which a value such as
/// `idle_in_transaction_session_timeout = 1` could end.)
pub async fn check_value(client: &Client, name: &str, value: &str) -> Result<(), Error> {
    let checked = client
        .query_one(
            include_str!("../../sql/pgconf/check_value.sql"),
            &[&name, &value],
        )
        .await;
    match checked {
        Ok(_) => Ok(()),
        // The statement is trivial: what fails in it is the value, unless the role
        // may not set the setting at all.
        Err(err)
            if err.as_db_error().is_some()
                && err.code() != Some(&SqlState::INSUFFICIENT_PRIVILEGE) =>
        {
            Err(Error::Invalid(describe_pg_error(&err)))
        }
        Err(err) => Err(query_error(&format!("check the value of {name}"), &err)),
    }
}

/// Runs one `ALTER SYSTEM` statement (it cannot run in a transaction block: the
/// simple query protocol sends it alone).
pub async fn alter_system(client: &Client, name: &str, statement: &str) -> Result<(), Error> {
    client.batch_execute(statement).await.map_err(|err| {
        if refused_value(&err) {
            Error::Invalid(describe_pg_error(&err))
        } else {
            query_error(&format!("ALTER SYSTEM for {name}"), &err)
        }
    })
}

/// Reloads the configuration and waits until this session has read it again: the
/// postmaster signals the sessions only after its own reload, so new sessions and
/// this one then see the new values. Answers false if that took longer than
/// `patience` (the reload itself was asked for).
pub async fn reload(client: &Client, patience: Duration) -> Result<bool, Error> {
    // Each statement lets the session process the pending reload signal; a failed
    // read on this session will not recover, so it ends the wait.
    let patience = Patience {
        within: patience,
        poll_every: Duration::from_millis(10),
        retry_failed_reads: false,
    };
    let read = || async {
        conf_reload::load_time(client)
            .await
            .map_err(|e| sql_error("read pg_conf_load_time()", e))
    };
    let request = async {
        conf_reload::signal(client)
            .await
            .map(|_| ())
            .map_err(|e| sql_error("pg_reload_conf()", e))
    };
    match conf_reload::reload_and_wait(read, request, patience).await? {
        Reloaded::InEffect => Ok(true),
        Reloaded::NotSeen(None) => Ok(false),
        Reloaded::Unknown(err) | Reloaded::NotSeen(Some(err)) => Err(err),
    }
}

fn sql_error(context: &str, failure: SqlFailure) -> Error {
    match failure {
        SqlFailure::Pg(err) => query_error(context, &err),
        SqlFailure::Answer(err) => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn setting(vartype: &str, setting: &str) -> Setting {
        Setting {
            category: "Resource Usage / Memory".into(),
            name: "shared_buffers".into(),
            setting: Some(setting.into()),
            shown: "128MB".into(),
            unit: Some("8kB".into()),
            vartype: vartype.into(),
            min_val: Some("16".into()),
            max_val: Some("1073741823".into()),
            enumvals: None,
            context: "postmaster".into(),
            description: "Sets the number of shared memory buffers used by the server.".into(),
            boot_val: Some("1024".into()),
            reset_val: Some("16384".into()),
            pending_restart: false,
            file_setting: None,
        }
    }

    #[test]
    fn integer_rows_carry_numbers_as_in_the_spec() {
        let row = serde_json::to_value(setting("integer", "16384").row()).unwrap();
        assert_eq!(
            row,
            json!({
                "context": "postmaster", "enumvals": null, "max_val": 1073741823,
                "vartype": "integer", "boot_val": 1024, "reset_val": 16384, "unit": "8kB",
                "desc": "Sets the number of shared memory buffers used by the server.",
                "name": "shared_buffers", "min_val": 16, "setting": 16384,
                "setting_raw": "128MB", "pending_restart": false
            })
        );
    }

    #[test]
    fn reals_are_numbers_and_text_stays_text() {
        let mut s = setting("real", "0.9");
        s.min_val = Some("0".into());
        s.max_val = Some("1".into());
        let row = s.row();
        assert_eq!(row.setting, json!(0.9));
        assert_eq!(row.max_val, json!(1.0));
        let mut b = setting("bool", "on");
        b.min_val = None;
        b.max_val = None;
        b.boot_val = Some("on".into());
        b.file_setting = Some("yes".into());
        let row = b.row();
        assert_eq!(row.setting, json!("on"));
        assert_eq!(row.min_val, Value::Null);
        assert_eq!(row.setting_raw, "yes");
    }

    #[test]
    fn grouping_keeps_order() {
        let mut a = setting("integer", "1");
        a.category = "A".into();
        let mut b = a.clone();
        b.name = "other".into();
        let mut c = a.clone();
        c.category = "B".into();
        let groups = by_category([&a, &b, &c]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].rows.len(), 2);
        assert_eq!(groups[1].category, "B");
    }

    #[test]
    fn filter_on_name_or_description() {
        let s = setting("integer", "1");
        assert!(s.matches("SHARED"));
        assert!(s.matches("memory buffers"));
        assert!(!s.matches("autovacuum"));
    }
}
