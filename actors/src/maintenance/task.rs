//! A maintenance task: which operation (VACUUM, ANALYZE, REINDEX) on which object,
//! when (once at a UTC time, or at each occurrence of a cron schedule), and where it
//! stands (`todo`, `doing`, `done`, `failed`, `canceled`). Also the parsing of what a
//! request gives (mode, datetime, id) and the JSON row of the scheduled lists. Pure
//! data and functions: the scheduler owns the tasks, the store keeps them.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::sql_quote::{quote_ident, quote_qualified};

/// How datetimes are written in requests, answers and the store.
pub const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Vacuum,
    Analyze,
    Reindex,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Vacuum => "vacuum",
            Operation::Analyze => "analyze",
            Operation::Reindex => "reindex",
        }
    }

    pub fn parse(text: &str) -> Option<Operation> {
        match text {
            "vacuum" => Some(Operation::Vacuum),
            "analyze" => Some(Operation::Analyze),
            "reindex" => Some(Operation::Reindex),
            _ => None,
        }
    }

    pub fn sql_name(self) -> &'static str {
        match self {
            Operation::Vacuum => "VACUUM",
            Operation::Analyze => "ANALYZE",
            Operation::Reindex => "REINDEX",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Todo,
    Doing,
    Done,
    Failed,
    Canceled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Todo => "todo",
            Status::Doing => "doing",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "todo" => Some(Status::Todo),
            "doing" => Some(Status::Doing),
            "done" => Some(Status::Done),
            "failed" => Some(Status::Failed),
            "canceled" => Some(Status::Canceled),
            _ => None,
        }
    }
}

/// One option of VACUUM's `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VacuumOption {
    Full,
    Freeze,
    Analyze,
}

impl VacuumOption {
    fn name(self) -> &'static str {
        match self {
            VacuumOption::Full => "full",
            VacuumOption::Freeze => "freeze",
            VacuumOption::Analyze => "analyze",
        }
    }
}

/// `mode`: a comma list of `full`, `freeze`, `analyze` (each at most once counts;
/// the empty string is a plain VACUUM). None when anything else is in it.
pub fn parse_mode(text: &str) -> Option<Vec<VacuumOption>> {
    let mut options = Vec::new();
    if text.is_empty() {
        return Some(options);
    }
    for item in text.split(',') {
        let option = match item {
            "full" => VacuumOption::Full,
            "freeze" => VacuumOption::Freeze,
            "analyze" => VacuumOption::Analyze,
            _ => return None,
        };
        if !options.contains(&option) {
            options.push(option);
        }
    }
    options.sort();
    Some(options)
}

/// The mode as written in lists and in the store: canonical order, None when plain.
pub fn mode_text(options: &[VacuumOption]) -> Option<String> {
    if options.is_empty() {
        None
    } else {
        Some(
            options
                .iter()
                .map(|o| o.name())
                .collect::<Vec<_>>()
                .join(","),
        )
    }
}

/// `datetime`: exactly `YYYY-MM-DDTHH:MM:SSZ`, a real UTC time.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let shape = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    NaiveDateTime::parse_from_str(text, DATETIME_FORMAT)
        .ok()
        .map(|naive| naive.and_utc())
}

pub fn format_datetime(at: DateTime<Utc>) -> String {
    at.format(DATETIME_FORMAT).to_string()
}

/// A task id: 8 lowercase hex digits.
pub fn valid_id(text: &str) -> bool {
    text.len() == 8
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn new_id() -> String {
    format!("{:08x}", rand::random::<u32>())
}

/// What an operation works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Database,
    Table {
        schema: String,
        table: String,
    },
    /// `table` is the index's table: operations on it wait for each other.
    Index {
        schema: String,
        index: String,
        table: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: String,
    pub operation: Operation,
    pub dbname: String,
    pub target: Target,
    pub mode: Vec<VacuumOption>,
    /// The run time, or the next one of a recurring task.
    pub datetime: DateTime<Utc>,
    /// Standard 5-field crontab expression of a recurring task.
    pub cron: Option<String>,
    pub status: Status,
    /// Who asked for it (a user name, or `key` for the agent key).
    pub username: String,
    pub created: DateTime<Utc>,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

impl Task {
    pub fn schema(&self) -> Option<&str> {
        match &self.target {
            Target::Database => None,
            Target::Table { schema, .. } | Target::Index { schema, .. } => Some(schema),
        }
    }

    /// The table named by the task (not an index's table, which lists show as null).
    pub fn table(&self) -> Option<&str> {
        match &self.target {
            Target::Table { table, .. } => Some(table),
            _ => None,
        }
    }

    pub fn index(&self) -> Option<&str> {
        match &self.target {
            Target::Index { index, .. } => Some(index),
            _ => None,
        }
    }

    /// The table the operation locks, None for a whole database.
    fn locked_table(&self) -> Option<(&str, &str)> {
        match &self.target {
            Target::Database => None,
            Target::Table { schema, table } | Target::Index { schema, table, .. } => {
                Some((schema, table))
            }
        }
    }

    /// Whether two tasks may not run at once: same table, or one of them covers the
    /// whole database the other works in.
    pub fn conflicts_with(&self, other: &Task) -> bool {
        if self.dbname != other.dbname {
            return false;
        }
        match (self.locked_table(), other.locked_table()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }

    /// The operation in a DBA's words, names quoted as in SQL:
    /// `VACUUM (FULL, ANALYZE) on table "public"."city" of database "app"`.
    pub fn describe(&self) -> String {
        let mut text = self.operation.sql_name().to_string();
        if !self.mode.is_empty() {
            let options: Vec<String> = self.mode.iter().map(|o| o.name().to_uppercase()).collect();
            text.push_str(&format!(" ({})", options.join(", ")));
        }
        let db = quote_ident(&self.dbname);
        match &self.target {
            Target::Database => text.push_str(&format!(" on database {db}")),
            Target::Table { schema, table } => text.push_str(&format!(
                " on table {} of database {db}",
                quote_qualified(schema, table)
            )),
            Target::Index { schema, index, .. } => text.push_str(&format!(
                " on index {} of database {db}",
                quote_qualified(schema, index)
            )),
        }
        text
    }

    /// The task as the spec's scheduled lists show it.
    pub fn view(&self) -> TaskView {
        TaskView {
            datetime: format_datetime(self.datetime),
            dbname: self.dbname.clone(),
            id: self.id.clone(),
            index: self.index().map(str::to_string),
            mode: mode_text(&self.mode),
            schema: self.schema().map(str::to_string),
            status: self.status,
            table: self.table().map(str::to_string),
        }
    }

    /// Everything the agent knows of the task (`GET /maintenance/tasks`).
    pub fn detail(&self) -> TaskDetail {
        TaskDetail {
            operation: self.operation.as_str(),
            view: self.view(),
            cron: self.cron.clone(),
            username: self.username.clone(),
            created: format_datetime(self.created),
            started: self.started.map(format_datetime),
            finished: self.finished.map(format_datetime),
            error: self.error.clone(),
        }
    }
}

/// A row of the scheduled lists: exactly the spec's keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskView {
    pub datetime: String,
    pub dbname: String,
    pub id: String,
    pub index: Option<String>,
    pub mode: Option<String>,
    pub schema: Option<String>,
    pub status: Status,
    pub table: Option<String>,
}

/// A task with what the spec's lists leave out: its operation, its cron schedule
/// (null for a one-time task), who asked for it and when, and its last run's
/// `started`, `finished` and `error`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskDetail {
    pub operation: &'static str,
    #[serde(flatten)]
    pub view: TaskView,
    pub cron: Option<String>,
    pub username: String,
    pub created: String,
    pub started: Option<String>,
    pub finished: Option<String>,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(db: &str, target: Target) -> Task {
        let at = parse_datetime("2026-01-01T00:00:00Z").unwrap();
        Task {
            id: "0badcafe".into(),
            operation: Operation::Vacuum,
            dbname: db.into(),
            target,
            mode: vec![VacuumOption::Full, VacuumOption::Analyze],
            datetime: at,
            cron: None,
            status: Status::Todo,
            username: "alice".into(),
            created: at,
            started: None,
            finished: None,
            error: None,
        }
    }

    fn table(schema: &str, table: &str) -> Target {
        Target::Table {
            schema: schema.into(),
            table: table.into(),
        }
    }

    #[test]
    fn mode_is_a_comma_list_of_known_options() {
        assert_eq!(
            parse_mode("full,analyze"),
            Some(vec![VacuumOption::Full, VacuumOption::Analyze])
        );
        assert_eq!(
            parse_mode("analyze,freeze,full,full"),
            Some(vec![
                VacuumOption::Full,
                VacuumOption::Freeze,
                VacuumOption::Analyze
            ])
        );
        assert_eq!(parse_mode(""), Some(vec![]));
        for bad in [
            "FULL",
            "full,",
            ",full",
            "verbose",
            "full analyze",
            "full;drop",
        ] {
            assert_eq!(parse_mode(bad), None, "{bad}");
        }
        assert_eq!(
            mode_text(&parse_mode("analyze,full").unwrap()).as_deref(),
            Some("full,analyze")
        );
        assert_eq!(mode_text(&[]), None);
    }

    #[test]
    fn datetime_is_strict_utc() {
        let at = parse_datetime("2019-03-22T12:24:39Z").unwrap();
        assert_eq!(format_datetime(at), "2019-03-22T12:24:39Z");
        for bad in [
            "2019-02-30T10:00:00Z",
            "2019-03-22T12:24:39",
            "2019-03-22 12:24:39Z",
            "2019-03-22T12:24:39+00:00",
            "2019-03-22T24:00:00Z",
            "+2019-03-22T12:24:3Z",
            "",
            "tomorrow",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_are_eight_lowercase_hex() {
        assert!(valid_id("239cd9a0"));
        assert!(valid_id(&new_id()));
        for bad in ["239CD9A0", "239cd9a", "239cd9a00", "239cd9ag", ""] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn conflicts_by_table_or_whole_database() {
        let a = task("db", table("public", "t"));
        let b = task("db", table("public", "t"));
        let c = task("db", table("public", "u"));
        let whole = task("db", Target::Database);
        let elsewhere = task("other", table("public", "t"));
        let index = task(
            "db",
            Target::Index {
                schema: "public".into(),
                index: "t_pkey".into(),
                table: "t".into(),
            },
        );
        assert!(a.conflicts_with(&b));
        assert!(!a.conflicts_with(&c));
        assert!(a.conflicts_with(&whole) && whole.conflicts_with(&c));
        assert!(!a.conflicts_with(&elsewhere));
        assert!(index.conflicts_with(&a) && !index.conflicts_with(&c));
    }

    #[test]
    fn describe_quotes_names() {
        let t = task("db", table("public", "a\"b"));
        assert_eq!(
            t.describe(),
            r#"VACUUM (FULL, ANALYZE) on table "public"."a""b" of database "db""#
        );
        let v = t.view();
        assert_eq!(v.mode.as_deref(), Some("full,analyze"));
        assert_eq!(v.table.as_deref(), Some("a\"b"));
        assert_eq!(v.index, None);
        assert_eq!(v.datetime, "2026-01-01T00:00:00Z");
    }
}
