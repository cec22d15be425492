//! Maintenance tasks scheduled ahead, black-box: run at their time, on a cron
//! schedule until cancelled, after a clean restart and a `kill -9`, when they fell due
//! while the agent was down; cancellation and its refusals; a damaged or older task
//! table in the store. Each test creates its own database on the shared cluster, so
//! the tests run in parallel.

mod common;

use std::time::Duration;

use serde_json::json;

use common::maintenance::*;
use common::*;

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
