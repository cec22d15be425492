//! MaintenanceScheduler: owns the maintenance tasks (VACUUM, ANALYZE, REINDEX now, at
//! a UTC time or on a cron schedule) and runs them when due: at most `max_parallel`
//! at once, never two on the same table (a whole-database task waits for every
//! other task of its database, and they for it).
//!
//! Durability: a task is written to the `TaskStore` before its id is answered, and
//! each change of status is written as it happens. At start-up the tasks are read
//! back before any message is handled: a task due while the agent was down runs at
//! once (it is not dropped as missed), and a task found `doing` was cut by a stop or
//! crash: a one-time task becomes `failed` with that reason, a recurring one records
//! the failure and waits for its next occurrence.
//!
//! Bounds: at most `max_pending_tasks` tasks are waiting or running (recurring ones
//! count until cancelled); scheduling beyond answers a conflict naming the setting.
//! Finished one-time tasks and cancelled ones (recurring or not) are forgotten 24 h
//! after they end, in memory and on disk, at start-up and every 10 minutes.
//!
//! The timer ticks every second and only compares times in memory: the pending
//! tasks are kept in due order (`DueQueue`) and a tick walks only the due ones,
//! never the tasks scheduled for later. Every change
//! (scheduled, started, done, failed, canceled) goes to the log and the notification
//! log, in the name of the user who asked. It never runs SQL itself: `operation`
//! does, on a dedicated connection.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, SubsecRound, Utc};

use super::cron_schedule;
use super::due_queue::DueQueue;
use super::operation;
use super::reports;
use super::task::{
    format_datetime, new_id, Operation, Status, Target, Task, TaskDetail, TaskView, VacuumOption,
};
use super::task_store::{LoadTasks, PurgeTasks, SaveTask, TaskStore};
use crate::error::Error;
use crate::notification_log::{NotificationLog, Notify};
use crate::pg_access::PgAccess;
use crate::pg_row::Column;
use crate::pg_supervisor::describe_pg_error;

const TICK: Duration = Duration::from_secs(1);
/// Ticks between two purges of old finished tasks.
const PURGE_EVERY: u64 = 600;
/// How long a finished one-time task, or a cancelled one, stays in the lists.
const RETENTION: chrono::TimeDelta = chrono::TimeDelta::hours(24);
const INTERRUPTED: &str =
    "the agent stopped while the operation was running (restart or crash); its outcome is unknown";

pub struct MaintenanceScheduler {
    tasks: BTreeMap<String, Task>,
    /// The order tasks were asked for (`created` counts whole seconds): loaded in
    /// the store's insertion order, then one more per new task.
    creation_order: HashMap<String, u64>,
    next_creation: u64,
    running: HashSet<String>,
    /// The `todo` tasks, in due order: what a tick looks at.
    pending: DueQueue,
    /// Schedule requests checked against the cap but not yet in `tasks` (their
    /// object is being looked up): they hold their place.
    scheduling: usize,
    max_pending_tasks: usize,
    store: Addr<TaskStore>,
    pg: PgAccess,
    notifications: Addr<NotificationLog>,
    max_parallel: usize,
    ticks: u64,
    log: slog::Logger,
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

impl MaintenanceScheduler {
    pub fn new(
        store: Addr<TaskStore>,
        pg: PgAccess,
        notifications: Addr<NotificationLog>,
        settings: &super::Settings,
        log: slog::Logger,
    ) -> MaintenanceScheduler {
        MaintenanceScheduler {
            tasks: BTreeMap::new(),
            creation_order: HashMap::new(),
            next_creation: 0,
            running: HashSet::new(),
            pending: DueQueue::default(),
            scheduling: 0,
            max_pending_tasks: settings.max_pending_tasks.max(1),
            store,
            pg,
            notifications,
            max_parallel: settings.max_parallel.max(1),
            ticks: 0,
            log,
        }
    }

    fn notify(&self, username: &str, message: String) {
        self.notifications.do_send(Notify::new(username, message));
    }

    /// Writes a task change in the background; the store applies writes in order.
    fn persist(&self, task: &Task, ctx: &mut Context<Self>) {
        let save = self.store.send(SaveTask(task.clone()));
        let log = self.log.clone();
        let id = task.id.clone();
        ctx.spawn(
            async move {
                if let Err(err) = save.await.map_err(Error::from).and_then(|r| r) {
                    slog::error!(log, "cannot record a maintenance task change"; "task" => id, "error" => %err);
                }
            }
            .into_actor(self),
        );
    }

    /// Takes the tasks read from the store at start-up.
    fn recover(&mut self, loaded: Result<Vec<Task>, Error>, ctx: &mut Context<Self>) {
        let tasks = match loaded {
            Ok(tasks) => tasks,
            Err(err) => {
                slog::error!(self.log, "cannot read the maintenance tasks"; "error" => %err);
                return;
            }
        };
        let now = now();
        for mut task in tasks {
            if task.status == Status::Doing {
                task.finished = Some(now);
                task.error = Some(INTERRUPTED.to_string());
                task.status = Status::Failed;
                if let Some(next) = task.cron.as_deref().and_then(|expr| next_run(expr, now)) {
                    task.status = Status::Todo;
                    task.datetime = next;
                }
                slog::warn!(self.log, "maintenance operation interrupted by the agent's stop";
                    "task" => &task.id, "operation" => task.describe());
                self.notify(
                    &task.username,
                    format!(
                        "{} failed: {INTERRUPTED} (task {})",
                        task.describe(),
                        task.id
                    ),
                );
                self.persist(&task, ctx);
            }
            self.remember_creation(&task.id);
            self.insert_task(task);
        }
        let overdue = self
            .tasks
            .values()
            .filter(|t| t.status == Status::Todo && t.datetime < now)
            .count();
        slog::info!(self.log, "maintenance tasks loaded";
            "pending" => self.pending.len(), "overdue_run_now" => overdue,
            "max_parallel" => self.max_parallel, "max_pending_tasks" => self.max_pending_tasks);
        if self.pending.len() > self.max_pending_tasks {
            // Kept all the same: they were accepted (under a higher cap).
            slog::warn!(self.log, "more pending maintenance tasks than [maintenance] max_pending_tasks: new ones are refused until some run or are cancelled";
                "pending" => self.pending.len(), "max_pending_tasks" => self.max_pending_tasks);
        }
        // Tasks that ended long ago while the agent was down go at once.
        self.purge(ctx);
    }

    /// Takes a task in, queued by its due time if it waits to run.
    fn insert_task(&mut self, task: Task) {
        if task.status == Status::Todo {
            let creation = self.creation_order.get(&task.id).copied().unwrap_or(0);
            self.pending.insert(&task.id, task.datetime, creation);
        } else {
            self.pending.remove(&task.id);
        }
        self.tasks.insert(task.id.clone(), task);
    }

    /// Tasks waiting (recurring ones included) or running, and requests on their way
    /// in: what the cap counts.
    fn unfinished(&self) -> usize {
        self.pending.len() + self.running.len() + self.scheduling
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        self.ticks += 1;
        if self.ticks >= PURGE_EVERY {
            self.ticks = 0;
            self.purge(ctx);
        }
        let room = self.max_parallel.saturating_sub(self.running.len());
        let (tasks, running) = (&self.tasks, &self.running);
        let picked = self.pending.pick(now(), room, |id, starting| {
            let Some(task) = tasks.get(id) else {
                return false;
            };
            !running
                .iter()
                .chain(starting)
                .filter_map(|other| tasks.get(other))
                .any(|other| other.conflicts_with(task))
        });
        for id in picked.ids {
            self.start_task(id, ctx);
        }
    }

    fn start_task(&mut self, id: String, ctx: &mut Context<Self>) {
        self.pending.remove(&id);
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        task.status = Status::Doing;
        task.started = Some(now());
        task.finished = None;
        task.error = None;
        let task = task.clone();
        self.running.insert(id.clone());
        slog::info!(self.log, "maintenance operation started";
            "task" => &id, "operation" => task.describe(), "requested_by" => &task.username);
        self.notify(
            &task.username,
            format!("{} started (task {id})", task.describe()),
        );
        let save = self.store.send(SaveTask(task.clone()));
        let pg = self.pg.clone();
        let log = self.log.clone();
        let work = async move {
            // `doing` is on disk before the statement runs: a crash then is seen
            // at the next start.
            if let Err(err) = save.await.map_err(Error::from).and_then(|r| r) {
                slog::error!(log, "cannot record a maintenance task change"; "task" => &task.id, "error" => %err);
            }
            operation::run(&pg, &task).await
        };
        ctx.spawn(
            work.into_actor(self)
                .map(move |result, act, ctx| act.task_finished(id, result, ctx)),
        );
    }

    fn task_finished(
        &mut self,
        id: String,
        result: Result<Duration, Error>,
        ctx: &mut Context<Self>,
    ) {
        self.running.remove(&id);
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        let now = now();
        task.finished = Some(now);
        let (status, message) = match &result {
            Ok(took) => {
                task.error = None;
                (
                    Status::Done,
                    format!(
                        "{} done in {:.1} s (task {id})",
                        task.describe(),
                        took.as_secs_f64()
                    ),
                )
            }
            Err(err) => {
                // The server's message alone: the task already says what ran.
                let why = match err {
                    Error::Query { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                let message = format!("{} failed: {why} (task {id})", task.describe());
                task.error = Some(why);
                (Status::Failed, message)
            }
        };
        task.status = status;
        if let Some(next) = task.cron.as_deref().and_then(|expr| next_run(expr, now)) {
            task.status = Status::Todo;
            task.datetime = next;
        }
        let task = task.clone();
        if task.status == Status::Todo {
            let creation = self.creation_order.get(&id).copied().unwrap_or(0);
            self.pending.insert(&id, task.datetime, creation);
        }
        match &result {
            Ok(took) => slog::info!(self.log, "maintenance operation done";
                "task" => &id, "operation" => task.describe(), "seconds" => took.as_secs_f64()),
            Err(err) => slog::warn!(self.log, "maintenance operation failed";
                "task" => &id, "operation" => task.describe(), "error" => %err),
        }
        self.notify(&task.username, message);
        self.persist(&task, ctx);
        self.tick(ctx);
    }

    /// Forgets tasks that ended (done, failed, cancelled; a recurring task ends only
    /// when cancelled) more than `RETENTION` ago.
    fn purge(&mut self, ctx: &mut Context<Self>) {
        let before = now() - RETENTION;
        self.tasks.retain(|_, t| {
            matches!(t.status, Status::Todo | Status::Doing)
                || t.finished.is_none_or(|f| f >= before)
        });
        let tasks = &self.tasks;
        self.creation_order.retain(|id, _| tasks.contains_key(id));
        let purge = self.store.send(PurgeTasks {
            finished_before: before,
        });
        let log = self.log.clone();
        ctx.spawn(
            async move {
                if let Err(err) = purge.await.map_err(Error::from).and_then(|r| r) {
                    slog::warn!(log, "cannot purge old maintenance tasks"; "error" => %err);
                }
            }
            .into_actor(self),
        );
    }

    fn remember_creation(&mut self, id: &str) {
        self.next_creation += 1;
        self.creation_order
            .insert(id.to_string(), self.next_creation);
    }

    fn fresh_id(&self) -> String {
        loop {
            let id = new_id();
            if !self.tasks.contains_key(&id) {
                return id;
            }
        }
    }
}

fn next_run(expr: &str, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron_schedule::parse(expr).and_then(|s| cron_schedule::next_after(&s, after))
}

impl Actor for MaintenanceScheduler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // No message is handled before the stored tasks are back in memory.
        let load = self.store.send(LoadTasks);
        ctx.wait(
            async move { load.await.map_err(Error::from).and_then(|r| r) }
                .into_actor(self)
                .map(|loaded, act, ctx| act.recover(loaded, ctx)),
        );
        ctx.run_interval(TICK, |act, ctx| act.tick(ctx));
    }
}

/// What a request names; checked against the database before a task is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Database,
    Table { schema: String, table: String },
    Index { schema: String, index: String },
}

/// When to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Now,
    At(DateTime<Utc>),
    /// A standard 5-field crontab expression, already checked by `cron_schedule`.
    Cron(String),
}

/// Schedule an operation; answers the new task's id once it is on disk.
#[derive(Message)]
#[rtype(result = "Result<String, Error>")]
pub struct Schedule {
    pub operation: Operation,
    pub dbname: String,
    pub object: Object,
    pub mode: Vec<VacuumOption>,
    pub when: When,
    pub username: String,
}

/// The target with the index's table, or NotFound naming what is missing.
async fn resolve(pg: &PgAccess, db: &str, object: &Object) -> Result<Target, Error> {
    let client = reports::connect(pg, db).await?;
    let lookup = |e: tokio_postgres::Error| {
        Error::query(
            format!("look up the object in database {db}"),
            describe_pg_error(&e),
        )
    };
    match object {
        Object::Database => Ok(Target::Database),
        Object::Table { schema, table } => {
            reports::check_schema(&client, db, schema).await?;
            client
                .query_opt(
                    include_str!("../../sql/maintenance/table_exists.sql"),
                    &[schema, table],
                )
                .await
                .map_err(lookup)?
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "Table '{table}' not found in schema '{schema}' of database '{db}'."
                    ))
                })?;
            Ok(Target::Table {
                schema: schema.clone(),
                table: table.clone(),
            })
        }
        Object::Index { schema, index } => {
            reports::check_schema(&client, db, schema).await?;
            let row = client
                .query_opt(
                    include_str!("../../sql/maintenance/index_exists.sql"),
                    &[schema, index],
                )
                .await
                .map_err(lookup)?
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "Index '{index}' not found in schema '{schema}' of database '{db}'."
                    ))
                })?;
            Ok(Target::Index {
                schema: schema.clone(),
                index: index.clone(),
                table: row.col("tablename")?,
            })
        }
    }
}

impl Handler<Schedule> for MaintenanceScheduler {
    type Result = ResponseActFuture<Self, Result<String, Error>>;

    fn handle(&mut self, msg: Schedule, _: &mut Self::Context) -> Self::Result {
        if self.unfinished() >= self.max_pending_tasks {
            slog::warn!(self.log, "maintenance operation refused: too many pending tasks";
                "requested_by" => &msg.username, "max_pending_tasks" => self.max_pending_tasks);
            return Box::pin(actix::fut::ready(Err(Error::Conflict(format!(
                "Too many pending maintenance tasks: {} are waiting or running, the cap is {} \
                 ([maintenance] max_pending_tasks); cancel some or wait for them to run.",
                self.unfinished(),
                self.max_pending_tasks
            )))));
        }
        self.scheduling += 1;
        let id = self.fresh_id();
        let pg = self.pg.clone();
        let store = self.store.clone();
        let work = async move {
            let now = now();
            let (datetime, cron) = match &msg.when {
                When::Now => (now, None),
                When::At(at) => (*at, None),
                When::Cron(expr) => match next_run(expr, now) {
                    Some(next) => (next, Some(expr.clone())),
                    None => return Err(Error::Invalid("Parameter 'cron' is malformed.".into())),
                },
            };
            let target = resolve(&pg, &msg.dbname, &msg.object).await?;
            let task = Task {
                id,
                operation: msg.operation,
                dbname: msg.dbname,
                target,
                mode: msg.mode,
                datetime,
                cron,
                status: Status::Todo,
                username: msg.username,
                created: now,
                started: None,
                finished: None,
                error: None,
            };
            store.send(SaveTask(task.clone())).await??;
            Ok((task, msg.when))
        };
        Box::pin(work.into_actor(self).map(|result, act, ctx| {
            act.scheduling -= 1;
            let (task, when) = result?;
            let id = task.id.clone();
            let what = match when {
                When::Now => "requested now".to_string(),
                When::At(at) => format!("scheduled at {}", format_datetime(at)),
                When::Cron(expr) => format!(
                    "scheduled on cron '{expr}', next run at {}",
                    format_datetime(task.datetime)
                ),
            };
            slog::info!(act.log, "maintenance operation scheduled";
                "task" => &id, "operation" => task.describe(), "when" => &what,
                "requested_by" => &task.username);
            act.notify(
                &task.username,
                format!("{} {what} (task {id})", task.describe()),
            );
            act.remember_creation(&id);
            act.insert_task(task);
            act.tick(ctx);
            Ok(id)
        }))
    }
}

/// The tasks of one operation, filtered by database, schema and table (each when
/// given), soonest first. Canceled tasks are left out.
#[derive(Message)]
#[rtype(result = "Vec<TaskView>")]
pub struct ListTasks {
    pub operation: Operation,
    pub dbname: Option<String>,
    pub schema: Option<String>,
    pub table: Option<String>,
}

impl Handler<ListTasks> for MaintenanceScheduler {
    type Result = MessageResult<ListTasks>;

    fn handle(&mut self, msg: ListTasks, _: &mut Self::Context) -> Self::Result {
        let mut tasks: Vec<&Task> = self
            .tasks
            .values()
            .filter(|t| t.operation == msg.operation && t.status != Status::Canceled)
            .filter(|t| msg.dbname.as_ref().is_none_or(|db| &t.dbname == db))
            .filter(|t| msg.schema.as_deref().is_none_or(|s| t.schema() == Some(s)))
            .filter(|t| msg.table.as_deref().is_none_or(|tb| t.table() == Some(tb)))
            .collect();
        tasks.sort_by(|a, b| (a.datetime, &a.id).cmp(&(b.datetime, &b.id)));
        MessageResult(tasks.into_iter().map(Task::view).collect())
    }
}

/// Every task the scheduler knows (recurring and pending ones, and one-time tasks
/// finished or cancelled less than 24 h ago), with their details, most recently
/// created first: `limit` of them from `offset`.
#[derive(Message)]
#[rtype(result = "Vec<TaskDetail>")]
pub struct ListAllTasks {
    pub limit: usize,
    pub offset: usize,
}

impl Handler<ListAllTasks> for MaintenanceScheduler {
    type Result = MessageResult<ListAllTasks>;

    fn handle(&mut self, msg: ListAllTasks, _: &mut Self::Context) -> Self::Result {
        let order = |t: &Task| self.creation_order.get(&t.id).copied().unwrap_or(0);
        let mut tasks: Vec<&Task> = self.tasks.values().collect();
        tasks.sort_by_key(|t| std::cmp::Reverse((t.created, order(t))));
        MessageResult(
            tasks
                .into_iter()
                .skip(msg.offset)
                .take(msg.limit)
                .map(Task::detail)
                .collect(),
        )
    }
}

/// One task with its details.
#[derive(Message)]
#[rtype(result = "Result<TaskDetail, Error>")]
pub struct GetTask {
    pub id: String,
}

impl Handler<GetTask> for MaintenanceScheduler {
    type Result = Result<TaskDetail, Error>;

    fn handle(&mut self, msg: GetTask, _: &mut Self::Context) -> Self::Result {
        self.tasks
            .get(&msg.id)
            .map(Task::detail)
            .ok_or_else(|| Error::NotFound(format!("Maintenance task '{}' not found.", msg.id)))
    }
}

/// Cancel a task that has not started.
#[derive(Message)]
#[rtype(result = "Result<(), Error>")]
pub struct Cancel {
    pub operation: Operation,
    pub id: String,
    pub username: String,
}

impl Handler<Cancel> for MaintenanceScheduler {
    type Result = ResponseActFuture<Self, Result<(), Error>>;

    fn handle(&mut self, msg: Cancel, _: &mut Self::Context) -> Self::Result {
        let checked = match self.tasks.get_mut(&msg.id) {
            Some(task) if task.operation == msg.operation && task.status != Status::Canceled => {
                match task.status {
                    Status::Doing => Err(Error::Conflict(format!(
                        "Task '{}' is running ({}): a started operation cannot be cancelled.",
                        msg.id,
                        task.describe()
                    ))),
                    Status::Done | Status::Failed => Err(Error::Conflict(format!(
                        "Task '{}' has already run (status {}): there is nothing to cancel.",
                        msg.id,
                        task.status.as_str()
                    ))),
                    _ => {
                        // Marked at once, so that no tick starts it while the
                        // change is written.
                        let before = task.clone();
                        task.status = Status::Canceled;
                        task.finished = Some(now());
                        let canceled = task.clone();
                        self.pending.remove(&msg.id);
                        Ok((before, canceled))
                    }
                }
            }
            _ => Err(Error::NotFound(format!(
                "{} task '{}' not found.",
                msg.operation.sql_name(),
                msg.id
            ))),
        };
        let (before, canceled) = match checked {
            Ok(pair) => pair,
            Err(err) => return Box::pin(actix::fut::ready(Err(err))),
        };
        let save = self.store.send(SaveTask(canceled.clone()));
        Box::pin(
            async move { save.await.map_err(Error::from).and_then(|r| r) }
                .into_actor(self)
                .map(move |saved, act, _| {
                    if let Err(err) = saved {
                        act.insert_task(before);
                        return Err(err);
                    }
                    slog::info!(act.log, "maintenance operation cancelled";
                        "task" => &canceled.id, "operation" => canceled.describe(),
                        "cancelled_by" => &msg.username);
                    act.notify(
                        &msg.username,
                        format!("{} cancelled (task {})", canceled.describe(), canceled.id),
                    );
                    Ok(())
                }),
        )
    }
}
