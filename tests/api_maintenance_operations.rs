//! Maintenance operations run now, black-box: VACUUM (plain, ANALYZE, FULL, FREEZE),
//! ANALYZE and REINDEX of an index, a table and a database, checked in PostgreSQL's
//! statistics and relfilenodes; hostile names maintained as names; never two
//! operations on one table and at most `max_parallel` at once; an operation that
//! cannot get its lock; bad input and other methods refused. Each test creates its
//! own database on the shared cluster, so the tests run in parallel.

mod common;

use std::time::Duration;

use serde_json::{json, Value};

use common::maintenance::*;
use common::*;

/// Two tables never vacuumed nor analyzed: `t` with a primary key, `a` of 4,321 rows.
const NEVER_VACUUMED_T_AND_A: &str =
    "CREATE TABLE t (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false);\
     INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5000) g;\
     CREATE TABLE a (id int) WITH (autovacuum_enabled = false);\
     INSERT INTO a SELECT generate_series(1, 4321);";

#[test]
fn immediate_vacuum_analyze_and_analyze_update_statistics() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "vacnow", NEVER_VACUUMED_T_AND_A);
    let (agent, session) = logged_in(Agent::start(pg));
    let path = table_path(&db, "t");
    let before = get_ok(&agent, &path, &session);
    assert!(before["last_vacuum"].is_null() && before["last_analyze"].is_null());

    let vacuum = format!("{path}/vacuum");
    let done = run(&agent, &session, &vacuum, json!({ "mode": "analyze" }), 60);
    assert_eq!(done["dbname"], db.as_str());
    assert_eq!(done["schema"], "public");
    assert_eq!(done["table"], "t");
    assert!(done["index"].is_null());
    assert_eq!(done["mode"], "analyze");
    assert!(done["cron"].is_null());
    assert!(done["error"].is_null());
    assert!(done["started"].is_string() && done["finished"].is_string());
    let after = wait_vacuumed_and_analyzed(&agent, &session, &path);
    assert_eq!(after["vacuum_count"], 1);
    assert_eq!(after["analyze_count"], 1);

    // ANALYZE alone: row_estimate then matches the table.
    let apath = table_path(&db, "a");
    let estimate = |t: &Value| t["row_estimate"].as_f64();
    assert_eq!(estimate(&get_ok(&agent, &apath, &session)), Some(0.0));
    let id = schedule_now(&agent, &session, &format!("{apath}/analyze"));
    let done = wait_status(&agent, &session, "analyze", &id, "done", 60);
    assert!(done["mode"].is_null());
    let a = wait_analyzed(&agent, &session, &apath);
    assert_eq!(estimate(&a), Some(4321.0));
    assert_eq!(
        estimate(&a).unwrap().to_string(),
        pg.psql(&db, "SELECT reltuples FROM pg_class WHERE relname = 'a'")
    );

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

/// 20,000 rows in a table without autovacuum, nine in ten deleted, and two indexes.
const NINE_IN_TEN_ROWS_DELETED: &str =
    "CREATE TABLE big (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false);\
     INSERT INTO big SELECT g, repeat('z', 200) FROM generate_series(1, 20000) g;\
     DELETE FROM big WHERE id % 10 <> 0;\
     CREATE INDEX big_v ON big (v);";

#[test]
fn vacuum_full_shrinks_a_bloated_table_and_reindex_works() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "full", NINE_IN_TEN_ROWS_DELETED);
    let (agent, session) = logged_in(Agent::start(pg));
    let size = || int(pg, &db, "SELECT pg_relation_size('big')");
    let before = size();
    let big = table_path(&db, "big");
    // A transaction of a parallel test may keep the deleted rows visible for a
    // moment (they are copied as recently dead): run it again until it shrinks.
    let mut after = before;
    let (vacuum_big, full) = (format!("{big}/vacuum"), json!({ "mode": "full" }));
    wait_until(
        Duration::from_secs(120),
        "VACUUM FULL to shrink the table",
        || {
            let done = run(&agent, &session, &vacuum_big, full.clone(), 120);
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
    let public = format!("/maintenance/{db}/schema/public");
    let v0 = node("big_v");
    let done = run_now(
        &agent,
        &session,
        &format!("{public}/index/big_v/reindex"),
        60,
    );
    assert_eq!(done["index"], "big_v");
    assert!(done["table"].is_null());
    assert_eq!(done["schema"], "public");
    let v1 = node("big_v");
    assert_ne!(v0, v1);
    let p0 = node("big_pkey");
    run_now(&agent, &session, &format!("{big}/reindex"), 60);
    assert_ne!(node("big_pkey"), p0);
    assert_ne!(node("big_v"), v1);
    let database = format!("/maintenance/{db}");
    let done = run_now(&agent, &session, &format!("{database}/reindex"), 120);
    assert!(done["schema"].is_null() && done["table"].is_null() && done["index"].is_null());
    // Schema lists leave the database-wide REINDEX out; the table alias does too.
    let scheduled = |path: String| list(&agent, &session, &path);
    let schema_list = scheduled(format!("{public}/reindex/scheduled"));
    assert_eq!(schema_list.len(), 2, "{schema_list:?}");
    let alias = scheduled(format!("{public}/table/nothing/reindex/scheduled"));
    assert_eq!(alias, schema_list);
    assert_eq!(scheduled(format!("{database}/reindex/scheduled")).len(), 3);
    // A database-wide VACUUM too.
    let vacuum_db = format!("{database}/vacuum");
    let freeze = json!({"mode": "freeze,analyze"});
    let done = run(&agent, &session, &vacuum_db, freeze, 120);
    assert_eq!(done["mode"], "freeze,analyze");
}

#[test]
fn hostile_names_are_maintained_as_names() {
    let pg = PgCluster::shared();
    let db = create_db_with_victim(pg, "hostileops");
    let (schema, table) = ("s; DROP TABLE victim; --", "t\"x y;z");
    sized_table(pg, &db, schema, table);
    let index = "i\"; DROP TABLE victim; --";
    let (schema_id, table_id, index_id) = (ident(schema), ident(table), ident(index));
    pg.psql(
        &db,
        &format!("CREATE INDEX {index_id} ON {schema_id}.{table_id} (id)"),
    );
    let (agent, session) = logged_in(Agent::start(pg));
    let base = format!("/maintenance/{db}/schema/{}", enc(schema));
    let tpath = format!("{base}/table/{}", enc(table));
    let full = json!({ "mode": "full,freeze,analyze" });
    let vacuum = format!("{tpath}/vacuum");
    let mut ids = vec![("vacuum", schedule(&agent, &session, &vacuum, full))];
    for op in ["analyze", "reindex"] {
        ids.push((op, schedule_now(&agent, &session, &format!("{tpath}/{op}"))));
    }
    let index_path = format!("{base}/index/{}/reindex", enc(index));
    ids.push(("reindex", schedule_now(&agent, &session, &index_path)));
    for (op, id) in &ids {
        let done = wait_status(&agent, &session, op, id, "done", 120);
        assert_eq!(done["schema"], schema, "{done}");
    }
    let listed = list(&agent, &session, &format!("{tpath}/vacuum/scheduled"));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["table"], table);
    let listed = list(&agent, &session, &format!("{base}/reindex/scheduled"));
    assert!(listed.iter().any(|t| t["index"] == index), "{listed:?}");
    assert_victim_intact(pg, &db);
    wait_vacuumed_and_analyzed(&agent, &session, &tpath);
}

#[test]
fn never_two_on_one_table_and_at_most_max_parallel() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "parallel", &tables(&["l", "m", "n"]));
    let (agent, session) = logged_in(patient_agent(pg));
    let now = |path: String| schedule_now(&agent, &session, &path);
    let status = |op: &str, id: &str| status_of(&agent, &session, op, id);
    let t = |name: &str| table_path(&db, name);
    let lock = hold_lock(pg, &db, "l");
    let a = now(format!("{}/vacuum", t("l")));
    wait_status(&agent, &session, "vacuum", &a, "doing", 20);
    // Same table: waits, though a slot is free.
    let b = now(format!("{}/analyze", t("l")));
    // Another table: runs beside it.
    let c = now(format!("{}/analyze", t("m")));
    wait_status(&agent, &session, "analyze", &c, "done", 30);
    assert_eq!(status("analyze", &b), "todo");
    assert_eq!(status("vacuum", &a), "doing");
    // The whole database waits for every table.
    let d = now(format!("/maintenance/{db}/analyze"));
    let e = now(format!("{}/analyze", t("n")));
    wait_status(&agent, &session, "analyze", &e, "done", 30);
    assert_eq!(status("analyze", &d), "todo");
    lock.release();
    wait_status(&agent, &session, "vacuum", &a, "done", 60);
    wait_status(&agent, &session, "analyze", &b, "done", 60);
    wait_status(&agent, &session, "analyze", &d, "done", 60);
}

#[test]
fn an_operation_that_cannot_get_its_lock_fails_with_the_reason() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "locked", "CREATE TABLE l (id int)");
    let impatient = AgentSetup {
        extra: "[postgresql]\nlock_timeout = 1000\n".to_string(),
        ..AgentSetup::default()
    };
    let (agent, session) = logged_in(Agent::start_with(pg, impatient));
    let lock = hold_lock(pg, &db, "l");
    let vacuum = format!("{}/vacuum", table_path(&db, "l"));
    let id = schedule(&agent, &session, &vacuum, json!({ "mode": "full" }));
    let failed = wait_status(&agent, &session, "vacuum", &id, "failed", 30);
    lock.release();
    let reason = "canceling statement due to lock timeout";
    assert_eq!(failed["error"], reason, "{failed}");
    assert!(failed["finished"].is_string());
    let on_l = format!("VACUUM (FULL) on table \"public\".\"l\" of database \"{db}\"");
    let message = format!("{on_l} failed: {reason} (task {id})");
    wait_notification(&agent, &session, USER, &message);
    assert!(agent.log().contains("maintenance operation failed"));
}

#[test]
fn bad_input_is_refused_and_unknown_objects_are_404() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "badinput", "CREATE TABLE t (id int PRIMARY KEY)");
    let (agent, session) = logged_in(Agent::start(pg));
    let t = table_path(&db, "t");
    let vacuum = format!("{t}/vacuum");
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
        &json!({ "datetime": LATER, "cron": "0 0 * * *" }),
    );
    assert_eq!(res.status, 406);
    let res = agent.send(Request::post(&vacuum, "not json").session(&session));
    assert_eq!(res.status, 400, "{}", res.text());
    // ANALYZE has no mode: one sent anyway is ignored.
    let analyze = format!("{t}/analyze");
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

/// Found by the fuzzer (.ci/fuzz): the maintenance resources are guarded by method,
/// so another method fell through to the router's 404 instead of a 405.
#[test]
fn another_method_on_a_maintenance_path_is_405() {
    let (agent, session) = logged_in(Agent::start(PgCluster::shared()));
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
