//! Runs one maintenance operation (VACUUM, ANALYZE, REINDEX) of a task: on a
//! dedicated connection to the task's database, without statement timeout (the
//! lock timeout stays), with the statement built from a template in
//! `sql/maintenance/` where options come from a fixed list and object names only
//! through `quote_ident`. It knows nothing of scheduling.

use std::time::{Duration, Instant};

use super::task::{Operation, Target, Task, VacuumOption};
use crate::error::Error;
use crate::pg_access::PgAccess;
use crate::pg_supervisor::describe_pg_error;
use crate::sql_quote::{quote_ident, quote_qualified};

/// The statement a task runs.
pub fn statement(task: &Task) -> String {
    let table_target = || match &task.target {
        Target::Database => String::new(),
        Target::Table { schema, table } => quote_qualified(schema, table),
        Target::Index { schema, index, .. } => quote_qualified(schema, index),
    };
    let template = match (task.operation, &task.target) {
        (Operation::Vacuum, _) => include_str!("../../sql/maintenance/vacuum.sql"),
        (Operation::Analyze, _) => include_str!("../../sql/maintenance/analyze.sql"),
        (Operation::Reindex, Target::Database) => {
            include_str!("../../sql/maintenance/reindex_database.sql")
        }
        (Operation::Reindex, Target::Table { .. }) => {
            include_str!("../../sql/maintenance/reindex_table.sql")
        }
        (Operation::Reindex, Target::Index { .. }) => {
            include_str!("../../sql/maintenance/reindex_index.sql")
        }
    };
    let target = match (task.operation, &task.target) {
        (Operation::Reindex, Target::Database) => quote_ident(&task.dbname),
        _ => table_target(),
    };
    let options = if task.mode.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = task
            .mode
            .iter()
            .map(|o| match o {
                VacuumOption::Full => "FULL",
                VacuumOption::Freeze => "FREEZE",
                VacuumOption::Analyze => "ANALYZE",
            })
            .collect();
        format!("({})", names.join(", "))
    };
    // The template's comment lines go first: a name may hold a line break, which
    // would end a comment line and make the rest of the name SQL.
    let template: Vec<&str> = template
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect();
    // Options before names: a name holding the text `{options}` stays a name.
    template
        .join("\n")
        .replace("{options}", &options)
        .replace("{target}", &target)
        .trim()
        .to_string()
}

/// Runs the task's statement; answers how long it took.
pub async fn run(pg: &PgAccess, task: &Task) -> Result<Duration, Error> {
    let client = pg.connect_to(&task.dbname).await?;
    let context = || format!("{} (task {})", task.describe(), task.id);
    client
        .batch_execute(include_str!(
            "../../sql/maintenance/no_statement_timeout.sql"
        ))
        .await
        .map_err(|e| Error::query(context(), describe_pg_error(&e)))?;
    let started = Instant::now();
    // The simple query protocol: VACUUM must not run inside a transaction block.
    client
        .batch_execute(&statement(task))
        .await
        .map_err(|e| Error::query(context(), describe_pg_error(&e)))?;
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintenance::task::{parse_datetime, Status};

    fn task(operation: Operation, target: Target, mode: Vec<VacuumOption>) -> Task {
        let at = parse_datetime("2026-01-01T00:00:00Z").unwrap();
        Task {
            id: "00000001".into(),
            operation,
            dbname: "d\"b".into(),
            target,
            mode,
            datetime: at,
            cron: None,
            status: Status::Todo,
            username: "u".into(),
            created: at,
            started: None,
            finished: None,
            error: None,
        }
    }

    fn sql(task: &Task) -> String {
        statement(task)
    }

    #[test]
    fn statements_quote_every_name() {
        let table = Target::Table {
            schema: "my schema".into(),
            table: "x\"; DROP TABLE t; -- {options}".into(),
        };
        assert_eq!(
            sql(&task(
                Operation::Vacuum,
                table.clone(),
                vec![VacuumOption::Full, VacuumOption::Analyze]
            )),
            r#"VACUUM (FULL, ANALYZE) "my schema"."x""; DROP TABLE t; -- {options}""#
        );
        assert_eq!(
            sql(&task(Operation::Vacuum, Target::Database, vec![])),
            "VACUUM"
        );
        assert_eq!(
            sql(&task(Operation::Analyze, table.clone(), vec![])),
            r#"ANALYZE "my schema"."x""; DROP TABLE t; -- {options}""#
        );
        assert_eq!(
            sql(&task(Operation::Reindex, Target::Database, vec![])),
            r#"REINDEX DATABASE "d""b""#
        );
        assert_eq!(
            sql(&task(
                Operation::Reindex,
                Target::Index {
                    schema: "s".into(),
                    index: "i.x".into(),
                    table: "t".into()
                },
                vec![]
            )),
            r#"REINDEX INDEX "s"."i.x""#
        );
        assert_eq!(
            sql(&task(Operation::Reindex, table, vec![])),
            r#"REINDEX TABLE "my schema"."x""; DROP TABLE t; -- {options}""#
        );
        // A line break in a name stays inside the quotes.
        let newline = Target::Table {
            schema: "s".into(),
            table: "a\nDROP TABLE t; --".into(),
        };
        assert_eq!(
            sql(&task(Operation::Analyze, newline, vec![])),
            "ANALYZE \"s\".\"a\nDROP TABLE t; --\""
        );
    }
}
