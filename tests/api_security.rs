//! Security hardening (issue 20, docs/security.md), one test per protection, each on
//! a real cluster: a planted operator in `public` never runs as the agent's
//! superuser (search_path pinned); the agent's own backends are recognised by pid,
//! not by an application_name anyone can set.

mod common;

use std::time::{Duration, Instant};

use actors::monitoring::registry::PROBES;
use common::*;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

/// What a planted object writes to the server log when it runs.
const TRAP_MARK: &str = "tba-trap fired";

/// Numeric types whose mixed operators have no exact match in pg_catalog: an
/// exact-match operator elsewhere on the search path would win over the implicit
/// cast (the CVE-2018-1058 pattern).
const INEXACT_PAIRS: &[(&str, &str)] = &[
    ("numeric", "smallint"),
    ("numeric", "integer"),
    ("numeric", "bigint"),
    ("real", "smallint"),
    ("real", "integer"),
    ("real", "bigint"),
    ("double precision", "smallint"),
    ("double precision", "integer"),
    ("double precision", "bigint"),
    ("numeric", "real"),
    ("numeric", "double precision"),
];

const ARITHMETIC: &[&str] = &["+", "-", "*", "/"];
const COMPARISON: &[&str] = &["<", "<=", ">", ">=", "=", "<>"];

/// Functions called on `name` columns or on mixed numbers, shadowed with exact
/// matches: `(signature, return type, what the catalog would compute)`.
const TRAP_FUNCTIONS: &[(&str, &str, &str)] = &[
    ("lower(name)", "text", "pg_catalog.lower($1::text)"),
    ("upper(name)", "text", "pg_catalog.upper($1::text)"),
    ("length(name)", "integer", "pg_catalog.length($1::text)"),
    (
        "char_length(name)",
        "integer",
        "pg_catalog.char_length($1::text)",
    ),
    ("btrim(name)", "text", "pg_catalog.btrim($1::text)"),
    (
        "left(name, integer)",
        "text",
        "pg_catalog.left($1::text, $2)",
    ),
    (
        "quote_ident(name)",
        "text",
        "pg_catalog.quote_ident($1::text)",
    ),
    (
        "round(double precision, integer)",
        "numeric",
        "pg_catalog.round($1::numeric, $2)",
    ),
    (
        "round(real, integer)",
        "numeric",
        "pg_catalog.round($1::numeric, $2)",
    ),
    (
        "trunc(double precision, integer)",
        "numeric",
        "pg_catalog.trunc($1::numeric, $2)",
    ),
    (
        "pg_size_pretty(integer)",
        "text",
        "pg_catalog.pg_size_pretty($1::bigint)",
    ),
    (
        "pg_size_pretty(double precision)",
        "text",
        "pg_catalog.pg_size_pretty($1::numeric)",
    ),
    (
        "pg_size_pretty(real)",
        "text",
        "pg_catalog.pg_size_pretty($1::numeric)",
    ),
];

/// The SQL a low-privilege role runs to plant its traps in `public`: every planted
/// operator and function logs TRAP_MARK (RAISE LOG: written even when the
/// statement fails later or runs read-only) and answers what the catalog would.
fn trap_sql() -> String {
    let mut sql = String::from("SET ROLE mallory;\n");
    let mut n = 0;
    let mut plant = |sql: &mut String, signature: &str, returns: &str, value: &str| {
        n += 1;
        sql.push_str(&format!(
            "CREATE FUNCTION public.trap_{n}({signature}) RETURNS {returns} \
             LANGUAGE plpgsql AS $t$ BEGIN RAISE LOG '{TRAP_MARK}: {n} as %', \
             current_user; RETURN {value}; END $t$;\n"
        ));
        format!("public.trap_{n}")
    };
    for (a, b) in INEXACT_PAIRS {
        for (left, right) in [(a, b), (b, a)] {
            let ty = if *left == "numeric" || *right == "numeric" {
                "numeric"
            } else {
                "double precision"
            };
            for op in ARITHMETIC {
                let f = plant(
                    &mut sql,
                    &format!("{left}, {right}"),
                    ty,
                    &format!("$1::{ty} OPERATOR(pg_catalog.{op}) $2::{ty}"),
                );
                sql.push_str(&format!(
                    "CREATE OPERATOR public.{op} (LEFTARG = {left}, RIGHTARG = {right}, \
                     FUNCTION = {f});\n"
                ));
            }
            for op in COMPARISON {
                let f = plant(
                    &mut sql,
                    &format!("{left}, {right}"),
                    "boolean",
                    &format!("$1::{ty} OPERATOR(pg_catalog.{op}) $2::{ty}"),
                );
                sql.push_str(&format!(
                    "CREATE OPERATOR public.{op} (LEFTARG = {left}, RIGHTARG = {right}, \
                     FUNCTION = {f});\n"
                ));
            }
        }
    }
    for (signature, returns, value) in TRAP_FUNCTIONS {
        let (name, args) = signature.split_once('(').unwrap();
        sql.push_str(&format!(
            "CREATE FUNCTION public.{name}({args} RETURNS {returns} LANGUAGE plpgsql AS \
             $t$ BEGIN RAISE LOG '{TRAP_MARK}: {name} as %', current_user; \
             RETURN {value}; END $t$;\n"
        ));
    }
    sql.push_str("RESET ROLE;\n");
    sql
}

fn get_ok(agent: &Agent, path: &str, session: &str) -> Value {
    let res = agent.get_as(path, session);
    assert_eq!(res.status, 200, "GET {path}: {}", res.text());
    res.json()
}

#[test]
fn operators_and_functions_planted_in_public_never_run_as_the_agent() {
    // A private cluster: the traps would fire in other tests' own psql sessions.
    let pg = PgCluster::start();
    pg.psql("postgres", "CREATE ROLE mallory LOGIN");
    pg.psql("postgres", "CREATE DATABASE userdb");
    pg.psql(
        "postgres",
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
    );
    let traps = trap_sql();
    for db in ["postgres", "userdb"] {
        // What every role could do before PostgreSQL 15, and still can where an
        // administrator granted it.
        pg.psql(db, "GRANT CREATE ON SCHEMA public TO mallory");
        pg.psql(
            db,
            "CREATE TABLE public.t (id int PRIMARY KEY, v text, r real, d float8) \
             WITH (autovacuum_enabled = false);\
             INSERT INTO public.t SELECT g, 'v' || g, g, g FROM generate_series(1, 2000) g;\
             DELETE FROM public.t WHERE id % 3 = 0; ANALYZE public.t;",
        );
        pg.psql(db, &traps);
    }
    // The traps are live: an unqualified mixed-type operator of a plain session
    // picks them.
    assert_eq!(pg.psql("userdb", "SELECT 2.5::numeric * 2"), "5.0");
    let log = std::fs::read_to_string(pg.log_file()).unwrap();
    assert!(log.contains(TRAP_MARK), "the trap did not fire for psql");
    let before = log.matches(TRAP_MARK).count();

    // Every probe runs on demand below, the bloat estimates too.
    let agent = Agent::start(&pg);
    let session = agent.login();
    // Keeps a backend in userdb for the activity endpoints and a kill.
    let mut sleeper = Bg::run(&pg, "userdb", "SELECT pg_sleep(60)");
    wait_until(WAIT, "the sleeper in pg_stat_activity", || {
        pg.psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'",
        ) == "1"
    });

    let gets = [
        "/discover",
        "/profile",
        "/activity",
        "/activity/waiting",
        "/activity/blocking",
        "/administration/pg_version",
        "/dashboard",
        "/dashboard/live",
        "/dashboard/config",
        "/dashboard/history",
        "/dashboard/buffers",
        "/dashboard/hitratio",
        "/dashboard/active_backends",
        "/dashboard/databases",
        "/dashboard/info",
        "/dashboard/max_connections",
        "/monitoring/config",
        "/monitoring/history",
        "/pgconf/configuration",
        "/pgconf/configuration/categories",
        "/pgconf/configuration/status",
        "/maintenance",
        "/maintenance/postgres",
        "/maintenance/userdb",
        "/maintenance/userdb/schema/public",
        "/maintenance/userdb/schema/public/table/t",
        "/maintenance/vacuum/scheduled",
        "/statements",
        "/notifications",
    ];
    for path in gets {
        get_ok(&agent, path, &session);
    }
    let metrics = agent.send(Request::get(&format!("/metrics?key={KEY}")));
    assert_eq!(metrics.status, 200, "{}", metrics.text());
    for probe in PROBES {
        let path = format!("/monitoring/probe/{}?key={KEY}", probe.name);
        let res = agent.get(&path);
        assert_eq!(res.status, 200, "GET {path}: {}", res.text());
    }
    // Maintenance runs in the user database.
    for op in ["vacuum", "analyze", "reindex"] {
        let path = format!("/maintenance/userdb/schema/public/table/t/{op}");
        let res = agent.post_as(&path, &session, &json!({}));
        assert_eq!(res.status, 200, "POST {path}: {}", res.text());
        let id = res.json()["id"].as_str().unwrap().to_string();
        wait_until(WAIT, &format!("{op} {id} done"), || {
            get_ok(&agent, &format!("/maintenance/{op}/scheduled"), &session)
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["id"] == id.as_str() && t["status"] == "done")
        });
    }
    // A setting written and reloaded, a backend cancelled then killed.
    let res = agent.post_as(
        "/pgconf/configuration",
        &session,
        &json!({ "settings": [{ "name": "work_mem", "setting": "5MB" }] }),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    let pid: i64 = pg
        .psql(
            "postgres",
            "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'",
        )
        .parse()
        .unwrap();
    for action in ["cancel", "kill"] {
        let res = agent.post_as(
            &format!("/activity/{action}"),
            &session,
            &json!({ "pids": [pid] }),
        );
        assert_eq!(res.status, 200, "{}", res.text());
    }
    let _ = sleeper.wait_exit(WAIT, "the killed sleeper");
    // The sampler and the collector ran their queries (a second round at least).
    wait_until(WAIT, "two dashboard samples", || {
        get_ok(&agent, "/dashboard/history", &session)
            .as_array()
            .is_some_and(|h| h.len() >= 2)
    });

    let log = std::fs::read_to_string(pg.log_file()).unwrap();
    let fired: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(TRAP_MARK))
        .skip(before)
        .collect();
    assert!(
        fired.is_empty(),
        "planted objects ran {} times: {:#?}",
        fired.len(),
        &fired[..fired.len().min(10)]
    );
}

/// Point 11: a client calling itself `temboard-agent` is listed and can be
/// cancelled and killed; the agent's own backends stay hidden and unkillable.
#[test]
fn a_client_named_temboard_agent_is_listed_and_killable_the_agent_is_not() {
    let pg = PgCluster::shared();
    pg.fresh_db("sec_impostor");
    pg.fresh_db("sec_own");
    // The agent's pool lives in sec_own: its backends are told from the other
    // tests' agents there.
    let agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: "[postgresql]\ndbname = sec_own\n".to_string(),
            ..AgentSetup::default()
        },
    );
    let session = agent.login();
    let impostor_sql = "SET application_name = 'temboard-agent'; SELECT pg_sleep(600)";
    let mut impostor = Bg::run(pg, "sec_impostor", impostor_sql);
    let find = "SELECT pid FROM pg_stat_activity WHERE datname = 'sec_impostor' \
                AND application_name = 'temboard-agent' AND wait_event = 'PgSleep'";
    wait_until(WAIT, "the impostor sleeping", || {
        !pg.psql("postgres", find).is_empty()
    });
    let impostor_pid: i64 = pg.psql("postgres", find).parse().unwrap();

    let listed = |path: &str| -> Vec<i64> {
        get_ok(&agent, path, &session)["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["pid"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(listed("/activity?dbname=sec_impostor"), vec![impostor_pid]);
    // The agent's own backend (the pool's, in sec_own) is not listed, nor signalled.
    let own: i64 = pg
        .psql(
            "postgres",
            "SELECT pid FROM pg_stat_activity WHERE datname = 'sec_own' \
             AND application_name = 'temboard-agent' LIMIT 1",
        )
        .parse()
        .unwrap();
    assert!(listed("/activity?dbname=sec_own").is_empty());
    let res = agent.post_as("/activity/kill", &session, &json!({ "pids": [own] }));
    assert_eq!(
        res.json(),
        json!({ "backends": [{ "pid": own, "killed": false }] })
    );

    let res = agent.post_as(
        "/activity/cancel",
        &session,
        &json!({ "pids": [impostor_pid] }),
    );
    assert_eq!(
        res.json(),
        json!({ "backends": [{ "pid": impostor_pid, "cancelled": true }] })
    );
    // Cancelled: psql exits on the error.
    let (ok, _) = impostor.wait_exit(WAIT, "the cancelled impostor");
    assert!(!ok);
    let mut impostor = Bg::run(pg, "sec_impostor", impostor_sql);
    wait_until(WAIT, "the impostor sleeping again", || {
        !pg.psql("postgres", find).is_empty()
    });
    let impostor_pid: i64 = pg.psql("postgres", find).parse().unwrap();
    let res = agent.post_as(
        "/activity/kill",
        &session,
        &json!({ "pids": [impostor_pid] }),
    );
    assert_eq!(
        res.json(),
        json!({ "backends": [{ "pid": impostor_pid, "killed": true }] })
    );
    impostor.wait_exit(WAIT, "the killed impostor");
}

/// Point 4: wrong agent keys count against the address as failed logins do: the
/// first ones answered at once, the next held back, then 429 whatever the key or
/// password, from that address only.
#[test]
fn wrong_agent_keys_are_throttled_like_failed_logins() {
    let agent = Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            temboard: vec![
                "login_free_failures = 2".to_string(),
                "login_lockout_failures = 4".to_string(),
                "login_lockout_window = 600".to_string(),
            ],
            ..AgentSetup::default()
        },
    );
    let wrong = "/monitoring/probe/loadavg?key=not-the-key-0123456789";
    for _ in 0..2 {
        assert_eq!(agent.get(wrong).status, 401);
    }
    let started = Instant::now();
    assert_eq!(agent.get(wrong).status, 401);
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "the third wrong key in a minute is held back"
    );
    assert_eq!(agent.get(wrong).status, 401);
    // Locked out: the right key, the right password, a wrong key, all 429.
    let right = format!("/monitoring/probe/loadavg?key={KEY}");
    for res in [
        agent.get(&right),
        agent.try_login(USER, PASSWORD),
        agent.send(
            Request::get("/discover").header("X-TemBoard-Agent-Key", "guess-0123456789abcdef"),
        ),
    ] {
        assert_eq!(res.status, 429, "{}", res.text());
        let retry: u64 = res.header("Retry-After").unwrap().parse().unwrap();
        assert!(retry > 0 && retry <= 600, "{retry}");
    }
    // Another address is not affected.
    let other = agent.send(Request::get(&right).from("127.0.0.2".parse().unwrap()));
    assert_eq!(other.status, 200, "{}", other.text());
}

/// Point 4: a key shorter than 16 characters stops the start-up, naming the file,
/// the section and the key, never quoting the key.
#[test]
fn a_short_agent_key_stops_the_start_up_without_quoting_it() {
    let short = "tiny-key-1234";
    let mut agent = Agent::prepare(
        PgCluster::shared(),
        AgentSetup {
            key: Some(short.to_string()),
            ..AgentSetup::default()
        },
    );
    let output = agent.try_spawn().unwrap_err();
    assert!(output.contains("[temboard] key"), "{output}");
    assert!(output.contains("temboard-agent.conf"), "{output}");
    assert!(output.contains("16"), "{output}");
    assert!(!output.contains(short), "the key is quoted: {output}");
    // Sixteen characters start.
    let mut agent = Agent::prepare(
        PgCluster::shared(),
        AgentSetup {
            key: Some("sixteen-chars-ok".to_string()),
            ..AgentSetup::default()
        },
    );
    agent.spawn();
}

/// Point 10: a NULL where the agent reads a number (pg_database_size() of a database
/// whose files are gone answers NULL) is a clear 500, not a panic (which aborts a
/// release build); the detail is in the agent's log only, and the agent goes on.
#[test]
fn a_null_from_the_catalog_is_a_generic_500_not_a_panic() {
    // A private cluster: the test removes a database's files.
    let pg = PgCluster::start();
    pg.psql("postgres", "CREATE DATABASE sec_ghost");
    let oid = pg.psql(
        "postgres",
        "SELECT oid FROM pg_database WHERE datname = 'sec_ghost'",
    );
    std::fs::remove_dir_all(pg.data_dir().join("base").join(&oid)).unwrap();
    assert_eq!(
        pg.psql(
            "postgres",
            &format!("SELECT pg_database_size({oid}) IS NULL")
        ),
        "t"
    );
    let agent = Agent::start(&pg);
    let session = agent.login();
    let res = agent.get_as("/maintenance", &session);
    assert_eq!(res.status, 500, "{}", res.text());
    assert_eq!(
        res.json(),
        json!({ "error": "Internal error of the agent; its log has the detail." })
    );
    wait_until(WAIT, "the detail in the agent's log", || {
        agent.log().contains("column total_bytes")
    });
    // The agent goes on serving, PostgreSQL endpoints too.
    assert_eq!(agent.get("/status").status, 200);
    get_ok(&agent, "/maintenance/postgres", &session);
}

/// Point 2: 200 concurrent browse requests (each needs a dedicated connection to the
/// browsed database) never take more than `[postgresql] max_connections` of the
/// server's connections, counted in pg_stat_activity, and every one is answered:
/// 200, or 503 `{"error": ...}` after a short wait for a free connection.
#[test]
fn concurrent_requests_never_take_more_than_max_connections() {
    const CAP: usize = 4;
    // A private cluster: every temboard-agent backend on it is this agent's.
    let pg = PgCluster::start();
    pg.psql("postgres", "CREATE DATABASE sec_browse");
    pg.psql(
        "sec_browse",
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);\
         INSERT INTO a SELECT generate_series(1, 1000); ANALYZE;",
    );
    let agent = Agent::start_with(
        &pg,
        AgentSetup {
            extra: format!("[postgresql]\nmax_connections = {CAP}\n"),
            ..AgentSetup::default()
        },
    );
    let session = agent.login();
    let done = std::sync::atomic::AtomicBool::new(false);
    let count_sql =
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'temboard-agent'";
    let (most, answers) = std::thread::scope(|scope| {
        let poller = scope.spawn(|| {
            let mut most = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let n: usize = pg.psql("postgres", count_sql).parse().unwrap();
                most = most.max(n);
            }
            most
        });
        let clients: Vec<_> = (0..200)
            .map(|_| {
                scope.spawn(|| {
                    let res = agent.get_as("/maintenance/sec_browse/schema/public", &session);
                    (res.status, res.text())
                })
            })
            .collect();
        let answers: Vec<(u16, String)> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (poller.join().unwrap(), answers)
    });
    assert!(
        most <= CAP,
        "{most} agent connections at once, the cap is {CAP}"
    );
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    for (status, text) in &answers {
        match status {
            200 => {}
            503 => assert!(text.contains("max_connections"), "{text}"),
            _ => panic!("{status} {text}"),
        }
    }
    assert!(ok > 0, "no request answered 200: {:?}", answers.first());
    // Nothing is held once the burst is over: the listing still answers.
    get_ok(&agent, "/maintenance/sec_browse/schema/public", &session);
}

/// Point 9: a session ends `session_lifetime` seconds after its login however much
/// it is used.
#[test]
fn a_session_in_constant_use_ends_at_its_lifetime() {
    let agent = Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            temboard: vec![
                "session_timeout = 3600".to_string(),
                "session_lifetime = 2".to_string(),
            ],
            ..AgentSetup::default()
        },
    );
    let session = agent.login();
    let started = Instant::now();
    wait_until(WAIT, "the session to end", || {
        let status = agent.get_as("/profile", &session).status;
        assert!(status == 200 || status == 401, "{status}");
        status == 401
    });
    // Used every 50 ms, never idle: it is the lifetime that ended it.
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    // A new login works.
    let again = agent.login();
    assert_eq!(agent.get_as("/profile", &again).status, 200);
}

/// Point 9: a user's logins beyond `max_user_sessions` evict that user's oldest
/// sessions, never another user's.
#[test]
fn a_users_logins_beyond_the_per_user_cap_evict_only_their_oldest() {
    let agent = Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            users: vec![
                (USER.to_string(), PASSWORD.to_string()),
                ("bob".to_string(), "bob-s3cret".to_string()),
            ],
            temboard: vec![
                "max_user_sessions = 3".to_string(),
                "max_sessions = 100".to_string(),
            ],
            ..AgentSetup::default()
        },
    );
    let bob = agent.try_login("bob", "bob-s3cret").json()["session"]
        .as_str()
        .unwrap()
        .to_string();
    let alice: Vec<String> = (0..5).map(|_| agent.login()).collect();
    let status = |s: &str| agent.get_as("/profile", s).status;
    assert_eq!(status(&alice[0]), 401, "the oldest is evicted");
    assert_eq!(status(&alice[1]), 401);
    for s in &alice[2..] {
        assert_eq!(status(s), 200);
    }
    assert_eq!(status(&bob), 200, "another user's session stays");
}

/// Point 7: a secret setting's value reaches neither the notification log nor the
/// agent's log; the state directory is 0700 and the SQLite store 0600; a TLS key
/// readable by every user is warned about.
#[test]
fn secrets_stay_out_of_the_audit_trail_and_the_state_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // A private cluster: the test writes primary_conninfo with ALTER SYSTEM.
    let pg = PgCluster::start();
    let mut agent = Agent::prepare(&pg, AgentSetup::default());
    let key_file = agent.dir.path().join("server.key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    agent.spawn();
    assert!(
        agent
            .log()
            .contains("TLS private key is readable by every user"),
        "{}",
        agent.log()
    );
    let home = agent.dir.path().join("home");
    assert_eq!(mode(&home), 0o700, "the state directory");
    let session = agent.login();
    let secret = "hunter2-never-logged";
    let res = agent.post_as(
        "/pgconf/configuration",
        &session,
        &json!({ "settings": [{
            "name": "primary_conninfo",
            "setting": format!("host=/tmp user=replicator password={secret}"),
        }] }),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    for file in ["temboard-agent.db", "temboard-agent.db-wal"] {
        let path = home.join(file);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }
    let notifications = get_ok(&agent, "/notifications", &session).to_string();
    assert!(
        notifications.contains("Setting primary_conninfo changed"),
        "{notifications}"
    );
    assert!(!notifications.contains(secret), "{notifications}");
    assert!(!agent.log().contains(secret), "{}", agent.log());
}

/// Point 3: a burst of parallel wrong logins from one address is limited like the
/// same logins one after the other: at most `login_free_failures` answered without
/// delay (the agent logs each failure's delay), the others held back or 429.
#[test]
fn a_burst_of_parallel_wrong_logins_gets_no_more_free_answers() {
    let agent = Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            temboard: vec![
                "login_free_failures = 3".to_string(),
                "login_lockout_failures = 10".to_string(),
                "login_lockout_window = 600".to_string(),
            ],
            ..AgentSetup::default()
        },
    );
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..200)
            .map(|_| scope.spawn(|| agent.try_login(USER, "wrong").status))
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let failed = statuses.iter().filter(|s| **s == 404).count();
    assert!(
        statuses.iter().all(|s| [404, 429, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(failed <= 10, "{failed} password checks for a lockout of 10");
    let log = agent.log();
    let free = log
        .lines()
        .filter(|l| l.contains("failed login") && l.contains("answer_delay_ms: 0"))
        .count();
    assert!(
        (1..=3).contains(&free),
        "{free} failures answered at once:\n{log}"
    );
}

/// Point 3: the password checks running at once are bounded for all addresses
/// together (2 per CPU): logins from 200 addresses at once, each within its own
/// guard, are partly answered 503 instead of queueing bcrypt work without end.
#[test]
fn password_checks_in_flight_are_bounded_across_addresses() {
    let agent = Agent::start(PgCluster::shared());
    let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
        let agent = &agent;
        let clients: Vec<_> = (1..=200u8)
            .map(|i| {
                scope.spawn(move || {
                    let body = json!({ "username": USER, "password": "wrong" }).to_string();
                    let from = std::net::IpAddr::from([127, 0, 1, i]);
                    let res = agent.send(Request::post("/login", body).from(from));
                    (res.status, res.text())
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let busy: Vec<&String> = answers
        .iter()
        .filter(|(s, _)| *s == 503)
        .map(|(_, t)| t)
        .collect();
    assert!(
        answers.iter().all(|(s, _)| *s == 404 || *s == 503),
        "{answers:?}"
    );
    assert!(!busy.is_empty(), "200 bcrypt checks ran at once");
    assert!(busy[0].contains("Too many logins"), "{}", busy[0]);
}
