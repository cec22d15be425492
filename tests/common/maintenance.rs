//! Helpers of the maintenance tests (`tests/api_maintenance*.rs`), written once: a
//! database per test on the shared cluster, objects with hostile names, the chapter's
//! pages, scheduling a task and waiting for its status, a lock held from psql so that
//! an operation stays running, and the audit trail. They only drive the public API
//! and psql; what they assert holds for every test that calls them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

use super::{wait_until, Agent, AgentSetup, PgCluster, Request, Response};

/// A time far enough ahead that a task scheduled for it never runs during a test.
pub const LATER: &str = "2099-01-01T00:00:00Z";

/// A database name unique to this test run.
pub fn unique_db(tag: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "m8_{tag}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn create_db(pg: &PgCluster, tag: &str) -> String {
    let db = unique_db(tag);
    pg.psql("postgres", &format!("CREATE DATABASE {db}"));
    db
}

/// A new database with the objects `sql` creates.
pub fn create_db_with(pg: &PgCluster, tag: &str, sql: &str) -> String {
    let db = create_db(pg, tag);
    pg.psql(&db, sql);
    db
}

/// SQL creating empty tables `(id int)`.
pub fn tables(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("CREATE TABLE {name} (id int);"))
        .collect()
}

/// `tables` that autovacuum leaves alone: what the agent shows of them is what the
/// test did.
pub fn quiet_tables(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("CREATE TABLE {name} (id int) WITH (autovacuum_enabled = false);"))
        .collect()
}

/// A new database with a table `victim` that hostile names try to drop.
pub fn create_db_with_victim(pg: &PgCluster, tag: &str) -> String {
    create_db_with(pg, tag, "CREATE TABLE victim (id int)")
}

pub fn assert_victim_intact(pg: &PgCluster, db: &str) {
    assert_eq!(int(pg, db, "SELECT count(*) FROM victim"), 0);
}

/// A quoted identifier, to create objects with hostile names from the test.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A path segment: every byte but unreserved ones percent-encoded.
pub fn enc(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path of a table of schema `public`.
pub fn table_path(db: &str, table: &str) -> String {
    format!("/maintenance/{db}/schema/public/table/{table}")
}

pub fn int(pg: &PgCluster, db: &str, sql: &str) -> i64 {
    let out = pg.psql(db, sql);
    out.parse()
        .unwrap_or_else(|e| panic!("{sql}: {out:?} is not an integer: {e}"))
}

pub fn get_ok(agent: &Agent, path: &str, session: &str) -> Value {
    let res = agent.get_as(path, session);
    assert_eq!(res.status, 200, "GET {path}: {}", res.text());
    res.json()
}

/// GET `path` until `ready` holds of the answer (10 s at most), and the last answer.
/// PostgreSQL 13 and 14 send statistics to their collector asynchronously: a VACUUM
/// that is done shows in pg_stat_user_tables a moment later (at once from 15 on).
pub fn get_when(agent: &Agent, path: &str, session: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    wait_until(
        Duration::from_secs(10),
        &format!("GET {path} to show the statistics"),
        || {
            last = get_ok(agent, path, session);
            ready(&last)
        },
    );
    last
}

pub fn vacuumed_and_analyzed(table: &Value) -> bool {
    table["last_vacuum"].is_string() && table["last_analyze"].is_string()
}

/// The table page at `path` once it shows an ANALYZE.
pub fn wait_analyzed(agent: &Agent, session: &str, path: &str) -> Value {
    let t = get_when(agent, path, session, |t| t["last_analyze"].is_string());
    assert!(t["last_analyze"].is_string(), "{t}");
    t
}

/// The table page at `path` once it shows a VACUUM and an ANALYZE.
pub fn wait_vacuumed_and_analyzed(agent: &Agent, session: &str, path: &str) -> Value {
    let t = get_when(agent, path, session, vacuumed_and_analyzed);
    assert!(vacuumed_and_analyzed(&t), "{t}");
    t
}

/// The `name` of every row of a list of the chapter's pages (tables, indexes).
pub fn names(rows: &Value) -> Vec<&str> {
    rows.as_array()
        .unwrap_or_else(|| panic!("not a list: {rows}"))
        .iter()
        .map(|row| row["name"].as_str().unwrap())
        .collect()
}

/// The row of `rows` whose `key` is `value`.
pub fn row_where<'a>(rows: &'a Value, key: &str, value: &str) -> &'a Value {
    rows.as_array()
        .unwrap_or_else(|| panic!("not a list: {rows}"))
        .iter()
        .find(|row| row[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {rows}"))
}

/// A table with a primary key, a TOASTed row and no autovacuum (its size must not
/// move under the test's feet), vacuumed and analyzed so that its forks exist.
pub fn sized_table(pg: &PgCluster, db: &str, schema: &str, table: &str) {
    let qualified = format!("{}.{}", ident(schema), ident(table));
    if schema != "public" {
        pg.psql(
            db,
            &format!("CREATE SCHEMA IF NOT EXISTS {}", ident(schema)),
        );
    }
    pg.psql(
        db,
        &format!(
            "CREATE TABLE {qualified} (id int PRIMARY KEY, payload text) \
             WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false);\
             INSERT INTO {qualified} SELECT g, repeat('x', 200) FROM generate_series(1, 3000) g;\
             INSERT INTO {qualified} SELECT 100000, string_agg(md5(g::text), '') \
             FROM generate_series(1, 400) g;"
        ),
    );
    pg.psql(db, &format!("VACUUM ANALYZE {qualified}"));
}

/// An agent whose operations wait up to a minute for a lock, so that a test can
/// hold one running while it looks.
pub fn patient_agent(pg: &PgCluster) -> Agent {
    Agent::start_with(
        pg,
        AgentSetup {
            extra: "[postgresql]\nlock_timeout = 60000\n\n[maintenance]\nmax_parallel = 2\n"
                .to_string(),
            ..AgentSetup::default()
        },
    )
}

/// POSTs an operation; answers the new task's id, checked to be the spec's
/// `{"id": "<8 lowercase hex digits>"}`.
pub fn schedule(agent: &Agent, session: &str, path: &str, body: Value) -> String {
    let res = agent.post_as(path, session, &body);
    assert_eq!(res.status, 200, "POST {path} {body}: {}", res.text());
    let json = res.json();
    let id = json["id"].as_str().unwrap().to_string();
    assert_eq!(json.as_object().unwrap().len(), 1, "{json}");
    assert!(
        id.len() == 8
            && id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{id}"
    );
    id
}

/// An agent with a user logged in, and the session.
pub fn logged_in(agent: Agent) -> (Agent, String) {
    let session = agent.login();
    (agent, session)
}

/// Starts a stopped agent again on its directory; answers a new session.
pub fn spawn_and_login(agent: &mut Agent) -> String {
    agent.spawn();
    agent.login()
}

/// Schedules the operation at `path` (its last segment names it) and waits up to
/// `secs` until it is done; answers the task's details.
pub fn run(agent: &Agent, session: &str, path: &str, body: Value, secs: u64) -> Value {
    let op = path.rsplit('/').next().unwrap();
    let id = schedule(agent, session, path, body);
    wait_status(agent, session, op, &id, "done", secs)
}

/// `run` with an empty body: now, without options.
pub fn run_now(agent: &Agent, session: &str, path: &str, secs: u64) -> Value {
    run(agent, session, path, json!({}), secs)
}

/// `schedule` with an empty body: the operation runs now.
pub fn schedule_now(agent: &Agent, session: &str, path: &str) -> String {
    schedule(agent, session, path, json!({}))
}

/// `DELETE /maintenance/<op>/<id>`: cancels a task.
pub fn cancel(agent: &Agent, session: &str, op: &str, id: &str) -> Response {
    agent.send(Request::new("DELETE", &format!("/maintenance/{op}/{id}")).session(session))
}

pub fn list(agent: &Agent, session: &str, path: &str) -> Vec<Value> {
    get_ok(agent, path, session)
        .as_array()
        .unwrap_or_else(|| panic!("{path} answers a list"))
        .clone()
}

/// The task with its details (`GET /maintenance/tasks/<id>`), None once forgotten.
pub fn task(agent: &Agent, session: &str, op: &str, id: &str) -> Option<Value> {
    let res = agent.get_as(&format!("/maintenance/tasks/{id}"), session);
    if res.status == 404 {
        return None;
    }
    assert_eq!(res.status, 200, "task {id}: {}", res.text());
    let task = res.json();
    assert_eq!(task["operation"], op, "{task}");
    Some(task)
}

/// The status of a task that must still be known.
pub fn status_of(agent: &Agent, session: &str, op: &str, id: &str) -> Value {
    let task = task(agent, session, op, id).unwrap_or_else(|| panic!("task {id} known"));
    task["status"].clone()
}

pub fn wait_status(
    agent: &Agent,
    session: &str,
    op: &str,
    id: &str,
    status: &str,
    secs: u64,
) -> Value {
    let mut last = None;
    wait_until(
        Duration::from_secs(secs),
        &format!("task {id} {status}"),
        || {
            last = task(agent, session, op, id);
            last.as_ref().is_some_and(|t| t["status"] == status)
        },
    );
    last.unwrap()
}

pub fn in_seconds(secs: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::seconds(secs))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Sessions of an agent waiting for a lock in `db`.
pub fn lock_waiters(pg: &PgCluster, db: &str) -> usize {
    pg.psql(
        db,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' \
             AND application_name = 'temboard-agent' AND wait_event_type = 'Lock'"
        ),
    )
    .parse()
    .unwrap()
}

/// Waits until `n` sessions of an agent wait for a lock in `db`: once an
/// operation's statement is sent, its `doing` status is on disk (written first).
pub fn wait_lock_waiters(pg: &PgCluster, db: &str, n: usize) {
    wait_until(
        Duration::from_secs(20),
        "the agent's statement waiting for the lock",
        || lock_waiters(pg, db) >= n,
    );
}

/// A psql session holding an ACCESS EXCLUSIVE lock on a table until released
/// (or dropped). Releasing also terminates its backend: PostgreSQL 13 has no
/// client_connection_check_interval, so a backend whose psql was killed would
/// keep the lock until its pg_sleep() ends.
pub struct LockHolder<'a> {
    pg: &'a PgCluster,
    db: String,
    child: std::process::Child,
    pid: String,
}

impl LockHolder<'_> {
    pub fn release(self) {}
}

impl Drop for LockHolder<'_> {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        let _ = self.pg.try_psql(
            &self.db,
            &format!("SELECT pg_terminate_backend({})", self.pid),
        );
    }
}

pub fn hold_lock<'a>(pg: &'a PgCluster, db: &str, table: &str) -> LockHolder<'a> {
    let child = pg.spawn_psql(
        db,
        &format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);"),
    );
    let mut pid = String::new();
    wait_until(Duration::from_secs(20), "the test's lock", || {
        pid = pg.psql(
            db,
            &format!(
                "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                 WHERE c.relname = '{table}' AND l.mode = 'AccessExclusiveLock' AND l.granted"
            ),
        );
        !pid.is_empty()
    });
    LockHolder {
        pg,
        db: db.to_string(),
        child,
        pid,
    }
}

pub fn notifications(agent: &Agent, session: &str) -> Vec<Value> {
    list(agent, session, "/notifications")
}

/// Waits (10 s at most) until the notification log holds `message` by `username`.
pub fn wait_notification(agent: &Agent, session: &str, username: &str, message: &str) {
    wait_until(
        Duration::from_secs(10),
        &format!("the notification {message:?} by {username}"),
        || {
            notifications(agent, session)
                .iter()
                .any(|n| n["username"] == username && n["message"] == message)
        },
    );
}
