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
