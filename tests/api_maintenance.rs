//! The maintenance chapter, black-box: sizes and bloat pages checked against
//! PostgreSQL's own functions, VACUUM / ANALYZE / REINDEX run now, at a time and on a
//! cron schedule, the scheduled lists, cancellation, durability across restarts and
//! `kill -9`, and hostile object names. Each test creates its own database(s) on the
//! shared cluster, so the tests run in parallel.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::*;

/// A database name unique to this test run.
fn unique_db(tag: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "m8_{tag}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

fn create_db(pg: &PgCluster, tag: &str) -> String {
    let db = unique_db(tag);
    pg.psql("postgres", &format!("CREATE DATABASE {db}"));
    db
}

/// A quoted identifier, to create objects with hostile names from the test.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A path segment: every byte but unreserved ones percent-encoded.
fn enc(name: &str) -> String {
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

fn int(pg: &PgCluster, db: &str, sql: &str) -> i64 {
    let out = pg.psql(db, sql);
    out.parse()
        .unwrap_or_else(|e| panic!("{sql}: {out:?} is not an integer: {e}"))
}

fn get_ok(agent: &Agent, path: &str, session: &str) -> Value {
    let res = agent.get_as(path, session);
    assert_eq!(res.status, 200, "GET {path}: {}", res.text());
    res.json()
}

/// GET `path` until `ready` holds of the answer (10 s at most), and the last answer.
/// PostgreSQL 13 and 14 send statistics to their collector asynchronously: a VACUUM
/// that is done shows in pg_stat_user_tables a moment later (at once from 15 on).
fn get_when(agent: &Agent, path: &str, session: &str, ready: impl Fn(&Value) -> bool) -> Value {
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

/// A table with a primary key, a TOASTed row and no autovacuum (its size must not
/// move under the test's feet), vacuumed and analyzed so that its forks exist.
fn sized_table(pg: &PgCluster, db: &str, schema: &str, table: &str) {
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

#[test]
fn sizes_match_postgresql_at_every_level() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "sizes");
    sized_table(pg, &db, "public", "sized");
    let agent = Agent::start(pg);
    let session = agent.login();

    let total = int(pg, &db, "SELECT pg_total_relation_size('sized')");
    let index = int(pg, &db, "SELECT pg_indexes_size('sized')");
    let toast = int(
        pg,
        &db,
        "SELECT pg_total_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'sized'",
    );
    let pkey = int(pg, &db, "SELECT pg_relation_size('sized_pkey')");
    let reltuples: f64 = pg
        .psql(
            &db,
            "SELECT reltuples FROM pg_class WHERE relname = 'sized'",
        )
        .parse()
        .unwrap();
    let db_size = int(pg, &db, "SELECT pg_database_size(current_database())");
    assert!(toast > 8192, "the test table has TOAST data");

    // The table page.
    let t = get_when(
        &agent,
        &format!("/maintenance/{db}/schema/public/table/sized"),
        &session,
        |t| t["last_vacuum"].is_string() && t["last_analyze"].is_string() && t["n_tup_ins"] == 3001,
    );
    assert_eq!(t["total_bytes"], total, "{t}");
    assert_eq!(t["index_bytes"], index);
    assert_eq!(t["toast_bytes"], toast);
    assert_eq!(t["table_bytes"], total - index - toast);
    assert_eq!(
        t["table_bytes"],
        int(pg, &db, "SELECT pg_table_size('sized')") - toast
    );
    assert_eq!(t["row_estimate"].as_f64(), Some(reltuples));
    assert_eq!(reltuples, 3001.0);
    assert_eq!(t["name"], "sized");
    assert_eq!(t["relname"], "sized");
    assert_eq!(t["schemaname"], "public");
    assert_eq!(t["fillfactor"], 100);
    assert_eq!(t["n_live_tup"], 3001);
    assert_eq!(t["n_tup_ins"], 3001);
    assert!(t["relid"].is_string());
    assert!(t["last_analyze"].is_string(), "{t}");
    assert!(t["last_vacuum"].is_string());
    assert!(t["last_autovacuum"].is_null());
    assert!(t["bloat_bytes"].is_f64());
    assert!(t["bloat_size"].is_string());
    assert_eq!(
        t["total_size"],
        pg.psql(
            &db,
            "SELECT pg_size_pretty(pg_total_relation_size('sized'))"
        )
    );
    let idx = &t["indexes"][0];
    assert_eq!(idx["name"], "sized_pkey");
    assert_eq!(idx["indexrelname"], "sized_pkey");
    assert_eq!(idx["tablename"], "sized");
    assert_eq!(idx["total_bytes"], pkey);
    assert_eq!(idx["type"], "btree");
    assert_eq!(idx["indisunique"], true);
    assert_eq!(idx["number_of_columns"], 1);
    assert!(idx["tablespace"].is_null());
    assert_eq!(
        idx["def"],
        "CREATE UNIQUE INDEX sized_pkey ON public.sized USING btree (id)"
    );
    let keys: Vec<&str> = t.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    for key in [
        "analyze_count",
        "autoanalyze_count",
        "autovacuum_count",
        "idx_scan",
        "idx_tup_fetch",
        "n_dead_tup",
        "n_mod_since_analyze",
        "n_tup_del",
        "n_tup_hot_upd",
        "n_tup_upd",
        "seq_scan",
        "seq_tup_read",
        "vacuum_count",
        "index_bloat_bytes",
        "index_bloat_size",
        "index_size",
        "table_size",
        "toast_size",
        "last_autoanalyze",
    ] {
        assert!(keys.contains(&key), "missing {key} in {t}");
    }

    // The schema page.
    let s = get_ok(
        &agent,
        &format!("/maintenance/{db}/schema/public"),
        &session,
    );
    let row = &s["tables"][0];
    assert_eq!(s["tables"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(row["name"], "sized");
    assert_eq!(row["total_bytes"], total);
    assert_eq!(row["index_bytes"], index);
    assert_eq!(row["toast_bytes"], toast);
    assert_eq!(row["n_indexes"], 1);
    assert!(row["row_estimate"].is_f64());
    assert_eq!(s["total_bytes"], total);
    assert!(s["size"].is_string());
    assert_eq!(s["indexes"][0]["name"], "sized_pkey");
    assert_eq!(s["indexes"][0]["total_bytes"], pkey);

    // The database page.
    let d = get_ok(&agent, &format!("/maintenance/{db}"), &session);
    assert_eq!(d["total_bytes"], db_size);
    let public = d["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "public")
        .expect("public schema listed");
    assert_eq!(public["n_tables"], 1);
    assert_eq!(public["n_indexes"], 1);
    assert_eq!(public["total_bytes"], total);
    assert_eq!(public["tables_bytes"], total - index - toast);
    assert_eq!(public["indexes_bytes"], index);
    assert_eq!(public["toast_bytes"].as_f64(), Some(toast as f64));
    assert!(public["toast_bytes"].is_f64());
    let catalog = d["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "pg_catalog")
        .expect("pg_catalog listed");
    assert!(catalog["n_tables"].as_i64().unwrap() > 50);

    // The instance page.
    let i = get_ok(&agent, "/maintenance", &session);
    let mine = i["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["datname"] == db.as_str())
        .unwrap_or_else(|| panic!("{db} in {i}"));
    assert_eq!(mine["total_bytes"], db_size);
    assert!(mine["n_tables"].is_f64());
    assert!(mine["tables_bloat_bytes"].is_f64());
    let sum: i64 = i["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["total_bytes"].as_i64().unwrap())
        .sum();
    assert_eq!(i["instance"]["total_bytes"].as_f64(), Some(sum as f64));

    // The agent key is enough.
    let res = agent.get(&format!("/maintenance/{db}?key={KEY}"));
    assert_eq!(res.status, 200, "{}", res.text());
    // Nothing at all is not.
    assert_eq!(agent.get(&format!("/maintenance/{db}")).status, 406);
}

#[test]
fn bloat_is_estimated_from_statistics() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "bloat");
    pg.psql(
        &db,
        "CREATE TABLE b (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false);\
         INSERT INTO b SELECT g, repeat('y', 100) FROM generate_series(1, 20000) g;\
         DELETE FROM b WHERE id % 4 <> 0;",
    );
    pg.psql(&db, "VACUUM ANALYZE b");
    let agent = Agent::start(pg);
    let session = agent.login();
    let t = get_ok(
        &agent,
        &format!("/maintenance/{db}/schema/public/table/b"),
        &session,
    );
    let bloat = t["bloat_bytes"].as_f64().unwrap();
    let table = t["table_bytes"].as_i64().unwrap() as f64;
    // Three rows in four are dead space: the estimate sees most of it.
    assert!(
        bloat > table * 0.5 && bloat < table,
        "{bloat} of {table}: {t}"
    );
    assert!(t["index_bloat_bytes"].as_f64().unwrap() > 0.0, "{t}");
    let s = get_ok(
        &agent,
        &format!("/maintenance/{db}/schema/public"),
        &session,
    );
    assert_eq!(s["tables"][0]["bloat_bytes"].as_f64(), Some(bloat));
}

#[test]
fn unknown_objects_answer_404_naming_them() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "unknown");
    pg.psql(&db, "CREATE TABLE present (id int)");
    let agent = Agent::start(pg);
    let session = agent.login();
    let cases = [
        ("/maintenance/no_such_db_m8".to_string(), "no_such_db_m8"),
        (
            "/maintenance/no_such_db_m8/schema/public".to_string(),
            "no_such_db_m8",
        ),
        (
            format!("/maintenance/{db}/schema/nope_schema"),
            "nope_schema",
        ),
        (
            format!("/maintenance/{db}/schema/nope_schema/table/present"),
            "nope_schema",
        ),
        (
            format!("/maintenance/{db}/schema/public/table/nope_table"),
            "nope_table",
        ),
    ];
    for (path, name) in cases {
        let res = agent.get_as(&path, &session);
        assert_eq!(res.status, 404, "{path}: {}", res.text());
        assert!(res.error().contains(name), "{path}: {}", res.error());
    }
    // A bad page parameter is the client's mistake.
    let res = agent.get_as(
        &format!("/maintenance/{db}/schema/public?limit=x"),
        &session,
    );
    assert_eq!(res.status, 406);
    assert_eq!(res.error(), "Parameter 'limit' is malformed.");
    let res = agent.get_as(
        &format!("/maintenance/{db}/schema/public?offset=-1"),
        &session,
    );
    assert_eq!(res.status, 406);
}

#[test]
fn hostile_names_are_browsed_as_names() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "names");
    let schema = "we ird\"sch.ema";
    let table = "x; DROP TABLE victim; --";
    let unicode = "tablé ünïcødé/ß";
    pg.psql(&db, "CREATE TABLE victim (id int)");
    sized_table(pg, &db, schema, table);
    sized_table(pg, &db, schema, unicode);
    let agent = Agent::start(pg);
    let session = agent.login();

    let s = get_ok(
        &agent,
        &format!("/maintenance/{db}/schema/{}", enc(schema)),
        &session,
    );
    let mut names: Vec<&str> = s["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, [unicode, table], "{s}");
    for name in [table, unicode] {
        let t = get_ok(
            &agent,
            &format!(
                "/maintenance/{db}/schema/{}/table/{}",
                enc(schema),
                enc(name)
            ),
            &session,
        );
        assert_eq!(t["name"], name);
        assert_eq!(t["schemaname"], schema);
        assert_eq!(t["n_live_tup"], 3001);
    }
    assert_eq!(int(pg, &db, "SELECT count(*) FROM victim"), 0);
}

#[test]
fn a_schema_with_ten_thousand_tables_answers_and_pages() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "many");
    // Committed in batches: one transaction would need a lock per table.
    pg.psql(&db, "CREATE SCHEMA s");
    pg.psql(
        &db,
        "DO $$ BEGIN FOR i IN 1..10000 LOOP \
           EXECUTE format('CREATE TABLE s.t%s (id int%s)', lpad(i::text, 5, '0'), \
                          CASE WHEN i % 10 = 0 THEN ' PRIMARY KEY' ELSE '' END); \
           IF i % 1000 = 0 THEN COMMIT; END IF; \
         END LOOP; END $$;",
    );
    let agent = Agent::start(pg);
    let session = agent.login();

    let started = Instant::now();
    let s = get_ok(&agent, &format!("/maintenance/{db}/schema/s"), &session);
    let elapsed = started.elapsed();
    assert_eq!(s["tables"].as_array().unwrap().len(), 10000);
    assert_eq!(s["indexes"].as_array().unwrap().len(), 1000);
    assert_eq!(s["tables"][0]["name"], "t00001");
    eprintln!("10,000 tables answered in {elapsed:?}");

    let p = get_ok(
        &agent,
        &format!("/maintenance/{db}/schema/s?limit=100&offset=9950"),
        &session,
    );
    let names: Vec<&str> = p["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 50);
    assert_eq!(names[0], "t09951");
    assert_eq!(names[49], "t10000");
    assert_eq!(p["indexes"].as_array().unwrap().len(), 5);
    // The schema's total is the whole schema's, whatever the page.
    assert_eq!(p["total_bytes"], s["total_bytes"]);

    let d = get_ok(&agent, &format!("/maintenance/{db}"), &session);
    let row = d["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "s")
        .unwrap()
        .clone();
    assert_eq!(row["n_tables"], 10000);
    assert_eq!(row["n_indexes"], 1000);
}

// ------------------------------------------------------------------ operations

/// An agent whose operations wait up to a minute for a lock, so that a test can
/// hold one running while it looks.
fn patient_agent(pg: &PgCluster) -> Agent {
    Agent::start_with(
        pg,
        AgentSetup {
            extra: "[postgresql]\nlock_timeout = 60000\n\n[maintenance]\nmax_parallel = 2\n"
                .to_string(),
            ..AgentSetup::default()
        },
    )
}

fn schedule(agent: &Agent, session: &str, path: &str, body: Value) -> String {
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

fn list(agent: &Agent, session: &str, path: &str) -> Vec<Value> {
    get_ok(agent, path, session)
        .as_array()
        .unwrap_or_else(|| panic!("{path} answers a list"))
        .clone()
}

/// The task with its details (`GET /maintenance/tasks/<id>`), None once forgotten.
fn task(agent: &Agent, session: &str, op: &str, id: &str) -> Option<Value> {
    let res = agent.get_as(&format!("/maintenance/tasks/{id}"), session);
    if res.status == 404 {
        return None;
    }
    assert_eq!(res.status, 200, "task {id}: {}", res.text());
    let task = res.json();
    assert_eq!(task["operation"], op, "{task}");
    Some(task)
}

fn wait_status(agent: &Agent, session: &str, op: &str, id: &str, status: &str, secs: u64) -> Value {
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

fn in_seconds(secs: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::seconds(secs))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Sessions of an agent waiting for a lock in `db`.
fn lock_waiters(pg: &PgCluster, db: &str) -> usize {
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
fn wait_lock_waiters(pg: &PgCluster, db: &str, n: usize) {
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
struct LockHolder<'a> {
    pg: &'a PgCluster,
    db: String,
    child: std::process::Child,
    pid: String,
}

impl LockHolder<'_> {
    fn release(self) {}
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

fn hold_lock<'a>(pg: &'a PgCluster, db: &str, table: &str) -> LockHolder<'a> {
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

fn notifications(agent: &Agent, session: &str) -> Vec<Value> {
    list(agent, session, "/notifications")
}

#[test]
fn immediate_vacuum_analyze_and_analyze_update_statistics() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "vacnow");
    pg.psql(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false);\
         INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5000) g;\
         CREATE TABLE a (id int) WITH (autovacuum_enabled = false);\
         INSERT INTO a SELECT generate_series(1, 4321);",
    );
    let agent = Agent::start(pg);
    let session = agent.login();
    let path = format!("/maintenance/{db}/schema/public/table/t");
    let before = get_ok(&agent, &path, &session);
    assert!(before["last_vacuum"].is_null() && before["last_analyze"].is_null());

    let id = schedule(
        &agent,
        &session,
        &format!("{path}/vacuum"),
        json!({ "mode": "analyze" }),
    );
    let done = wait_status(&agent, &session, "vacuum", &id, "done", 60);
    assert_eq!(done["dbname"], db.as_str());
    assert_eq!(done["schema"], "public");
    assert_eq!(done["table"], "t");
    assert!(done["index"].is_null());
    assert_eq!(done["mode"], "analyze");
    assert!(done["cron"].is_null());
    assert!(done["error"].is_null());
    assert!(done["started"].is_string() && done["finished"].is_string());
    let after = get_when(&agent, &path, &session, |t| {
        t["last_vacuum"].is_string() && t["last_analyze"].is_string()
    });
    assert!(after["last_vacuum"].is_string(), "{after}");
    assert!(after["last_analyze"].is_string(), "{after}");
    assert_eq!(after["vacuum_count"], 1);
    assert_eq!(after["analyze_count"], 1);

    // ANALYZE alone: row_estimate then matches the table.
    let apath = format!("/maintenance/{db}/schema/public/table/a");
    assert_eq!(
        get_ok(&agent, &apath, &session)["row_estimate"].as_f64(),
        Some(0.0)
    );
    let id = schedule(&agent, &session, &format!("{apath}/analyze"), json!({}));
    let done = wait_status(&agent, &session, "analyze", &id, "done", 60);
    assert!(done["mode"].is_null());
    let a = get_when(&agent, &apath, &session, |t| t["last_analyze"].is_string());
    assert_eq!(a["row_estimate"].as_f64(), Some(4321.0));
    assert_eq!(
        a["row_estimate"].as_f64().unwrap().to_string(),
        pg.psql(&db, "SELECT reltuples FROM pg_class WHERE relname = 'a'")
    );
    assert!(a["last_analyze"].is_string());

    // The database-level lists hold the table-level tasks; another database's do not.
    let in_db = list(
        &agent,
        &session,
        &format!("/maintenance/{db}/analyze/scheduled"),
    );
    assert!(in_db.iter().any(|t| t["id"] == id));
    assert!(
        list(&agent, &session, "/maintenance/postgres/analyze/scheduled")
            .iter()
            .all(|t| t["id"] != id)
    );
    let in_table = list(&agent, &session, &format!("{apath}/analyze/scheduled"));
    assert_eq!(in_table.len(), 1);
    assert!(list(&agent, &session, &format!("{path}/analyze/scheduled")).is_empty());

    // The audit trail names the user.
    wait_until(Duration::from_secs(10), "notifications", || {
        let n = notifications(&agent, &session);
        let mine: Vec<&Value> = n
            .iter()
            .filter(|n| {
                n["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("(task {id})"))
            })
            .collect();
        mine.len() == 3 && mine.iter().all(|n| n["username"] == USER)
    });
    let messages: Vec<String> = notifications(&agent, &session)
        .iter()
        .map(|n| n["message"].as_str().unwrap().to_string())
        .collect();
    let expected = format!("ANALYZE on table \"public\".\"a\" of database \"{db}\"");
    for what in ["requested now", "started", "done in"] {
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with(&expected) && m.contains(what)),
            "{what}: {messages:?}"
        );
    }
}

#[test]
fn vacuum_full_shrinks_a_bloated_table_and_reindex_works() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "full");
    pg.psql(
        &db,
        "CREATE TABLE big (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false);\
         INSERT INTO big SELECT g, repeat('z', 200) FROM generate_series(1, 20000) g;\
         DELETE FROM big WHERE id % 10 <> 0;\
         CREATE INDEX big_v ON big (v);",
    );
    let agent = Agent::start(pg);
    let session = agent.login();
    let size = || int(pg, &db, "SELECT pg_relation_size('big')");
    let before = size();
    // A transaction of a parallel test may keep the deleted rows visible for a
    // moment (they are copied as recently dead): run it again until it shrinks.
    let mut after = before;
    wait_until(
        Duration::from_secs(120),
        "VACUUM FULL to shrink the table",
        || {
            let id = schedule(
                &agent,
                &session,
                &format!("/maintenance/{db}/schema/public/table/big/vacuum"),
                json!({ "mode": "full" }),
            );
            let done = wait_status(&agent, &session, "vacuum", &id, "done", 120);
            assert_eq!(done["mode"], "full");
            after = size();
            after * 4 < before
        },
    );
    assert!(after * 4 < before, "VACUUM FULL: {before} -> {after}");

    // REINDEX of an index, of a table and of the database each rebuild.
    let node = |rel: &str| {
        pg.psql(
            &db,
            &format!("SELECT relfilenode FROM pg_class WHERE relname = '{rel}'"),
        )
    };
    let v0 = node("big_v");
    let id = schedule(
        &agent,
        &session,
        &format!("/maintenance/{db}/schema/public/index/big_v/reindex"),
        json!({}),
    );
    let done = wait_status(&agent, &session, "reindex", &id, "done", 60);
    assert_eq!(done["index"], "big_v");
    assert!(done["table"].is_null());
    assert_eq!(done["schema"], "public");
    let v1 = node("big_v");
    assert_ne!(v0, v1);
    let p0 = node("big_pkey");
    let id = schedule(
        &agent,
        &session,
        &format!("/maintenance/{db}/schema/public/table/big/reindex"),
        json!({}),
    );
    wait_status(&agent, &session, "reindex", &id, "done", 60);
    assert_ne!(node("big_pkey"), p0);
    assert_ne!(node("big_v"), v1);
    let id = schedule(
        &agent,
        &session,
        &format!("/maintenance/{db}/reindex"),
        json!({}),
    );
    let done = wait_status(&agent, &session, "reindex", &id, "done", 120);
    assert!(done["schema"].is_null() && done["table"].is_null() && done["index"].is_null());
    // Schema lists leave the database-wide REINDEX out; the table alias does too.
    let schema_list = list(
        &agent,
        &session,
        &format!("/maintenance/{db}/schema/public/reindex/scheduled"),
    );
    assert_eq!(schema_list.len(), 2, "{schema_list:?}");
    let alias = list(
        &agent,
        &session,
        &format!("/maintenance/{db}/schema/public/table/nothing/reindex/scheduled"),
    );
    assert_eq!(alias, schema_list);
    assert_eq!(
        list(
            &agent,
            &session,
            &format!("/maintenance/{db}/reindex/scheduled")
        )
        .len(),
        3
    );
    // A database-wide VACUUM too.
    let id = schedule(
        &agent,
        &session,
        &format!("/maintenance/{db}/vacuum"),
        json!({"mode": "freeze,analyze"}),
    );
    let done = wait_status(&agent, &session, "vacuum", &id, "done", 120);
    assert_eq!(done["mode"], "freeze,analyze");
}

#[test]
fn a_task_scheduled_ahead_runs_at_its_time() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "later");
    pg.psql(
        &db,
        "CREATE TABLE t (id int) WITH (autovacuum_enabled = false); INSERT INTO t VALUES (1);",
    );
    let agent = Agent::start(pg);
    let session = agent.login();
    let at = in_seconds(4);
    let id = schedule(
        &agent,
        &session,
        &format!("/maintenance/{db}/schema/public/table/t/analyze"),
        json!({ "datetime": at }),
    );
    let t = task(&agent, &session, "analyze", &id).unwrap();
    assert_eq!(t["status"], "todo");
    assert_eq!(t["datetime"], at.as_str());
    assert!(t["started"].is_null());
    let done = wait_status(&agent, &session, "analyze", &id, "done", 30);
    let started = done["started"].as_str().unwrap();
    // Same format: string order is time order.
    assert!(started >= at.as_str(), "started {started} before {at}");
    assert!(
        started <= in_seconds(0).as_str(),
        "started {started} in the future"
    );
    let late = chrono::DateTime::parse_from_rfc3339(started).unwrap()
        - chrono::DateTime::parse_from_rfc3339(&at).unwrap();
    assert!(late.num_seconds() <= 2, "started {late} late");
    let t = get_when(
        &agent,
        &format!("/maintenance/{db}/schema/public/table/t"),
        &session,
        |t| t["last_analyze"].is_string(),
    );
    assert!(t["last_analyze"].is_string());
}

#[test]
fn scheduled_tasks_survive_a_restart_and_kill_9() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "durable");
    pg.psql(
        &db,
        "CREATE TABLE t (id int) WITH (autovacuum_enabled = false);\
         CREATE TABLE u (id int) WITH (autovacuum_enabled = false);\
         CREATE TABLE l (id int) WITH (autovacuum_enabled = false);",
    );
    let mut agent = patient_agent(pg);
    let session = agent.login();
    let table = |t: &str| format!("/maintenance/{db}/schema/public/table/{t}");
    let first = schedule(
        &agent,
        &session,
        &format!("{}/analyze", table("t")),
        json!({ "datetime": in_seconds(20) }),
    );
    let second = schedule(
        &agent,
        &session,
        &format!("{}/vacuum", table("u")),
        json!({ "datetime": in_seconds(25), "mode": "analyze" }),
    );
    // A running task when the agent dies.
    let lock = hold_lock(pg, &db, "l");
    let running = schedule(
        &agent,
        &session,
        &format!("{}/vacuum", table("l")),
        json!({}),
    );
    wait_status(&agent, &session, "vacuum", &running, "doing", 20);
    wait_lock_waiters(pg, &db, 1);

    // A clean restart: the tasks are still there.
    let status = agent.terminate();
    assert!(status.success(), "{status:?}");
    agent.spawn();
    let session = agent.login();
    assert_eq!(
        task(&agent, &session, "analyze", &first).unwrap()["status"],
        "todo"
    );
    // The clean stop cut the running VACUUM too.
    let cut = task(&agent, &session, "vacuum", &running).unwrap();
    assert_eq!(cut["status"], "failed", "{cut}\n{}", agent.log());
    assert!(
        cut["error"].as_str().unwrap().contains("agent stopped"),
        "{cut}"
    );

    // Once more, running, then kill -9. (The first agent's statement may still
    // wait: the server notices a client gone only when it answers.)
    let waiting = lock_waiters(pg, &db);
    let running = schedule(
        &agent,
        &session,
        &format!("{}/vacuum", table("l")),
        json!({}),
    );
    wait_status(&agent, &session, "vacuum", &running, "doing", 20);
    wait_lock_waiters(pg, &db, waiting + 1);
    agent.kill9();
    lock.release();
    agent.spawn();
    let session = agent.login();
    let cut = task(&agent, &session, "vacuum", &running).unwrap();
    assert_eq!(cut["status"], "failed", "{cut}\n{}", agent.log());
    assert!(
        cut["error"].as_str().unwrap().contains("agent stopped"),
        "{cut}"
    );
    assert!(agent.log().contains("maintenance operation interrupted"));

    // The tasks scheduled before both stops still run at their time.
    let done = wait_status(&agent, &session, "analyze", &first, "done", 60);
    assert_eq!(done["table"], "t");
    wait_status(&agent, &session, "vacuum", &second, "done", 60);
    let u = get_when(&agent, &table("u"), &session, |u| {
        u["last_vacuum"].is_string() && u["last_analyze"].is_string()
    });
    assert!(
        u["last_vacuum"].is_string() && u["last_analyze"].is_string(),
        "{u}"
    );
}

#[test]
fn a_task_due_while_the_agent_is_down_runs_when_it_is_back() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "overdue");
    pg.psql(
        &db,
        "CREATE TABLE t (id int) WITH (autovacuum_enabled = false)",
    );
    let mut agent = Agent::start(pg);
    let session = agent.login();
    let at = in_seconds(2);
    let id = schedule(
        &agent,
        &session,
        &format!("/maintenance/{db}/schema/public/table/t/analyze"),
        json!({ "datetime": at }),
    );
    agent.kill9();
    wait_until(Duration::from_secs(10), "the due time, agent down", || {
        in_seconds(0) > at
    });
    agent.spawn();
    let session = agent.login();
    wait_status(&agent, &session, "analyze", &id, "done", 30);
}

#[test]
fn cancel_before_start_and_refusals() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "cancel");
    pg.psql(&db, "CREATE TABLE t (id int); CREATE TABLE l (id int);");
    let agent = patient_agent(pg);
    let session = agent.login();
    let t = format!("/maintenance/{db}/schema/public/table/t");
    let id = schedule(
        &agent,
        &session,
        &format!("{t}/vacuum"),
        json!({ "datetime": "2099-01-01T00:00:00Z", "mode": "full" }),
    );
    let listed = list(&agent, &session, &format!("{t}/vacuum/scheduled"));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["datetime"], "2099-01-01T00:00:00Z");
    assert_eq!(listed[0]["mode"], "full");

    // Wrong operation, unknown and malformed ids.
    let delete = |path: &str| agent.send(Request::new("DELETE", path).session(&session));
    let res = delete(&format!("/maintenance/analyze/{id}"));
    assert_eq!(res.status, 404, "{}", res.text());
    assert!(res.error().contains(&id));
    assert_eq!(delete("/maintenance/vacuum/00000000").status, 404);
    for bad in ["XYZ", "0000000G", "0123456789", "ABCDEF01"] {
        let res = delete(&format!("/maintenance/vacuum/{bad}"));
        assert_eq!(res.status, 406, "{bad}: {}", res.text());
        assert_eq!(res.error(), "Parameter 'id' is malformed.");
    }

    let res = delete(&format!("/maintenance/vacuum/{id}"));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), json!({ "response": "ok" }));
    assert!(list(&agent, &session, &format!("{t}/vacuum/scheduled")).is_empty());
    // /maintenance/tasks still tells what became of it.
    let canceled = task(&agent, &session, "vacuum", &id).unwrap();
    assert_eq!(canceled["status"], "canceled", "{canceled}");
    assert!(canceled["finished"].is_string(), "{canceled}");
    assert_eq!(delete(&format!("/maintenance/vacuum/{id}")).status, 404);

    // A running task is not cancelled; a finished one neither.
    let lock = hold_lock(pg, &db, "l");
    let running = schedule(
        &agent,
        &session,
        &format!("/maintenance/{db}/schema/public/table/l/vacuum"),
        json!({}),
    );
    wait_status(&agent, &session, "vacuum", &running, "doing", 20);
    let res = delete(&format!("/maintenance/vacuum/{running}"));
    assert_eq!(res.status, 409, "{}", res.text());
    assert!(res.error().contains("running"), "{}", res.error());
    lock.release();
    wait_status(&agent, &session, "vacuum", &running, "done", 60);
    assert_eq!(
        delete(&format!("/maintenance/vacuum/{running}")).status,
        409
    );

    // With the agent key: the audit trail says `key`.
    let id = schedule(
        &agent,
        &session,
        &format!("{t}/analyze"),
        json!({ "datetime": "2099-01-01T00:00:00Z" }),
    );
    let res = agent.send(Request::new(
        "DELETE",
        &format!("/maintenance/analyze/{id}?key={KEY}"),
    ));
    assert_eq!(res.status, 200, "{}", res.text());
    wait_until(Duration::from_secs(10), "the cancel notification", || {
        notifications(&agent, &session).iter().any(|n| {
            n["username"] == "key"
                && n["message"] == format!("ANALYZE on table \"public\".\"t\" of database \"{db}\" cancelled (task {id})")
        })
    });
}

#[test]
fn bad_input_is_refused_and_unknown_objects_are_404() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "badinput");
    pg.psql(&db, "CREATE TABLE t (id int PRIMARY KEY)");
    let agent = Agent::start(pg);
    let session = agent.login();
    let vacuum = format!("/maintenance/{db}/schema/public/table/t/vacuum");
    for (body, parameter) in [
        (json!({ "mode": "fast" }), "mode"),
        (json!({ "mode": "full,verbose" }), "mode"),
        (json!({ "mode": "FULL" }), "mode"),
        (json!({ "mode": 1 }), "mode"),
        (json!({ "datetime": "2019-02-30T10:00:00Z" }), "datetime"),
        (json!({ "datetime": "2019-03-22 12:24:39" }), "datetime"),
        (json!({ "datetime": 12 }), "datetime"),
        (json!({ "cron": "61 * * * *" }), "cron"),
        (json!({ "cron": "* * * *" }), "cron"),
        (json!([]), "datetime"),
    ] {
        let res = agent.post_as(&vacuum, &session, &body);
        assert_eq!(res.status, 406, "{body}: {}", res.text());
        assert_eq!(
            res.error(),
            format!("Parameter '{parameter}' is malformed."),
            "{body}"
        );
    }
    let res = agent.post_as(
        &vacuum,
        &session,
        &json!({ "datetime": "2099-01-01T00:00:00Z", "cron": "0 0 * * *" }),
    );
    assert_eq!(res.status, 406);
    let res = agent.send(Request::post(&vacuum, "not json").session(&session));
    assert_eq!(res.status, 400, "{}", res.text());
    // ANALYZE has no mode: one sent anyway is ignored.
    let analyze = format!("/maintenance/{db}/schema/public/table/t/analyze");
    let res = agent.post_as(
        &analyze,
        &session,
        &json!({ "datetime": "2019-02-30T10:00:00Z" }),
    );
    assert_eq!(res.status, 406);
    // An empty body means now.
    let res = agent.send(Request::post(&analyze, "").session(&session));
    assert_eq!(res.status, 200, "{}", res.text());

    for (path, name) in [
        (
            "/maintenance/no_such_db_m8/vacuum".to_string(),
            "no_such_db_m8",
        ),
        (
            format!("/maintenance/{db}/schema/nope/table/t/analyze"),
            "nope",
        ),
        (
            format!("/maintenance/{db}/schema/public/table/nope_t/vacuum"),
            "nope_t",
        ),
        (
            format!("/maintenance/{db}/schema/public/index/nope_i/reindex"),
            "nope_i",
        ),
        (
            format!("/maintenance/{db}/schema/public/table/nope_t/reindex"),
            "nope_t",
        ),
    ] {
        let res = agent.post_as(&path, &session, &json!({}));
        assert_eq!(res.status, 404, "{path}: {}", res.text());
        assert!(res.error().contains(name), "{path}: {}", res.error());
    }
    // Paths of different methods overlap: each goes to its own handler.
    let res = agent.post_as("/maintenance/vacuum/analyze", &session, &json!({}));
    assert_eq!(res.status, 404, "{}", res.text());
    assert_eq!(res.error(), "Database 'vacuum' not found.");
    let res = agent.send(Request::new("DELETE", "/maintenance/vacuum/analyze").session(&session));
    assert_eq!(res.status, 406, "{}", res.text());
    assert_eq!(res.error(), "Parameter 'id' is malformed.");
    // No authentication, no scheduling.
    let res = agent.send(Request::post(&vacuum, "{}"));
    assert_eq!(res.status, 406);
    assert!(list(&agent, &session, "/maintenance/vacuum/scheduled")
        .iter()
        .all(|t| t["dbname"] != db.as_str()));
}

#[test]
fn hostile_names_are_maintained_as_names() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "hostileops");
    let schema = "s; DROP TABLE victim; --";
    let table = "t\"x y;z";
    let index = "i\"; DROP TABLE victim; --";
    pg.psql(&db, "CREATE TABLE victim (id int)");
    sized_table(pg, &db, schema, table);
    pg.psql(
        &db,
        &format!(
            "CREATE INDEX {} ON {}.{} (id)",
            ident(index),
            ident(schema),
            ident(table)
        ),
    );
    let agent = Agent::start(pg);
    let session = agent.login();
    let base = format!("/maintenance/{db}/schema/{}", enc(schema));
    let tpath = format!("{base}/table/{}", enc(table));
    let ids = [
        (
            "vacuum",
            schedule(
                &agent,
                &session,
                &format!("{tpath}/vacuum"),
                json!({ "mode": "full,freeze,analyze" }),
            ),
        ),
        (
            "analyze",
            schedule(&agent, &session, &format!("{tpath}/analyze"), json!({})),
        ),
        (
            "reindex",
            schedule(&agent, &session, &format!("{tpath}/reindex"), json!({})),
        ),
        (
            "reindex",
            schedule(
                &agent,
                &session,
                &format!("{base}/index/{}/reindex", enc(index)),
                json!({}),
            ),
        ),
    ];
    for (op, id) in &ids {
        let done = wait_status(&agent, &session, op, id, "done", 120);
        assert_eq!(done["schema"], schema, "{done}");
    }
    let listed = list(&agent, &session, &format!("{tpath}/vacuum/scheduled"));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["table"], table);
    let listed = list(&agent, &session, &format!("{base}/reindex/scheduled"));
    assert!(listed.iter().any(|t| t["index"] == index), "{listed:?}");
    assert_eq!(int(pg, &db, "SELECT count(*) FROM victim"), 0);
    let t = get_when(&agent, &tpath, &session, |t| {
        t["last_vacuum"].is_string() && t["last_analyze"].is_string()
    });
    assert!(
        t["last_vacuum"].is_string() && t["last_analyze"].is_string(),
        "{t}"
    );
}

#[test]
fn never_two_on_one_table_and_at_most_max_parallel() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "parallel");
    pg.psql(
        &db,
        "CREATE TABLE l (id int); CREATE TABLE m (id int); CREATE TABLE n (id int);",
    );
    let agent = patient_agent(pg);
    let session = agent.login();
    let t = |name: &str| format!("/maintenance/{db}/schema/public/table/{name}");
    let lock = hold_lock(pg, &db, "l");
    let a = schedule(&agent, &session, &format!("{}/vacuum", t("l")), json!({}));
    wait_status(&agent, &session, "vacuum", &a, "doing", 20);
    // Same table: waits, though a slot is free.
    let b = schedule(&agent, &session, &format!("{}/analyze", t("l")), json!({}));
    // Another table: runs beside it.
    let c = schedule(&agent, &session, &format!("{}/analyze", t("m")), json!({}));
    wait_status(&agent, &session, "analyze", &c, "done", 30);
    assert_eq!(
        task(&agent, &session, "analyze", &b).unwrap()["status"],
        "todo"
    );
    assert_eq!(
        task(&agent, &session, "vacuum", &a).unwrap()["status"],
        "doing"
    );
    // The whole database waits for every table.
    let d = schedule(
        &agent,
        &session,
        &format!("/maintenance/{db}/analyze"),
        json!({}),
    );
    let e = schedule(&agent, &session, &format!("{}/analyze", t("n")), json!({}));
    wait_status(&agent, &session, "analyze", &e, "done", 30);
    assert_eq!(
        task(&agent, &session, "analyze", &d).unwrap()["status"],
        "todo"
    );
    lock.release();
    wait_status(&agent, &session, "vacuum", &a, "done", 60);
    wait_status(&agent, &session, "analyze", &b, "done", 60);
    wait_status(&agent, &session, "analyze", &d, "done", 60);
}

#[test]
fn a_cron_task_runs_at_each_occurrence_until_cancelled() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "cron");
    pg.psql(
        &db,
        "CREATE TABLE t (id int) WITH (autovacuum_enabled = false)",
    );
    let agent = Agent::start(pg);
    let session = agent.login();
    let path = format!("/maintenance/{db}/schema/public/table/t/analyze");
    let id = schedule(&agent, &session, &path, json!({ "cron": "* * * * *" }));
    let first = task(&agent, &session, "analyze", &id).unwrap();
    assert_eq!(first["cron"], "* * * * *");
    assert_eq!(first["status"], "todo");
    let next = first["datetime"].as_str().unwrap().to_string();
    assert!(next.ends_with(":00Z"), "{next}");
    assert!(next > in_seconds(0) && next <= in_seconds(60), "{next}");
    // A weekly schedule is listed with its next run.
    let weekly = schedule(&agent, &session, &path, json!({ "cron": "30 2 * * 0" }));
    let w = task(&agent, &session, "analyze", &weekly).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(w["datetime"].as_str().unwrap()).unwrap();
    use chrono::{Datelike, Timelike};
    assert_eq!(
        (at.weekday(), at.hour(), at.minute()),
        (chrono::Weekday::Sun, 2, 30)
    );

    // After its run it is scheduled again, for the next minute.
    let mut ran = None;
    wait_until(Duration::from_secs(90), "the first cron run", || {
        ran = task(&agent, &session, "analyze", &id);
        ran.as_ref()
            .is_some_and(|t| t["finished"].is_string() && t["status"] == "todo")
    });
    let ran = ran.unwrap();
    assert!(ran["started"].as_str().unwrap() >= next.as_str());
    assert!(ran["datetime"].as_str().unwrap() > next.as_str(), "{ran}");
    assert!(ran["error"].is_null());
    let t = get_when(
        &agent,
        &format!("/maintenance/{db}/schema/public/table/t"),
        &session,
        |t| t["last_analyze"].is_string(),
    );
    assert!(t["last_analyze"].is_string());

    let res =
        agent.send(Request::new("DELETE", &format!("/maintenance/analyze/{id}")).session(&session));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        task(&agent, &session, "analyze", &id).unwrap()["status"],
        "canceled"
    );
    assert!(list(
        &agent,
        &session,
        &format!("/maintenance/{db}/analyze/scheduled")
    )
    .iter()
    .all(|t| t["id"] != id));
}

#[test]
fn an_older_or_damaged_task_table_does_not_stop_the_agent() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "oldstore");
    pg.psql(&db, "CREATE TABLE t (id int)");
    let mut agent = Agent::start(pg);
    let session = agent.login();
    let path = format!("/maintenance/{db}/schema/public/table/t/analyze");
    let later = json!({ "datetime": "2099-01-01T00:00:00Z" });
    let good = schedule(&agent, &session, &path, later.clone());
    let bad = schedule(&agent, &session, &path, later.clone());
    agent.terminate();

    // A row the agent cannot read: set aside, the others load.
    agent.store_sql(&format!(
        "UPDATE maintenance_tasks SET status = 'bogus' WHERE id = '{bad}'"
    ));
    agent.spawn();
    let session = agent.login();
    assert!(task(&agent, &session, "analyze", &good).is_some());
    assert!(task(&agent, &session, "analyze", &bad).is_none());
    assert!(
        agent.log().contains("maintenance task row unreadable"),
        "{}",
        agent.log()
    );
    agent.terminate();

    // A table of an older, unknown layout: renamed aside, a new one is used.
    agent.store_sql(
        "DROP TABLE maintenance_tasks; DELETE FROM maintenance_schema;\
         CREATE TABLE maintenance_tasks (id TEXT, run_at TEXT);\
         INSERT INTO maintenance_tasks VALUES ('0000abcd', 'soon');",
    );
    agent.spawn();
    let session = agent.login();
    assert!(
        agent.log().contains("maintenance task table set aside"),
        "{}",
        agent.log()
    );
    assert!(list(&agent, &session, "/maintenance/analyze/scheduled").is_empty());
    let id = schedule(&agent, &session, &path, later);
    agent.kill9();
    agent.spawn();
    let session = agent.login();
    assert!(task(&agent, &session, "analyze", &id).is_some());
}

#[test]
fn an_operation_that_cannot_get_its_lock_fails_with_the_reason() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "locked");
    pg.psql(&db, "CREATE TABLE l (id int)");
    let agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: "[postgresql]\nlock_timeout = 1000\n".to_string(),
            ..AgentSetup::default()
        },
    );
    let session = agent.login();
    let lock = hold_lock(pg, &db, "l");
    let id = schedule(
        &agent,
        &session,
        &format!("/maintenance/{db}/schema/public/table/l/vacuum"),
        json!({ "mode": "full" }),
    );
    let failed = wait_status(&agent, &session, "vacuum", &id, "failed", 30);
    lock.release();
    assert_eq!(
        failed["error"], "canceling statement due to lock timeout",
        "{failed}"
    );
    assert!(failed["finished"].is_string());
    wait_until(Duration::from_secs(10), "the failure notification", || {
        notifications(&agent, &session).iter().any(|n| {
            n["username"] == USER
                && n["message"]
                    == format!(
                        "VACUUM (FULL) on table \"public\".\"l\" of database \"{db}\" failed: \
                         canceling statement due to lock timeout (task {id})"
                    )
        })
    });
    assert!(agent.log().contains("maintenance operation failed"));
}

/// Found by the fuzzer (.ci/fuzz): the maintenance resources are guarded by method,
/// so another method fell through to the router's 404 instead of a 405.
#[test]
fn another_method_on_a_maintenance_path_is_405() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    for (method, path) in [
        ("TRACE", "/maintenance"),
        ("PUT", "/maintenance/tasks"),
        ("POST", "/maintenance/tasks/0123abcd"),
        ("PATCH", "/maintenance/vacuum/scheduled"),
        ("DELETE", "/maintenance/analyze/scheduled"),
        ("GET", "/maintenance/postgres/vacuum"),
        ("DELETE", "/maintenance/postgres"),
        ("PUT", "/maintenance/postgres/schema/public/table/t/analyze"),
        ("GET", "/maintenance/postgres/schema/public/index/i/reindex"),
    ] {
        let res = agent.send(Request::new(method, path).session(&session));
        assert_eq!(res.status, 405, "{method} {path}: {}", res.text());
        assert_eq!(res.error(), "Method not allowed.");
        // RFC 9110: a 405 names what the path accepts (also found by the fuzzer).
        assert!(res.header("Allow").is_some(), "{method} {path}");
    }
    let res = agent.send(Request::new("TRACE", "/maintenance/vacuum/analyze").session(&session));
    assert_eq!(res.header("Allow"), Some("DELETE, POST"));
    // Unknown paths stay 404, and the overlapping paths keep their handlers.
    let res = agent.send(Request::new("GET", "/maintenance/a/b/c/d").session(&session));
    assert_eq!(res.status, 404, "{}", res.text());
    let res = agent.send(Request::new("DELETE", "/maintenance/vacuum/analyze").session(&session));
    assert_eq!(res.status, 406, "{}", res.text());
}

/// Found by the fuzzer (.ci/fuzz): a name longer than PostgreSQL's 63 bytes, bound as
/// type `name`, failed with "identifier too long" (500); no object has it: 404.
#[test]
fn names_longer_than_postgresql_allows_are_not_found() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    let long = "n".repeat(64);
    let gets = [
        format!("/maintenance/{long}"),
        format!("/maintenance/postgres/schema/{long}"),
        format!("/maintenance/postgres/schema/public/table/{long}"),
    ];
    for path in &gets {
        let res = agent.get_as(path, &session);
        assert_eq!(res.status, 404, "{path}: {}", res.text());
    }
    let posts = [
        format!("/maintenance/{long}/analyze"),
        format!("/maintenance/postgres/schema/{long}/table/t/analyze"),
        format!("/maintenance/postgres/schema/public/table/{long}/vacuum"),
        format!("/maintenance/postgres/schema/public/index/{long}/reindex"),
    ];
    for path in &posts {
        let res = agent.post_as(
            path,
            &session,
            &json!({ "datetime": "2099-01-01T00:00:00Z" }),
        );
        assert_eq!(res.status, 404, "{path}: {}", res.text());
    }
}
