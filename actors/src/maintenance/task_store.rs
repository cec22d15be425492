//! TaskStore: the maintenance tasks on disk, in the agent's durable store (SQLite,
//! WAL, synchronous FULL), so that a task whose id was answered survives a restart
//! and a `kill -9`. It runs on its own thread (a SyncArbiter) so that disk waits
//! never stall an async worker, and it owns its SQLite connection.
//!
//! Opening never stops the agent: a task table of an unknown or newer layout, or
//! one that cannot be read, is renamed aside (`maintenance_tasks_aside_<time>`) with
//! a warning and a fresh one is made; a row that cannot be read is moved to
//! `maintenance_tasks_rejected` with a warning; a store that cannot be opened at all
//! leaves the scheduler without durability, every write answering an error.
//! It decides nothing about the tasks: the scheduler does.

use actix::prelude::*;
use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::task::{
    format_datetime, mode_text, parse_mode, Operation, Status, Target, Task, DATETIME_FORMAT,
};
use crate::error::Error;
use crate::store::Store;

/// The layout of `tasks_schema.sql`.
const LAYOUT_VERSION: i64 = 1;

pub struct TaskStore {
    conn: Result<Connection, String>,
    log: slog::Logger,
}

impl TaskStore {
    /// Opens the task table, migrating or setting aside what cannot be used.
    pub fn open(store: &Store, log: slog::Logger) -> TaskStore {
        let conn = store
            .open()
            .map_err(|e| e.to_string())
            .and_then(|conn| prepare(&conn, &log).map(|()| conn));
        if let Err(why) = &conn {
            slog::error!(log, "maintenance tasks cannot be stored: scheduling is refused until the store is repaired and the agent restarted";
                "store" => %store.path().display(), "error" => why);
        }
        TaskStore { conn, log }
    }

    pub fn start(store: Store, log: slog::Logger) -> Addr<TaskStore> {
        // The connection is opened on the store's thread, where it stays.
        SyncArbiter::start(1, move || TaskStore::open(&store, log.clone()))
    }

    fn conn(&self) -> Result<&Connection, Error> {
        self.conn
            .as_ref()
            .map_err(|why| Error::Store(format!("maintenance tasks unavailable: {why}")))
    }

    fn save(&self, task: &Task) -> Result<(), Error> {
        let (schema, table, index, index_table) = match &task.target {
            Target::Database => (None, None, None, None),
            Target::Table { schema, table } => (Some(schema), Some(table), None, None),
            Target::Index {
                schema,
                index,
                table,
            } => (Some(schema), None, Some(index), Some(table)),
        };
        let mut stmt = self
            .conn()?
            .prepare_cached(include_str!("../../sql/maintenance/tasks_upsert.sql"))?;
        stmt.execute(rusqlite::params![
            task.id,
            task.operation.as_str(),
            task.dbname,
            schema,
            table,
            index,
            index_table,
            mode_text(&task.mode),
            format_datetime(task.datetime),
            task.cron,
            task.status.as_str(),
            task.username,
            format_datetime(task.created),
            task.started.map(format_datetime),
            task.finished.map(format_datetime),
            task.error,
        ])?;
        Ok(())
    }

    /// Every readable task; unreadable rows are set aside with a warning.
    fn load(&self) -> Result<Vec<Task>, Error> {
        let conn = self.conn()?;
        let mut tasks = Vec::new();
        let mut rejected: Vec<(i64, String)> = Vec::new();
        {
            let mut stmt = conn.prepare(include_str!("../../sql/maintenance/tasks_load.sql"))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let rowid: i64 = row.get(0)?;
                match read_task(row) {
                    Ok(task) => tasks.push(task),
                    Err(why) => rejected.push((rowid, why)),
                }
            }
        }
        for (rowid, why) in rejected {
            slog::warn!(self.log, "maintenance task row unreadable, set aside in maintenance_tasks_rejected";
                "rowid" => rowid, "reason" => &why);
            conn.execute_batch(include_str!(
                "../../sql/maintenance/tasks_reject_create.sql"
            ))?;
            conn.execute(
                include_str!("../../sql/maintenance/tasks_reject.sql"),
                [rowid],
            )?;
            conn.execute(
                include_str!("../../sql/maintenance/tasks_delete.sql"),
                [rowid],
            )?;
        }
        Ok(tasks)
    }

    fn purge(&self, before: DateTime<Utc>) -> Result<usize, Error> {
        Ok(self.conn()?.execute(
            include_str!("../../sql/maintenance/tasks_purge.sql"),
            [format_datetime(before)],
        )?)
    }
}

/// Makes the task table usable at the current layout.
fn prepare(conn: &Connection, log: &slog::Logger) -> Result<(), String> {
    let run = || -> rusqlite::Result<()> {
        conn.execute_batch(include_str!("../../sql/maintenance/tasks_meta.sql"))?;
        let version: Option<i64> = conn.query_row(
            include_str!("../../sql/maintenance/tasks_version.sql"),
            [],
            |r| r.get(0),
        )?;
        let exists = conn
            .query_row(
                include_str!("../../sql/maintenance/tasks_table_exists.sql"),
                ["maintenance_tasks"],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .is_some();
        let usable = match (exists, version) {
            (false, _) => true,
            // Layout 1 is the first one: there is nothing older to migrate from.
            // A later layout adds its migration steps here.
            (true, Some(LAYOUT_VERSION)) => readable(conn),
            (true, other) => {
                slog::warn!(log, "maintenance task table of an unknown layout";
                    "found_version" => ?other, "expected_version" => LAYOUT_VERSION);
                false
            }
        };
        if exists && !usable {
            set_aside(conn, log)?;
        }
        conn.execute_batch(include_str!("../../sql/maintenance/tasks_schema.sql"))?;
        conn.execute_batch(
            &include_str!("../../sql/maintenance/tasks_set_version.sql")
                .replace("?1", &LAYOUT_VERSION.to_string()),
        )?;
        Ok(())
    };
    run().map_err(|e| e.to_string())
}

/// Whether the table has the columns the agent reads.
fn readable(conn: &Connection) -> bool {
    conn.prepare(include_str!("../../sql/maintenance/tasks_load.sql"))
        .is_ok()
}

fn set_aside(conn: &Connection, log: &slog::Logger) -> rusqlite::Result<()> {
    let name = format!(
        "maintenance_tasks_aside_{}",
        Utc::now().format("%Y%m%d%H%M%S%f")
    );
    conn.execute_batch(
        &include_str!("../../sql/maintenance/tasks_set_aside.sql").replace("{name}", &name),
    )?;
    slog::warn!(log, "maintenance task table set aside; its tasks will not run, a new table is used";
        "kept_as" => &name);
    Ok(())
}

fn read_task(row: &Row) -> Result<Task, String> {
    let text = |i: usize| -> Result<Option<String>, String> {
        row.get::<_, Option<String>>(i)
            .map_err(|e| format!("column {i}: {e}"))
    };
    let required = |i: usize, what: &str| -> Result<String, String> {
        text(i)?.ok_or_else(|| format!("{what} is missing"))
    };
    let datetime = |value: String, what: &str| -> Result<DateTime<Utc>, String> {
        NaiveDateTime::parse_from_str(&value, DATETIME_FORMAT)
            .map(|naive| naive.and_utc())
            .map_err(|_| format!("{what} {value:?} is not a UTC datetime"))
    };
    let optional_datetime = |value: Option<String>, what: &str| match value {
        Some(v) => datetime(v, what).map(Some),
        None => Ok(None),
    };
    let id = required(1, "id")?;
    if !super::task::valid_id(&id) {
        return Err(format!("id {id:?} is malformed"));
    }
    let operation = required(2, "operation")?;
    let operation =
        Operation::parse(&operation).ok_or_else(|| format!("unknown operation {operation:?}"))?;
    let target = match (text(4)?, text(5)?, text(6)?, text(7)?) {
        (None, None, None, None) => Target::Database,
        (Some(schema), Some(table), None, None) => Target::Table { schema, table },
        (Some(schema), None, Some(index), Some(table)) => Target::Index {
            schema,
            index,
            table,
        },
        _ => return Err("the object names do not fit together".to_string()),
    };
    let mode = match text(8)? {
        None => Vec::new(),
        Some(m) => parse_mode(&m).ok_or_else(|| format!("mode {m:?} is malformed"))?,
    };
    let cron = text(10)?;
    if let Some(expr) = &cron {
        if super::cron_schedule::parse(expr).is_none() {
            return Err(format!("cron {expr:?} is malformed"));
        }
    }
    let status = required(11, "status")?;
    let status = Status::parse(&status).ok_or_else(|| format!("unknown status {status:?}"))?;
    Ok(Task {
        id,
        operation,
        dbname: required(3, "dbname")?,
        target,
        mode,
        datetime: datetime(required(9, "datetime")?, "datetime")?,
        cron,
        status,
        username: required(12, "username")?,
        created: datetime(required(13, "created")?, "created")?,
        started: optional_datetime(text(14)?, "started")?,
        finished: optional_datetime(text(15)?, "finished")?,
        error: text(16)?,
    })
}

impl Actor for TaskStore {
    type Context = SyncContext<Self>;
}

/// Write a task (new or changed); answers once it is on disk.
#[derive(Message)]
#[rtype(result = "Result<(), Error>")]
pub struct SaveTask(pub Task);

impl Handler<SaveTask> for TaskStore {
    type Result = Result<(), Error>;

    fn handle(&mut self, msg: SaveTask, _: &mut Self::Context) -> Self::Result {
        self.save(&msg.0)
    }
}

/// Every task on disk.
#[derive(Message)]
#[rtype(result = "Result<Vec<Task>, Error>")]
pub struct LoadTasks;

impl Handler<LoadTasks> for TaskStore {
    type Result = Result<Vec<Task>, Error>;

    fn handle(&mut self, _: LoadTasks, _: &mut Self::Context) -> Self::Result {
        self.load()
    }
}

/// Forget tasks that ended (done, failed, cancelled) before a time; answers how many.
#[derive(Message)]
#[rtype(result = "Result<usize, Error>")]
pub struct PurgeTasks {
    pub finished_before: DateTime<Utc>,
}

impl Handler<PurgeTasks> for TaskStore {
    type Result = Result<usize, Error>;

    fn handle(&mut self, msg: PurgeTasks, _: &mut Self::Context) -> Self::Result {
        self.purge(msg.finished_before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintenance::task::{parse_datetime, VacuumOption};

    fn log() -> slog::Logger {
        slog::Logger::root(slog::Discard, slog::o!())
    }

    fn task(id: &str, target: Target) -> Task {
        let at = parse_datetime("2026-01-01T00:00:00Z").unwrap();
        Task {
            id: id.into(),
            operation: Operation::Vacuum,
            dbname: "db".into(),
            target,
            mode: vec![VacuumOption::Full],
            datetime: at,
            cron: Some("30 2 * * 0".into()),
            status: Status::Todo,
            username: "alice".into(),
            created: at,
            started: None,
            finished: None,
            error: None,
        }
    }

    fn tables(store: &Store) -> Vec<String> {
        let conn = store.open().unwrap();
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        names
    }

    #[test]
    fn tasks_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let mut a = task("0000000a", Target::Database);
        let b = task(
            "0000000b",
            Target::Index {
                schema: "s p".into(),
                index: "i\"x".into(),
                table: "t".into(),
            },
        );
        {
            let ts = TaskStore::open(&store, log());
            ts.save(&a).unwrap();
            ts.save(&b).unwrap();
            a.status = Status::Done;
            a.cron = None;
            a.finished = parse_datetime("2026-01-02T00:00:00Z");
            a.error = Some("x".into());
            ts.save(&a).unwrap();
        }
        let loaded = TaskStore::open(&store, log()).load().unwrap();
        assert_eq!(loaded.len(), 2);
        let la = loaded.iter().find(|t| t.id == a.id).unwrap();
        assert_eq!(la.status, Status::Done);
        assert_eq!(la.finished, a.finished);
        // The schedule of a task never changes after it is written.
        assert_eq!(la.cron.as_deref(), Some("30 2 * * 0"));
        assert_eq!(loaded.iter().find(|t| t.id == b.id).unwrap(), &b);

        // A task that ended is forgotten once it ended before the limit, recurring
        // or not; a pending one never is.
        let ts = TaskStore::open(&store, log());
        assert_eq!(
            ts.purge(parse_datetime("2026-01-02T00:00:00Z").unwrap())
                .unwrap(),
            0
        );
        assert_eq!(
            ts.purge(parse_datetime("2026-01-03T00:00:00Z").unwrap())
                .unwrap(),
            1
        );
        let left = ts.load().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id, b.id);
    }

    #[test]
    fn a_cancelled_recurring_task_is_purged_like_a_finished_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let ts = TaskStore::open(&store, log());
        let mut weekly = task("00000010", Target::Database);
        weekly.status = Status::Canceled;
        weekly.finished = parse_datetime("2026-01-02T00:00:00Z");
        let mut ran = task("00000011", Target::Database);
        ran.finished = parse_datetime("2026-01-02T00:00:00Z");
        ts.save(&weekly).unwrap();
        ts.save(&ran).unwrap();
        assert_eq!(
            ts.purge(parse_datetime("2026-01-03T00:00:00Z").unwrap())
                .unwrap(),
            1
        );
        // The recurring task that ran and waits for its next occurrence stays.
        let left = ts.load().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id, ran.id);
    }

    #[test]
    fn an_unknown_table_layout_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        store
            .open()
            .unwrap()
            .execute_batch(
                "CREATE TABLE maintenance_tasks (id TEXT, when_ TEXT);\
                 INSERT INTO maintenance_tasks VALUES ('old', 'yesterday');",
            )
            .unwrap();
        let ts = TaskStore::open(&store, log());
        assert!(ts.load().unwrap().is_empty());
        ts.save(&task("0000000c", Target::Database)).unwrap();
        let names = tables(&store);
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("maintenance_tasks_aside_")),
            "{names:?}"
        );
        // The next start keeps the new table.
        assert_eq!(TaskStore::open(&store, log()).load().unwrap().len(), 1);
    }

    #[test]
    fn a_newer_layout_is_set_aside_too() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        TaskStore::open(&store, log())
            .save(&task("0000000d", Target::Database))
            .unwrap();
        store
            .open()
            .unwrap()
            .execute_batch("UPDATE maintenance_schema SET version = 99")
            .unwrap();
        assert!(TaskStore::open(&store, log()).load().unwrap().is_empty());
    }

    #[test]
    fn unreadable_rows_are_rejected_and_the_rest_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let ts = TaskStore::open(&store, log());
        ts.save(&task("0000000e", Target::Database)).unwrap();
        ts.save(&task("0000000f", Target::Database)).unwrap();
        store
            .open()
            .unwrap()
            .execute_batch(
                "UPDATE maintenance_tasks SET status = 'bogus' WHERE id = '0000000e';\
                 INSERT INTO maintenance_tasks (id, operation, dbname, datetime, status, username, created)\
                 VALUES (NULL, 'vacuum', 'db', 'x', 'todo', 'u', 'y');",
            )
            .unwrap();
        let loaded = TaskStore::open(&store, log()).load().unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].id, "0000000f");
        assert!(tables(&store).contains(&"maintenance_tasks_rejected".to_string()));
        let rejected: i64 = store
            .open()
            .unwrap()
            .query_row("SELECT count(*) FROM maintenance_tasks_rejected", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(rejected, 2);
        // Loading again finds only the good one, with nothing left to reject.
        assert_eq!(TaskStore::open(&store, log()).load().unwrap().len(), 1);
    }
}
