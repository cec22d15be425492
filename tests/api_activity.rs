//! Activity API against a real agent and a real PostgreSQL: the backends listing with
//! its OS fields and filters, lock waiters and blockers, kill and cancel (and what
//! they must never signal), input validation, and a listing of 250 idle connections.
//! Every expected value is checked against pg_stat_activity read with psql.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

/// The pid of the backend whose pg_stat_activity row matches `condition` (SQL on
/// columns of pg_stat_activity), once there is one.
fn pid_where(pg: &PgCluster, condition: &str) -> i64 {
    // The backend of an earlier poll's psql may still be exiting, and still `active`
    // with this very text (which names what `condition` looks for): skipped too.
    let sql = format!(
        "SELECT pid FROM pg_stat_activity /* pid_where */ WHERE pid <> pg_backend_pid() \
         AND query NOT LIKE '%/* pid_where */%' AND ({condition})"
    );
    let mut pid = String::new();
    wait_until(WAIT, condition, || {
        pid = pg.psql("postgres", &sql);
        !pid.is_empty()
    });
    pid.lines().next().unwrap().parse().unwrap()
}

fn rows(agent: &Agent, session: &str, path: &str) -> Vec<Value> {
    let res = agent.get_as(path, session);
    assert_eq!(res.status, 200, "{path}: {}", res.text());
    let json = res.json();
    assert_eq!(json.as_object().unwrap().len(), 1, "{json}");
    json["rows"].as_array().expect("rows is a list").clone()
}

fn row_of(rows: &[Value], pid: i64) -> Option<&Value> {
    rows.iter().find(|r| r["pid"].as_i64() == Some(pid))
}

fn pids_of(rows: &[Value]) -> BTreeSet<i64> {
    rows.iter().map(|r| r["pid"].as_i64().unwrap()).collect()
}

fn psql_pids(pg: &PgCluster, db: &str, sql: &str) -> BTreeSet<i64> {
    pg.psql(db, sql)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.parse().unwrap())
        .collect()
}

fn keys(row: &Value) -> BTreeSet<&str> {
    row.as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

const ACTIVITY_KEYS: [&str; 13] = [
    "pid", "database", "user", "client", "cpu", "memory", "read_s", "write_s", "iow", "wait",
    "duration", "state", "query",
];
const LOCK_KEYS: [&str; 14] = [
    "pid", "database", "user", "cpu", "memory", "read_s", "write_s", "iow", "relation", "type",
    "mode", "state", "duration", "query",
];

/// "0.00B", "512.00B", "1.25M": two decimals and a unit.
fn is_human_bytes(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let (number, unit) = s.split_at(s.len() - 1);
    "BKMGTPEZY".contains(unit)
        && number.split_once('.').is_some_and(|(i, d)| {
            !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) && d.len() == 2
        })
}

fn assert_os_fields(row: &Value) {
    assert!(row["cpu"].as_f64().is_some_and(|c| c >= 0.0), "{row}");
    assert!(
        row["memory"].as_f64().is_some_and(|m| m > 0.0 && m < 100.0),
        "{row}"
    );
    assert!(is_human_bytes(&row["read_s"]), "{row}");
    assert!(is_human_bytes(&row["write_s"]), "{row}");
    assert!(["Y", "N"].contains(&row["iow"].as_str().unwrap()), "{row}");
}

fn assert_longest_first(rows: &[Value]) {
    for pair in rows.windows(2) {
        let (a, b) = (pair[0]["duration"].as_f64(), pair[1]["duration"].as_f64());
        assert!(a >= b, "not longest first: {a:?} then {b:?}");
    }
}

fn notifications(agent: &Agent, session: &str) -> Vec<Value> {
    let res = agent.get_as("/notifications", session);
    assert_eq!(res.status, 200);
    res.json().as_array().unwrap().clone()
}

fn postmaster_pid(pg: &PgCluster) -> i64 {
    let text = std::fs::read_to_string(pg.data_dir().join("postmaster.pid")).unwrap();
    text.lines().next().unwrap().trim().parse().unwrap()
}

fn process_alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(") ")
            .is_some_and(|(_, r)| !r.starts_with('Z'))
    })
}

#[test]
fn a_sleeping_session_is_listed_active_with_its_database_user_and_query() {
    let pg = PgCluster::shared();
    pg.fresh_db("act_sleep");
    let agent = Agent::start(pg);
    let session = agent.login();
    let query = "SELECT pg_sleep(120) /* act_sleep */";
    let _sleeper = Bg::run(pg, "act_sleep", query);
    let pid = pid_where(pg, "wait_event = 'PgSleep' AND datname = 'act_sleep'");

    // A backend younger than one clock tick at its first reading has no CPU or I/O
    // figures yet (docs/activity.md): look once it is a moment old.
    let mut all = Vec::new();
    wait_until(WAIT, "the sleeper listed with its OS figures", || {
        all = rows(&agent, &session, "/activity");
        row_of(&all, pid).is_some_and(|r| !r["cpu"].is_null() && !r["read_s"].is_null())
    });
    let row = row_of(&all, pid).expect("the sleeping backend is listed");
    assert_eq!(
        keys(row),
        ACTIVITY_KEYS.into_iter().collect::<BTreeSet<_>>(),
        "{row}"
    );
    assert_eq!(row["database"], "act_sleep");
    assert_eq!(row["user"], "postgres");
    assert_eq!(row["state"], "active");
    assert_eq!(row["query"], query);
    // psql came through the unix socket.
    assert_eq!(row["client"], Value::Null);
    assert_eq!(row["wait"], "N");
    assert!(row["duration"].as_f64().unwrap() >= 0.0);
    assert_os_fields(row);
    assert_longest_first(&all);

    // No background process. (The agent's own connections are hidden too, known by
    // their pids: tests/api_security.rs; those of the other tests' agents on this
    // shared cluster are other clients, and listed.)
    let excluded = psql_pids(
        pg,
        "postgres",
        "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'",
    );
    assert!(!excluded.is_empty());
    assert!(pids_of(&all).is_disjoint(&excluded), "{all:?}");

    // The agent key is enough for the listings.
    let res = agent.get(&format!("/activity?key={KEY}&dbname=act_sleep"));
    assert_eq!(res.status, 200, "{}", res.text());
    let by_key = res.json()["rows"].as_array().unwrap().clone();
    assert!(row_of(&by_key, pid).is_some());
    assert!(by_key.iter().all(|r| r["database"] == "act_sleep"));

    // Filters.
    let none = rows(&agent, &session, "/activity?user=nobody_here");
    assert!(none.is_empty(), "{none:?}");
    let none = rows(
        &agent,
        &session,
        "/activity?dbname=act_sleep&min_duration=100000",
    );
    assert!(none.is_empty(), "{none:?}");
    let mine = rows(
        &agent,
        &session,
        "/activity?dbname=act_sleep&user=postgres&min_duration=0",
    );
    assert!(row_of(&mine, pid).is_some());
    let one = rows(&agent, &session, "/activity?limit=1");
    assert_eq!(one.len(), 1);
}

#[test]
fn a_busy_backend_shows_cpu_and_its_query_can_be_cancelled() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let session = agent.login();
    let mut busy = Bg::run(
        pg,
        "postgres",
        // generate_series in the select list: pure CPU (in FROM it would be
        // materialized into temporary files).
        "SELECT count(*) FROM (SELECT generate_series(1, 10000000000)) AS s /* act_busy */",
    );
    let pid = pid_where(
        pg,
        "query LIKE '%/* act_busy */%' AND state = 'active' AND backend_type = 'client backend'",
    );
    // The first listing has no earlier reading; a later one compares two readings.
    let mut cpu = 0.0;
    wait_until(WAIT, "the busy backend to show CPU use", || {
        let all = rows(&agent, &session, "/activity");
        // cpu is null on the first listing of a backend only a few ms old.
        cpu = row_of(&all, pid).unwrap()["cpu"].as_f64().unwrap_or(0.0);
        std::thread::sleep(Duration::from_millis(200));
        cpu > 5.0
    });

    let res = agent.post_as("/activity/cancel", &session, &json!({ "pids": [pid] }));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json(),
        json!({ "backends": [{ "pid": pid, "cancelled": true }] })
    );
    let (ok, stderr) = busy.wait_exit(WAIT, "the cancelled query to end");
    assert!(!ok);
    assert!(
        stderr.contains("canceling statement due to user request"),
        "{stderr}"
    );
    let logged = notifications(&agent, &session);
    assert!(
        logged.iter().any(|n| n["username"] == USER
            && n["message"] == format!("Query of backend {pid} cancelled")),
        "{logged:?}"
    );
}

#[test]
fn lock_waiters_and_blockers_and_killing_the_blocker() {
    let pg = PgCluster::shared();
    pg.fresh_db("act_locks");
    pg.psql(
        "act_locks",
        "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL); INSERT INTO t VALUES (1, 0)",
    );
    let agent = Agent::start(pg);
    let session = agent.login();

    let holder_sql =
        "BEGIN; UPDATE t SET v = v + 1 WHERE id = 1; SELECT pg_sleep(600) /* act_holder */";
    let mut holder = Bg::run(pg, "act_locks", holder_sql);
    let holder_pid = pid_where(
        pg,
        "query LIKE '%/* act_holder */%' AND wait_event = 'PgSleep'",
    );
    let waiter_sql = "UPDATE t SET v = v + 10 WHERE id = 1 /* act_waiter */";
    let mut waiter = Bg::run(pg, "act_locks", waiter_sql);
    let waiter_pid = pid_where(
        pg,
        "query LIKE '%/* act_waiter */%' AND wait_event_type = 'Lock'",
    );
    // A relation-level wait, in a database other than the agent's.
    let locker_sql =
        "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; COMMIT; SELECT 1 /* act_locker */";
    let mut locker = Bg::run(pg, "act_locks", locker_sql);
    let locker_pid = pid_where(
        pg,
        "query LIKE '%/* act_locker */%' AND wait_event_type = 'Lock'",
    );

    let waiting = rows(&agent, &session, "/activity/waiting");
    let row = row_of(&waiting, waiter_pid).expect("the waiter is listed");
    assert_eq!(
        keys(row),
        LOCK_KEYS.into_iter().collect::<BTreeSet<_>>(),
        "{row}"
    );
    assert_eq!(row["database"], "act_locks");
    assert_eq!(row["user"], "postgres");
    assert_eq!(row["type"], "transactionid");
    assert_eq!(row["mode"], "ShareLock");
    assert_eq!(row["relation"], " ");
    assert_eq!(row["state"], "active");
    assert_eq!(row["query"], waiter_sql);
    assert_os_fields(row);
    let row = row_of(&waiting, locker_pid).expect("the table locker is listed");
    assert_eq!(row["type"], "relation");
    assert_eq!(row["mode"], "AccessExclusiveLock");
    assert_eq!(row["relation"], "public.t");
    assert!(row_of(&waiting, holder_pid).is_none(), "{waiting:?}");
    assert_longest_first(&waiting);

    let blocking = rows(&agent, &session, "/activity/blocking");
    let held: Vec<&Value> = blocking
        .iter()
        .filter(|r| r["pid"].as_i64() == Some(holder_pid))
        .collect();
    assert!(
        held.iter().any(|r| r["type"] == "transactionid"
            && r["mode"] == "ExclusiveLock"
            && r["relation"] == " "),
        "{blocking:?}"
    );
    assert!(
        held.iter().any(|r| r["type"] == "relation"
            && r["mode"] == "RowExclusiveLock"
            && r["relation"] == "public.t"),
        "{blocking:?}"
    );
    // Every row locking the table names it, however many there are.
    for r in blocking.iter().chain(&waiting) {
        if r["database"] == "act_locks" && r["type"] == "relation" {
            assert_eq!(r["relation"], "public.t", "{r}");
        }
    }
    let row = held[0];
    assert_eq!(keys(row), LOCK_KEYS.into_iter().collect::<BTreeSet<_>>());
    assert_eq!(row["database"], "act_locks");
    assert_eq!(row["state"], "active");
    assert_eq!(row["query"], holder_sql);
    assert!(row_of(&blocking, locker_pid).is_none(), "{blocking:?}");

    let all = rows(&agent, &session, "/activity?dbname=act_locks");
    assert_eq!(row_of(&all, waiter_pid).unwrap()["wait"], "Y");
    assert_eq!(row_of(&all, locker_pid).unwrap()["wait"], "Y");
    assert_eq!(row_of(&all, holder_pid).unwrap()["wait"], "N");

    // Filters apply to the lock listings too.
    assert!(rows(&agent, &session, "/activity/waiting?dbname=postgres")
        .iter()
        .all(|r| r["database"] == "postgres"));
    assert!(rows(&agent, &session, "/activity/blocking?user=nobody_here").is_empty());

    let res = agent.post_as("/activity/kill", &session, &json!({ "pids": [holder_pid] }));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json(),
        json!({ "backends": [{ "pid": holder_pid, "killed": true }] })
    );
    let (ok, stderr) = holder.wait_exit(WAIT, "the killed holder's psql to exit");
    assert!(!ok, "the holder's connection breaks");
    assert!(stderr.contains("terminat"), "{stderr}");
    let (ok, stderr) = waiter.wait_exit(WAIT, "the waiter to proceed");
    assert!(ok, "{stderr}");
    let (ok, stderr) = locker.wait_exit(WAIT, "the table locker to proceed");
    assert!(ok, "{stderr}");
    // The holder's update was rolled back, the waiter's applied.
    assert_eq!(pg.psql("act_locks", "SELECT v FROM t WHERE id = 1"), "10");

    let logged = notifications(&agent, &session);
    assert!(
        logged
            .iter()
            .any(|n| n["username"] == USER
                && n["message"] == format!("Backend {holder_pid} terminated")),
        "{logged:?}"
    );
    assert!(rows(&agent, &session, "/activity/waiting?dbname=act_locks").is_empty());
}

#[test]
fn kill_and_cancel_never_signal_what_is_not_a_client_backend() {
    let pg = PgCluster::shared();
    // A database of its own, so that the agent's connection is told from those of
    // the other tests' agents (which come and go).
    pg.fresh_db("act_own");
    let agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: "[postgresql]\ndbname = act_own\n".to_string(),
            ..AgentSetup::default()
        },
    );
    let session = agent.login();
    // The agent has a connection of its own once it has listed the backends.
    rows(&agent, &session, "/activity");
    let agent_conn = pid_where(
        pg,
        "application_name = 'temboard-agent' AND datname = 'act_own'",
    );
    let checkpointer = pid_where(pg, "backend_type = 'checkpointer'");
    let postmaster = postmaster_pid(pg);
    let agent_pid = i64::from(agent.pid());
    let mut idle = Bg::run(pg, "postgres", "SELECT pg_sleep(600) /* act_survivor */");
    let survivor = pid_where(pg, "query LIKE '%/* act_survivor */%'");
    let before = notifications(&agent, &session).len();

    let targets = [
        postmaster,
        agent_pid,
        1,
        checkpointer,
        agent_conn,
        2147483647,
    ];
    for (path, done) in [
        ("/activity/kill", "killed"),
        ("/activity/cancel", "cancelled"),
    ] {
        let res = agent.post_as(path, &session, &json!({ "pids": targets }));
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        let expected: Vec<Value> = targets
            .iter()
            .map(|pid| json!({ "pid": pid, done: false }))
            .collect();
        assert_eq!(res.json(), json!({ "backends": expected }), "{path}");
    }
    // Everything is still there and working.
    for pid in [postmaster, agent_pid, 1, checkpointer, agent_conn] {
        assert!(process_alive(pid), "{pid} is gone");
    }
    assert!(pg.is_running());
    assert_eq!(pid_where(pg, "backend_type = 'checkpointer'"), checkpointer);
    assert_eq!(agent.get("/status").status, 200);
    assert!(idle.running());
    assert_eq!(notifications(&agent, &session).len(), before);
    // A real backend in the same request is signalled, the rest still not.
    let res = agent.post_as(
        "/activity/kill",
        &session,
        &json!({ "pids": [postmaster, survivor] }),
    );
    assert_eq!(
        res.json(),
        json!({ "backends": [
            { "pid": postmaster, "killed": false },
            { "pid": survivor, "killed": true },
        ] })
    );
    idle.wait_exit(WAIT, "the terminated session to end");
    assert!(pg.is_running());
}

#[test]
fn an_empty_list_of_pids_signals_nothing() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let session = agent.login();
    let before = notifications(&agent, &session);
    for path in ["/activity/kill", "/activity/cancel"] {
        let res = agent.post_as(path, &session, &json!({ "pids": [] }));
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        assert_eq!(res.json(), json!({ "backends": [] }), "{path}");
        assert_eq!(res.header("Access-Control-Allow-Origin"), Some("*"));
    }
    assert_eq!(notifications(&agent, &session), before);
}

/// Found by the fuzzer (.ci/fuzz): `14843.0` is a JSON integer (JSON Schema's
/// `integer` admits it), and was refused as malformed.
#[test]
fn a_pid_written_with_a_fraction_of_zero_is_that_pid() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    for (path, word) in [
        ("/activity/kill", "killed"),
        ("/activity/cancel", "cancelled"),
    ] {
        // Pid 1 is no backend: answered false, nothing signalled.
        let res = agent.post_as(path, &session, &json!({ "pids": [1.0] }));
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        assert_eq!(
            res.json(),
            json!({ "backends": [{ "pid": 1, word: false }] })
        );
        for bad in [json!(0.0), json!(-4.0), json!(2147483648.0), json!(1e300)] {
            let res = agent.post_as(path, &session, &json!({ "pids": [bad] }));
            assert_eq!(res.status, 406, "{path} {bad}: {}", res.text());
        }
    }
}

#[test]
fn bad_input_and_authentication() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let session = agent.login();
    let too_many: Vec<u32> = (1..=1001).collect();
    for path in ["/activity/kill", "/activity/cancel"] {
        let res = agent.send(Request::post(path, "not json").session(&session));
        assert_eq!(res.status, 400, "{path}");
        for body in [
            json!({}),
            json!([1]),
            json!({ "pids": 12 }),
            json!({ "pids": ["12"] }),
            json!({ "pids": [0] }),
            json!({ "pids": [-4] }),
            json!({ "pids": [1.5] }),
            json!({ "pids": too_many }),
        ] {
            let res = agent.post_as(path, &session, &body);
            assert_eq!(res.status, 406, "{path} {body}");
            assert_eq!(res.error(), "Parameter 'pids' is malformed.");
        }
        // The agent key grants nothing here.
        let body = json!({ "pids": [1] }).to_string();
        let res = agent.send(Request::post(path, body.clone()).header("X-TemBoard-Agent-Key", KEY));
        assert_eq!(res.status, 406, "{path}");
        assert_eq!(res.error(), "Parameter 'X-Session' is malformed.");
        let res = agent.send(Request::post(path, body).session(&"0".repeat(64)));
        assert_eq!(res.status, 401, "{path}");
    }
    for path in ["/activity", "/activity/waiting", "/activity/blocking"] {
        for (query, name) in [
            ("limit=0", "limit"),
            ("limit=5001", "limit"),
            ("limit=ten", "limit"),
            ("min_duration=-1", "min_duration"),
            ("min_duration=soon", "min_duration"),
            ("dbname=", "dbname"),
            ("user=", "user"),
        ] {
            let res = agent.get_as(&format!("{path}?{query}"), &session);
            assert_eq!(res.status, 406, "{path}?{query}");
            assert_eq!(res.error(), format!("Parameter '{name}' is malformed."));
        }
        assert_eq!(agent.get(path).status, 406, "{path} without credentials");
        assert_eq!(agent.get(&format!("{path}?key=wrong")).status, 401);
        assert_eq!(agent.get(&format!("{path}?key={KEY}")).status, 200);
        assert_eq!(
            agent.get_as(&format!("{path}?limit=5000"), &session).status,
            200
        );
    }
}

#[test]
fn two_hundred_fifty_idle_connections_are_listed() {
    // A private cluster: 250 connections must not starve the other tests.
    let pg = PgCluster::start();
    pg.fresh_db("act_idle");
    pg.psql("act_idle", "CREATE EXTENSION dblink");
    let conninfo = format!(
        "host={} port={} user=postgres dbname=act_idle application_name=act_idle",
        pg.socket_dir().display(),
        pg.port()
    );
    let _holder = Bg::run(
        &pg,
        "act_idle",
        &format!(
            "SELECT count(dblink_connect('c' || i, '{conninfo}')) FROM generate_series(1, 250) AS i; \
             SELECT pg_sleep(600) /* act_idle_holder */"
        ),
    );
    wait_until(WAIT, "250 idle connections", || {
        pg.psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'act_idle'",
        ) == "250"
    });
    pid_where(
        &pg,
        "query LIKE '%/* act_idle_holder */%' AND wait_event = 'PgSleep'",
    );
    let agent = Agent::start(&pg);
    let session = agent.login();

    let truth_sql = "SELECT pid FROM pg_stat_activity \
         WHERE backend_type = 'client backend' AND application_name <> 'temboard-agent' \
         AND pid <> pg_backend_pid() ORDER BY COALESCE(query_start, backend_start), pid";
    let truth = psql_pids(&pg, "postgres", truth_sql);
    assert_eq!(truth.len(), 251);

    // The backend of the psql that read the truth may still be exiting.
    let mut all = Vec::new();
    wait_until(WAIT, "the listing to match pg_stat_activity", || {
        all = rows(&agent, &session, "/activity");
        pids_of(&all) == truth
    });
    assert_eq!(pids_of(&all), truth);
    assert_eq!(all.len(), 251, "no duplicates");
    assert_longest_first(&all);
    let idle: Vec<&Value> = all.iter().filter(|r| r["state"] == "idle").collect();
    assert_eq!(idle.len(), 250);
    for row in idle {
        assert_eq!(row["database"], "act_idle");
        assert_eq!(row["user"], "postgres");
        assert_eq!(row["client"], Value::Null);
        assert_eq!(row["wait"], "N");
        assert_os_fields(row);
    }

    // The limit drops the shortest running ones.
    let oldest: Vec<i64> = pg
        .psql("postgres", &format!("{truth_sql} LIMIT 100"))
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let limited = rows(&agent, &session, "/activity?limit=100");
    let limited_pids: Vec<i64> = limited.iter().map(|r| r["pid"].as_i64().unwrap()).collect();
    assert_eq!(limited_pids, oldest);
    // A second listing compares with the first readings.
    let again = rows(&agent, &session, "/activity?dbname=act_idle&user=postgres");
    assert_eq!(pids_of(&again), truth);
}

#[test]
fn relations_of_the_agents_database_are_named_and_quoted() {
    let pg = PgCluster::shared();
    pg.psql(
        "postgres",
        "DROP SCHEMA IF EXISTS act_cur CASCADE; CREATE SCHEMA act_cur; \
         CREATE TABLE act_cur.\"Mixed Case\" (id int)",
    );
    let agent = Agent::start(pg);
    let session = agent.login();
    let _holder = Bg::run(
        pg,
        "postgres",
        "BEGIN; LOCK TABLE act_cur.\"Mixed Case\" IN ACCESS EXCLUSIVE MODE; \
         SELECT pg_sleep(600) /* act_cur_holder */",
    );
    let holder = pid_where(
        pg,
        "query LIKE '%/* act_cur_holder */%' AND wait_event = 'PgSleep'",
    );
    let _waiter = Bg::run(
        pg,
        "postgres",
        "SELECT count(*) FROM act_cur.\"Mixed Case\" /* act_cur_waiter */",
    );
    let waiter = pid_where(
        pg,
        "query LIKE '%/* act_cur_waiter */%' AND wait_event_type = 'Lock'",
    );

    let waiting = rows(&agent, &session, "/activity/waiting?dbname=postgres");
    let row = row_of(&waiting, waiter).expect("the waiter is listed");
    assert_eq!(row["relation"], "act_cur.\"Mixed Case\"");
    assert_eq!(row["type"], "relation");
    assert_eq!(row["mode"], "AccessShareLock");
    let blocking = rows(&agent, &session, "/activity/blocking?dbname=postgres");
    let row = row_of(&blocking, holder).expect("the holder is listed");
    assert_eq!(row["relation"], "act_cur.\"Mixed Case\"");
    assert_eq!(row["mode"], "AccessExclusiveLock");
    assert_eq!(row["state"], "active");
}
