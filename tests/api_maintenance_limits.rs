//! Maintenance tasks are bounded (issue 20, point 8): at most `[maintenance]
//! max_pending_tasks` tasks waiting or running (409 beyond, also for requests that
//! arrive together and after a restart), and tasks that ended, cancelled recurring
//! ones included, are forgotten 24 hours later, in memory and on disk. The
//! scheduler's due order is unit-tested in `actors/src/maintenance/due_queue.rs`.

mod common;

use std::time::Duration;

use serde_json::{json, Value};

use common::maintenance::LATER;
use common::*;

const CAP: usize = 5;

fn create_db(pg: &PgCluster, tag: &str) -> String {
    let db = format!("m20_{tag}_{}", std::process::id());
    pg.psql("postgres", &format!("CREATE DATABASE {db}"));
    pg.psql(
        &db,
        "CREATE TABLE t (id int) WITH (autovacuum_enabled = false)",
    );
    db
}

/// An agent whose operations wait a minute for their lock (the test holds one).
fn capped_agent(pg: &PgCluster) -> Agent {
    Agent::start_with(
        pg,
        AgentSetup {
            extra: format!(
                "[postgresql]\nlock_timeout = 60000\n\n[maintenance]\nmax_pending_tasks = {CAP}\n"
            ),
            ..AgentSetup::default()
        },
    )
}

fn try_schedule(agent: &Agent, session: &str, path: &str, body: &Value) -> (u16, Value) {
    let res = agent.post_as(path, session, body);
    (res.status, res.json())
}

fn schedule(agent: &Agent, session: &str, path: &str, body: Value) -> String {
    let (status, answer) = try_schedule(agent, session, path, &body);
    assert_eq!(status, 200, "POST {path} {body}: {answer}");
    answer["id"].as_str().unwrap().to_string()
}

fn assert_refused_by_the_cap(status: u16, answer: &Value) {
    assert_eq!(status, 409, "{answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("[maintenance] max_pending_tasks") && error.contains(&CAP.to_string()),
        "{answer}"
    );
    assert_eq!(answer.as_object().unwrap().len(), 1, "{answer}");
}

/// Every task the agent knows (`GET /maintenance/tasks`).
fn all_tasks(agent: &Agent, session: &str) -> Vec<Value> {
    let res = agent.get_as("/maintenance/tasks", session);
    assert_eq!(res.status, 200, "{}", res.text());
    res.json().as_array().unwrap().clone()
}

fn status_of(agent: &Agent, session: &str, id: &str) -> Option<String> {
    let res = agent.get_as(&format!("/maintenance/tasks/{id}"), session);
    if res.status == 404 {
        return None;
    }
    assert_eq!(res.status, 200, "{}", res.text());
    Some(res.json()["status"].as_str().unwrap().to_string())
}

fn cancel(agent: &Agent, session: &str, op: &str, id: &str) {
    let res =
        agent.send(Request::new("DELETE", &format!("/maintenance/{op}/{id}")).session(session));
    assert_eq!(res.status, 200, "{}", res.text());
}

#[test]
fn scheduling_beyond_max_pending_tasks_answers_409_and_the_others_stay() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "cap");
    let mut agent = capped_agent(pg);
    let session = agent.login();
    let database = format!("/maintenance/{db}/analyze");
    let table = format!("/maintenance/{db}/schema/public/table/t/analyze");

    // Four one-time tasks next century and a recurring one: the cap is reached.
    let mut kept: Vec<String> = (0..CAP - 1)
        .map(|_| schedule(&agent, &session, &database, json!({ "datetime": LATER })))
        .collect();
    kept.push(schedule(
        &agent,
        &session,
        &table,
        json!({ "cron": "30 2 * * 0" }),
    ));
    let (status, answer) = try_schedule(&agent, &session, &table, &json!({}));
    assert_refused_by_the_cap(status, &answer);
    // With the agent key too, and for a recurring task.
    let res = agent.send(Request::post(
        &format!("{database}?key={KEY}"),
        json!({ "cron": "0 3 * * *" }).to_string(),
    ));
    assert_refused_by_the_cap(res.status, &res.json());
    let listed = all_tasks(&agent, &session);
    assert_eq!(listed.len(), CAP, "{listed:?}");
    assert!(listed.iter().all(|t| t["status"] == "todo"), "{listed:?}");

    // A cancel frees a place: a task to run now takes it, and holds it while it
    // runs (here it waits for the test's lock on its table).
    cancel(&agent, &session, "analyze", &kept.remove(0));
    let lock = common::maintenance::hold_lock(pg, &db, "t");
    let now = schedule(&agent, &session, &table, json!({}));
    wait_until(Duration::from_secs(20), "the task run now to start", || {
        status_of(&agent, &session, &now).as_deref() == Some("doing")
    });
    let (status, answer) = try_schedule(&agent, &session, &database, &json!({ "datetime": LATER }));
    assert_refused_by_the_cap(status, &answer);
    // Once it has run, its place is free.
    drop(lock);
    wait_until(Duration::from_secs(30), "the task run now to end", || {
        status_of(&agent, &session, &now).as_deref() == Some("done")
    });
    kept.push(schedule(
        &agent,
        &session,
        &database,
        json!({ "datetime": LATER }),
    ));

    // Requests that come together cannot pass the cap together: two places, ten
    // requests, two accepted.
    cancel(&agent, &session, "analyze", &kept.remove(0));
    cancel(&agent, &session, "analyze", &kept.remove(0));
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                s.spawn(|| try_schedule(&agent, &session, &database, &json!({ "datetime": LATER })))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let accepted: Vec<String> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, answer)| answer["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(accepted.len(), 2, "{answers:?}");
    for (status, answer) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_refused_by_the_cap(*status, answer);
    }
    kept.extend(accepted);

    // The tasks read back at start-up count: still full after a restart.
    agent.terminate();
    agent.spawn();
    let session = agent.login();
    let (status, answer) = try_schedule(&agent, &session, &table, &json!({}));
    assert_refused_by_the_cap(status, &answer);
    let pending: Vec<String> = all_tasks(&agent, &session)
        .iter()
        .filter(|t| t["status"] == "todo")
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    kept.sort();
    let mut pending_sorted = pending.clone();
    pending_sorted.sort();
    assert_eq!(pending_sorted, kept);
    assert!(
        agent.log().contains("too many pending tasks"),
        "{}",
        agent.log()
    );
}

fn rows_on_disk(agent: &Agent, id: &str) -> String {
    agent
        .store_sql(&format!(
            "SELECT count(*) FROM maintenance_tasks WHERE id = '{id}'"
        ))
        .trim()
        .to_string()
}

#[test]
fn a_cancelled_cron_task_is_forgotten_24_hours_later_like_a_finished_one() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "purge");
    let mut agent = capped_agent(pg);
    let session = agent.login();
    let table = format!("/maintenance/{db}/schema/public/table/t/analyze");
    let cancelled_cron = schedule(&agent, &session, &table, json!({ "cron": "30 2 * * 0" }));
    cancel(&agent, &session, "analyze", &cancelled_cron);
    let ran = schedule(&agent, &session, &table, json!({}));
    wait_until(Duration::from_secs(30), "the one-time task to end", || {
        status_of(&agent, &session, &ran).as_deref() == Some("done")
    });
    let live_cron = schedule(&agent, &session, &table, json!({ "cron": "0 3 * * *" }));
    // Cancelled: still in /maintenance/tasks until the retention passes.
    assert_eq!(
        status_of(&agent, &session, &cancelled_cron).as_deref(),
        Some("canceled")
    );

    // Make the ended tasks a day and more old, and the recurring one's last run too.
    agent.terminate();
    agent.store_sql(&format!(
        "UPDATE maintenance_tasks SET finished = '2000-01-01T00:00:00Z' \
         WHERE id IN ('{cancelled_cron}', '{ran}', '{live_cron}')"
    ));
    agent.spawn();
    let session = agent.login();
    assert_eq!(status_of(&agent, &session, &cancelled_cron), None);
    assert_eq!(status_of(&agent, &session, &ran), None);
    assert_eq!(
        status_of(&agent, &session, &live_cron).as_deref(),
        Some("todo")
    );
    let listed: Vec<Value> = all_tasks(&agent, &session);
    assert!(
        listed
            .iter()
            .all(|t| t["id"] != cancelled_cron.as_str() && t["id"] != ran.as_str()),
        "{listed:?}"
    );
    // On disk too (the store's delete runs in the background of the start-up).
    wait_until(Duration::from_secs(10), "the purge on disk", || {
        rows_on_disk(&agent, &cancelled_cron) == "0" && rows_on_disk(&agent, &ran) == "0"
    });
    assert_eq!(rows_on_disk(&agent, &live_cron), "1");
    // And it stays gone after another restart.
    agent.terminate();
    agent.spawn();
    let session = agent.login();
    assert_eq!(status_of(&agent, &session, &cancelled_cron), None);
}
