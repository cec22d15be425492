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
    let one_row = quiet_tables(&["t"]) + "INSERT INTO t VALUES (1);";
    let db = create_db_with(pg, "later", &one_row);
    let (agent, session) = logged_in(Agent::start(pg));
    let at = in_seconds(4);
    let analyze = format!("{}/analyze", table_path(&db, "t"));
    let id = schedule(&agent, &session, &analyze, json!({ "datetime": at }));
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
    wait_analyzed(&agent, &session, &table_path(&db, "t"));
}

/// The task of a VACUUM that was running when the agent stopped: failed, saying so.
fn assert_cut_by_the_stop(agent: &Agent, session: &str, id: &str) {
    let cut = task(agent, session, "vacuum", id).unwrap();
    assert_eq!(cut["status"], "failed", "{cut}\n{}", agent.log());
    assert!(
        cut["error"].as_str().unwrap().contains("agent stopped"),
        "{cut}"
    );
}

#[test]
fn scheduled_tasks_survive_a_restart_and_kill_9() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "durable", &quiet_tables(&["t", "u", "l"]));
    let (mut agent, session) = logged_in(patient_agent(pg));
    let table = |t: &str| table_path(&db, t);
    let (analyze_t, vacuum_u) = (
        format!("{}/analyze", table("t")),
        format!("{}/vacuum", table("u")),
    );
    let first = schedule(
        &agent,
        &session,
        &analyze_t,
        json!({ "datetime": in_seconds(20) }),
    );
    let later_with_analyze = json!({ "datetime": in_seconds(25), "mode": "analyze" });
    let second = schedule(&agent, &session, &vacuum_u, later_with_analyze);
    // A running task when the agent dies.
    let lock = hold_lock(pg, &db, "l");
    let vacuum_l = format!("{}/vacuum", table("l"));
    let running = schedule_now(&agent, &session, &vacuum_l);
    wait_status(&agent, &session, "vacuum", &running, "doing", 20);
    wait_lock_waiters(pg, &db, 1);

    // A clean restart: the tasks are still there.
    let status = agent.terminate();
    assert!(status.success(), "{status:?}");
    let session = spawn_and_login(&mut agent);
    assert_eq!(status_of(&agent, &session, "analyze", &first), "todo");
    // The clean stop cut the running VACUUM too.
    assert_cut_by_the_stop(&agent, &session, &running);

    // Once more, running, then kill -9. (The first agent's statement may still
    // wait: the server notices a client gone only when it answers.)
    let waiting = lock_waiters(pg, &db);
    let running = schedule_now(&agent, &session, &vacuum_l);
    wait_status(&agent, &session, "vacuum", &running, "doing", 20);
    wait_lock_waiters(pg, &db, waiting + 1);
    agent.kill9();
    lock.release();
    let session = spawn_and_login(&mut agent);
    assert_cut_by_the_stop(&agent, &session, &running);
    assert!(agent.log().contains("maintenance operation interrupted"));

    // The tasks scheduled before both stops still run at their time.
    let done = wait_status(&agent, &session, "analyze", &first, "done", 60);
    assert_eq!(done["table"], "t");
    wait_status(&agent, &session, "vacuum", &second, "done", 60);
    wait_vacuumed_and_analyzed(&agent, &session, &table("u"));
}

#[test]
fn a_task_due_while_the_agent_is_down_runs_when_it_is_back() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "overdue", &quiet_tables(&["t"]));
    let (mut agent, session) = logged_in(Agent::start(pg));
    let at = in_seconds(2);
    let analyze = format!("{}/analyze", table_path(&db, "t"));
    let id = schedule(&agent, &session, &analyze, json!({ "datetime": at }));
    agent.kill9();
    wait_until(Duration::from_secs(10), "the due time, agent down", || {
        in_seconds(0) > at
    });
    let session = spawn_and_login(&mut agent);
    wait_status(&agent, &session, "analyze", &id, "done", 30);
}

#[test]
fn cancel_before_start_and_refusals() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "cancel", &tables(&["t", "l"]));
    let (agent, session) = logged_in(patient_agent(pg));
    let t = table_path(&db, "t");
    let later_full = json!({ "datetime": LATER, "mode": "full" });
    let id = schedule(&agent, &session, &format!("{t}/vacuum"), later_full);
    let listed = list(&agent, &session, &format!("{t}/vacuum/scheduled"));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["datetime"], LATER);
    assert_eq!(listed[0]["mode"], "full");

    // Wrong operation, unknown and malformed ids.
    let delete = |op: &str, id: &str| cancel(&agent, &session, op, id);
    let res = delete("analyze", &id);
    assert_eq!(res.status, 404, "{}", res.text());
    assert!(res.error().contains(&id));
    assert_eq!(delete("vacuum", "00000000").status, 404);
    for bad in ["XYZ", "0000000G", "0123456789", "ABCDEF01"] {
        let res = delete("vacuum", bad);
        assert_eq!(res.status, 406, "{bad}: {}", res.text());
        assert_eq!(res.error(), "Parameter 'id' is malformed.");
    }

    let res = delete("vacuum", &id);
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), json!({ "response": "ok" }));
    assert!(list(&agent, &session, &format!("{t}/vacuum/scheduled")).is_empty());
    // /maintenance/tasks still tells what became of it.
    let canceled = task(&agent, &session, "vacuum", &id).unwrap();
    assert_eq!(canceled["status"], "canceled", "{canceled}");
    assert!(canceled["finished"].is_string(), "{canceled}");
    assert_eq!(delete("vacuum", &id).status, 404);

    // A running task is not cancelled; a finished one neither.
    let lock = hold_lock(pg, &db, "l");
    let vacuum_l = format!("{}/vacuum", table_path(&db, "l"));
    let running = schedule_now(&agent, &session, &vacuum_l);
    wait_status(&agent, &session, "vacuum", &running, "doing", 20);
    let res = delete("vacuum", &running);
    assert_eq!(res.status, 409, "{}", res.text());
    assert!(res.error().contains("running"), "{}", res.error());
    lock.release();
    wait_status(&agent, &session, "vacuum", &running, "done", 60);
    assert_eq!(delete("vacuum", &running).status, 409);

    // With the agent key: the audit trail says `key`.
    let later = json!({ "datetime": LATER });
    let id = schedule(&agent, &session, &format!("{t}/analyze"), later);
    let with_key = format!("/maintenance/analyze/{id}?key={KEY}");
    let res = agent.send(Request::new("DELETE", &with_key));
    assert_eq!(res.status, 200, "{}", res.text());
    let on_t = format!("ANALYZE on table \"public\".\"t\" of database \"{db}\"");
    wait_notification(
        &agent,
        &session,
        "key",
        &format!("{on_t} cancelled (task {id})"),
    );
}

#[test]
fn a_cron_task_runs_at_each_occurrence_until_cancelled() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "cron", &quiet_tables(&["t"]));
    let (agent, session) = logged_in(Agent::start(pg));
    let path = format!("{}/analyze", table_path(&db, "t"));
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
    wait_analyzed(&agent, &session, &table_path(&db, "t"));

    let res = cancel(&agent, &session, "analyze", &id);
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(status_of(&agent, &session, "analyze", &id), "canceled");
    let in_db = list(
        &agent,
        &session,
        &format!("/maintenance/{db}/analyze/scheduled"),
    );
    assert!(in_db.iter().all(|t| t["id"] != id));
}

#[test]
fn an_older_or_damaged_task_table_does_not_stop_the_agent() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "oldstore", "CREATE TABLE t (id int)");
    let (mut agent, session) = logged_in(Agent::start(pg));
    let path = format!("{}/analyze", table_path(&db, "t"));
    let later = json!({ "datetime": LATER });
    let good = schedule(&agent, &session, &path, later.clone());
    let bad = schedule(&agent, &session, &path, later.clone());
    agent.terminate();

    // A row the agent cannot read: set aside, the others load.
    agent.store_sql(&format!(
        "UPDATE maintenance_tasks SET status = 'bogus' WHERE id = '{bad}'"
    ));
    let session = spawn_and_login(&mut agent);
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
    let session = spawn_and_login(&mut agent);
    assert!(
        agent.log().contains("maintenance task table set aside"),
        "{}",
        agent.log()
    );
    assert!(list(&agent, &session, "/maintenance/analyze/scheduled").is_empty());
    let id = schedule(&agent, &session, &path, later);
    agent.kill9();
    let session = spawn_and_login(&mut agent);
    assert!(task(&agent, &session, "analyze", &id).is_some());
}
