//! `GET /maintenance/tasks` and `GET /maintenance/tasks/<id>`: every maintenance task
//! with what the spec's scheduled lists leave out (operation, cron, who asked and
//! when, the last run's start, end and error), newest first, paged.

mod common;

use std::time::Duration;

use common::maintenance::{logged_in, schedule, spawn_and_login, LATER};
use common::*;
use serde_json::{json, Value};

const DETAIL_KEYS: [&str; 15] = [
    "created",
    "cron",
    "datetime",
    "dbname",
    "error",
    "finished",
    "id",
    "index",
    "mode",
    "operation",
    "schema",
    "started",
    "status",
    "table",
    "username",
];

/// A fresh database of this name with an empty table `t`.
fn fresh_db_with_table_t(pg: &PgCluster, name: &str) {
    pg.fresh_db(name);
    pg.psql(name, "CREATE TABLE t (id int)");
}

fn tasks(agent: &Agent, session: &str, query: &str) -> Vec<Value> {
    let res = agent.get_as(&format!("/maintenance/tasks{query}"), session);
    assert_eq!(res.status, 200, "{}", res.text());
    res.json().as_array().expect("a list").clone()
}

fn ids(list: &[Value]) -> Vec<&str> {
    list.iter().map(|t| t["id"].as_str().unwrap()).collect()
}

#[test]
fn every_task_is_listed_with_its_details_newest_first() {
    let pg = PgCluster::shared();
    pg.fresh_db("tasks_list");
    pg.psql(
        "tasks_list",
        "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE locked (id int)",
    );
    let (agent, session) = logged_in(Agent::start(pg));
    let base = "/maintenance/tasks_list/schema/public";
    let later = schedule(
        &agent,
        &session,
        &format!("{base}/table/t/vacuum"),
        json!({ "datetime": LATER, "mode": "full,analyze" }),
    );
    let weekly = schedule(
        &agent,
        &session,
        "/maintenance/tasks_list/analyze",
        json!({ "cron": "30 2 * * 0" }),
    );
    let index = schedule(
        &agent,
        &session,
        &format!("{base}/index/t_pkey/reindex"),
        json!({ "datetime": "2099-01-02T00:00:00Z" }),
    );
    // One that runs now, with the agent key, and one that fails on its lock.
    let res = agent.send(Request::post(
        &format!("{base}/table/t/analyze?key={KEY}"),
        "{}",
    ));
    assert_eq!(res.status, 200, "{}", res.text());
    let now = res.json()["id"].as_str().unwrap().to_string();
    let mut lock = Bg::open(pg, "tasks_list");
    lock.send("BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE;");
    wait_until(Duration::from_secs(20), "the lock held", || {
        pg.psql(
            "tasks_list",
            "SELECT count(*) FROM pg_locks WHERE relation = 'locked'::regclass AND granted",
        ) == "1"
    });
    let failing = schedule(
        &agent,
        &session,
        &format!("{base}/table/locked/vacuum"),
        json!({}),
    );

    let detail = |id: &str| {
        let res = agent.get_as(&format!("/maintenance/tasks/{id}"), &session);
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()
    };
    wait_until(Duration::from_secs(60), "the immediate tasks ran", || {
        detail(&now)["status"] == "done" && detail(&failing)["status"] == "failed"
    });
    drop(lock);

    let list = tasks(&agent, &session, "");
    let mine: Vec<&str> = ids(&list)
        .into_iter()
        .filter(|id| [&later, &weekly, &index, &now, &failing].contains(&&id.to_string()))
        .collect();
    assert_eq!(
        mine,
        [&failing, &now, &index, &weekly, &later],
        "newest first: {list:?}"
    );
    for task in &list {
        assert_eq!(sorted_keys(task), DETAIL_KEYS, "{task}");
    }

    let t = detail(&later);
    assert_eq!(t["operation"], "vacuum");
    assert_eq!(
        (&t["dbname"], &t["schema"], &t["table"], &t["index"]),
        (
            &json!("tasks_list"),
            &json!("public"),
            &json!("t"),
            &Value::Null
        )
    );
    assert_eq!(t["mode"], "full,analyze");
    assert_eq!(t["datetime"], LATER);
    assert_eq!(t["status"], "todo");
    assert_eq!(t["username"], USER);
    assert!(t["cron"].is_null() && t["started"].is_null() && t["error"].is_null());
    assert!(t["created"].as_str().unwrap() <= t["datetime"].as_str().unwrap());

    let w = detail(&weekly);
    assert_eq!(w["operation"], "analyze");
    assert_eq!(w["cron"], "30 2 * * 0");
    assert!(w["schema"].is_null() && w["table"].is_null());

    let i = detail(&index);
    assert_eq!(i["operation"], "reindex");
    assert_eq!(i["index"], "t_pkey");
    assert!(i["table"].is_null());

    let n = detail(&now);
    assert_eq!(n["username"], "key");
    let (started, finished) = (
        n["started"].as_str().unwrap(),
        n["finished"].as_str().unwrap(),
    );
    assert!(started <= finished, "{n}");
    assert!(n["error"].is_null());

    let f = detail(&failing);
    assert_eq!(f["error"], "canceling statement due to lock timeout", "{f}");
    assert!(f["finished"].is_string());

    // The spec's lists still show exactly the spec's keys.
    let scheduled = agent
        .get_as("/maintenance/tasks_list/vacuum/scheduled", &session)
        .json();
    for item in scheduled.as_array().unwrap() {
        assert_eq!(
            sorted_keys(item),
            ["datetime", "dbname", "id", "index", "mode", "schema", "status", "table"]
        );
    }
}

#[test]
fn tasks_are_paged_with_limit_and_offset() {
    let pg = PgCluster::shared();
    fresh_db_with_table_t(pg, "tasks_page");
    let (mut agent, session) = logged_in(Agent::start(pg));
    let scheduled: Vec<String> = (0..5)
        .map(|i| {
            schedule(
                &agent,
                &session,
                "/maintenance/tasks_page/schema/public/table/t/analyze",
                json!({ "datetime": format!("2099-01-0{}T00:00:00Z", i + 1) }),
            )
        })
        .collect();
    let all = tasks(&agent, &session, "");
    assert_eq!(all.len(), 5);
    let first_two = tasks(&agent, &session, "?limit=2");
    assert_eq!(ids(&first_two), ids(&all[..2]));
    let next_two = tasks(&agent, &session, "?limit=2&offset=2");
    assert_eq!(ids(&next_two), ids(&all[2..4]));
    assert!(tasks(&agent, &session, "?offset=5").is_empty());
    // Created one after the other (within a second: `created` ties): newest first
    // is the reverse of the order they were asked for, also after a restart.
    let mut newest_first: Vec<&str> = scheduled.iter().map(String::as_str).collect();
    newest_first.reverse();
    assert_eq!(ids(&all), newest_first);
    agent.kill9();
    let session = spawn_and_login(&mut agent);
    assert_eq!(ids(&tasks(&agent, &session, "")), newest_first);

    for bad in ["limit=-1", "limit=x", "offset=-3", "offset=1.5"] {
        let res = agent.get_as(&format!("/maintenance/tasks?{bad}"), &session);
        assert_eq!(res.status, 406, "{bad}: {}", res.text());
        res.error();
    }
}

#[test]
fn one_task_unknown_malformed_and_authentication() {
    let pg = PgCluster::shared();
    let (agent, session) = logged_in(Agent::start(pg));
    let res = agent.get_as("/maintenance/tasks/0123abcd", &session);
    assert_eq!(res.status, 404);
    assert!(res.error().contains("0123abcd"), "{}", res.error());
    for bad in ["XYZ", "0123ABCD", "0123456789"] {
        let res = agent.get_as(&format!("/maintenance/tasks/{bad}"), &session);
        assert_eq!(res.status, 406, "{bad}");
        assert_eq!(res.error(), "Parameter 'id' is malformed.");
    }
    // Session or key, as every maintenance endpoint.
    assert_eq!(
        agent.get(&format!("/maintenance/tasks?key={KEY}")).status,
        200
    );
    let res = agent.get("/maintenance/tasks");
    assert_eq!(res.status, 406);
    assert_eq!(res.error(), "Parameter 'X-Session' is malformed.");
    assert_eq!(
        agent.get_as("/maintenance/tasks", &"0".repeat(64)).status,
        401
    );
    assert_eq!(agent.get("/maintenance/tasks?key=wrong-key").status, 401);
}

#[test]
fn tasks_survive_a_restart_with_their_details() {
    let pg = PgCluster::shared();
    fresh_db_with_table_t(pg, "tasks_restart");
    let (mut agent, session) = logged_in(Agent::start(pg));
    let id = schedule(
        &agent,
        &session,
        "/maintenance/tasks_restart/schema/public/table/t/vacuum",
        json!({ "cron": "0 3 * * *", "mode": "freeze" }),
    );
    let before = agent
        .get_as(&format!("/maintenance/tasks/{id}"), &session)
        .json();
    agent.kill9();
    let session = spawn_and_login(&mut agent);
    let after = agent
        .get_as(&format!("/maintenance/tasks/{id}"), &session)
        .json();
    assert_eq!(after, before);
}

#[test]
fn a_body_of_whitespace_is_not_json_but_no_body_is_now() {
    let pg = PgCluster::shared();
    fresh_db_with_table_t(pg, "tasks_body");
    let (agent, session) = logged_in(Agent::start(pg));
    let path = "/maintenance/tasks_body/schema/public/table/t/analyze";
    // Found by the fuzzer: "\n" was taken for no body.
    let res = agent.send(Request::post(path, "\n").session(&session));
    assert_eq!(res.status, 400, "{}", res.text());
    res.error();
    let res = agent.send(Request::post(path, "").session(&session));
    assert_eq!(res.status, 200, "{}", res.text());
}
