//! Every GET endpoint of the spec answers exactly the key sets of the spec's
//! example (tests/fixtures/spec/examples.json, extracted from agent-api.md by
//! tests/fixtures/spec/extract.py), at every level of nesting, so that a key
//! beyond the spec cannot creep back in. The only extras allowed are the ones the
//! resolutions name: `cpu_models`, `linux_distribution` (and `timestamp`) of the
//! dashboard data set, and the server's own column names of `/statements` rows.

mod common;

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use common::{sorted_keys, Agent, Bg, PgCluster, Request, KEY};
use serde_json::{json, Value};

const EXAMPLES: &str = include_str!("fixtures/spec/examples.json");

fn examples() -> &'static Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    PARSED.get_or_init(|| serde_json::from_str(EXAMPLES).expect("examples.json is JSON"))
}

fn example(name: &str) -> &'static Value {
    examples()
        .get(name)
        .unwrap_or_else(|| panic!("no spec example named {name}"))
}

/// Keys an object may carry beyond its example, by the path the comparison is at.
struct Allowed {
    /// Keys that must be there too (the 7.x keys the web UI reads).
    required: &'static [&'static str],
    optional: &'static [&'static str],
}

const NOTHING: Allowed = Allowed {
    required: &[],
    optional: &[],
};

/// The dashboard data set's 7.x keys (resolutions, "Key sets").
const DATA_SET: Allowed = Allowed {
    required: &["cpu_models", "linux_distribution"],
    optional: &["timestamp"],
};

/// The server's own names of pg_stat_statements columns (resolutions, "Value encodings").
const STATEMENT_ROW: Allowed = Allowed {
    required: &[],
    optional: &[
        "total_exec_time",
        "min_exec_time",
        "max_exec_time",
        "mean_exec_time",
        "stddev_exec_time",
        "shared_blk_read_time",
        "shared_blk_write_time",
        "local_blk_read_time",
        "local_blk_write_time",
    ],
};

/// Compares the key sets of `actual` with those of `example`, recursively: objects
/// must have the same keys; every item of a list is compared with the example's
/// first item; a list the example shows with items must not be empty. `allowed`
/// names the extras of the objects at the top level (`""`) or of list items (`"[]"`).
fn differences(
    example: &Value,
    actual: &Value,
    at: &str,
    allowed: &dyn Fn(&str) -> &'static Allowed,
    out: &mut Vec<String>,
) {
    match (example, actual) {
        (Value::Object(want), Value::Object(got)) => {
            let extra = allowed(at);
            let want_keys: BTreeSet<&str> = want.keys().map(String::as_str).collect();
            let got_keys: BTreeSet<&str> = got.keys().map(String::as_str).collect();
            for key in want_keys.difference(&got_keys) {
                out.push(format!("{at}: missing key {key:?}"));
            }
            for key in got_keys.difference(&want_keys) {
                if !extra.required.contains(key) && !extra.optional.contains(key) {
                    out.push(format!("{at}: key {key:?} is not in the spec"));
                }
            }
            for key in extra.required {
                if !got.contains_key(*key) {
                    out.push(format!(
                        "{at}: missing key {key:?} (7.x, read by the web UI)"
                    ));
                }
            }
            for (key, value) in want {
                if let Some(got_value) = got.get(key) {
                    differences(value, got_value, &format!("{at}.{key}"), allowed, out);
                }
            }
        }
        (Value::Array(want), Value::Array(got)) => {
            if let Some(first) = want.first() {
                if got.is_empty() {
                    out.push(format!("{at}: empty list, the test wants items to compare"));
                }
                for item in got {
                    differences(first, item, &format!("{at}[]"), allowed, out);
                }
            }
        }
        // A scalar, a null, or a value whose example is null: no keys to compare.
        _ => {}
    }
}

fn assert_key_sets(name: &str, actual: &Value, allowed: &dyn Fn(&str) -> &'static Allowed) {
    assert_keys_like(name, example(name), actual, allowed)
}

fn assert_keys_like(
    name: &str,
    example: &Value,
    actual: &Value,
    allowed: &dyn Fn(&str) -> &'static Allowed,
) {
    let mut out = Vec::new();
    differences(example, actual, "", allowed, &mut out);
    assert!(
        out.is_empty(),
        "{name}: the answer's keys differ from the spec example's:\n  {}\nanswer: {actual}",
        out.join("\n  ")
    );
}

fn exact(_: &str) -> &'static Allowed {
    &NOTHING
}

/// Polls `path` until the answer is 200 and has no empty list where the example has
/// items (a delta probe answers `[]` at its first call, the history fills up).
fn answer_with_items(agent: &Agent, session: &str, path: &str, name: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let res = agent.get_as(path, session);
        assert_eq!(res.status, 200, "GET {path}: {}", res.text());
        let last = res.json();
        let mut out = Vec::new();
        differences(example(name), &last, "", &|_| &DATA_SET, &mut out);
        if !out.iter().any(|d| d.contains("empty list")) {
            return last;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "GET {path} still has empty lists: {last}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Everything the spec's examples show, made real on a private cluster: the table
/// `public.country` with its primary key `country_pkey` in `postgres`, scheduled
/// VACUUM, ANALYZE and REINDEX at every level, a lock waiter and its blocker, a
/// pending restart, executed statements.
struct World {
    pg: &'static PgCluster,
    agent: Agent,
    session: String,
}

/// What the instance holds for every test: the tables, the pending restart, the
/// lock waiter and its blocker (their psql sessions end with the cluster).
struct Instance {
    pg: &'static PgCluster,
    _holder: Bg,
    _waiter: Bg,
}

fn instance() -> &'static Instance {
    static INSTANCE: OnceLock<Instance> = OnceLock::new();
    INSTANCE.get_or_init(prepare_instance)
}

/// Each test has its agent (stopped when the test ends) on the shared instance.
fn world() -> World {
    let pg = instance().pg;
    let agent = Agent::start_with(
        pg,
        common::AgentSetup {
            extra: "[dashboard]\nscheduler_interval = 1\n\n[monitoring]\nscheduler_interval = 60\n"
                .to_string(),
            ..Default::default()
        },
    );
    let session = agent.login();
    for (path, body) in [
        (
            "/maintenance/postgres/schema/public/table/country/vacuum",
            json!({"datetime": "2099-01-01T00:00:00Z", "mode": "full"}),
        ),
        (
            "/maintenance/postgres/vacuum",
            json!({"datetime": "2099-01-01T00:00:00Z"}),
        ),
        (
            "/maintenance/postgres/schema/public/table/country/analyze",
            json!({"datetime": "2099-01-01T00:00:00Z"}),
        ),
        (
            "/maintenance/postgres/analyze",
            json!({"datetime": "2099-01-01T00:00:00Z"}),
        ),
        (
            "/maintenance/postgres/schema/public/table/country/reindex",
            json!({"datetime": "2099-01-01T00:00:00Z"}),
        ),
        (
            "/maintenance/postgres/reindex",
            json!({"datetime": "2099-01-01T00:00:00Z"}),
        ),
    ] {
        let res = agent.post_as(path, &session, &body);
        assert_eq!(res.status, 200, "POST {path}: {}", res.text());
    }
    World { pg, agent, session }
}

fn prepare_instance() -> Instance {
    let pg = PgCluster::shared();
    pg.psql(
        "postgres",
        "CREATE TABLE IF NOT EXISTS public.country (code text PRIMARY KEY, name text); \
         INSERT INTO public.country SELECT i::text, 'c' || i FROM generate_series(1, 200) i \
         ON CONFLICT DO NOTHING; ANALYZE public.country; \
         CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
    );
    // A setting that waits for a restart: /pgconf/configuration/status lists it.
    pg.psql("postgres", "ALTER SYSTEM SET shared_buffers = '33MB'");
    pg.psql("postgres", "SELECT pg_reload_conf()");
    // A row lock, as the spec's example: readers of the table are not blocked.
    pg.psql(
        "postgres",
        "CREATE TABLE IF NOT EXISTS public.locked_row (id int PRIMARY KEY); \
         INSERT INTO public.locked_row VALUES (1) ON CONFLICT DO NOTHING",
    );
    let mut holder = Bg::open(pg, "postgres");
    holder.send("BEGIN; DELETE FROM public.locked_row WHERE id = 1;");
    common::wait_until(Duration::from_secs(20), "the row lock held", || {
        pg.psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' \
             AND query LIKE 'DELETE FROM public.locked_row%'",
        ) == "1"
    });
    let waiter = Bg::run(pg, "postgres", "DELETE FROM public.locked_row WHERE id = 1");
    common::wait_until(Duration::from_secs(20), "a lock waiter", || {
        pg.psql(
            "postgres",
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'",
        ) == "1"
    });
    Instance {
        pg,
        _holder: holder,
        _waiter: waiter,
    }
}

/// The spec's GET examples each test below compares (the scheduled lists all with
/// the items of `GET /maintenance/vacuum/scheduled`, which they share).
const CHECKED: &[&str] = &[
    "GET /discover",
    "GET /profile",
    "GET /notifications",
    "GET /status",
    "GET /logout",
    "GET /activity",
    "GET /activity/waiting",
    "GET /activity/blocking",
    "GET /dashboard",
    "GET /dashboard/history",
    "GET /dashboard/config",
    "GET /dashboard/buffers",
    "GET /dashboard/hitratio",
    "GET /dashboard/active_backends",
    "GET /dashboard/cpu",
    "GET /dashboard/loadaverage",
    "GET /dashboard/memory",
    "GET /dashboard/hostname",
    "GET /dashboard/os_version",
    "GET /dashboard/pg_version",
    "GET /dashboard/n_cpu",
    "GET /dashboard/databases",
    "GET /dashboard/info",
    "GET /dashboard/max_connections",
    "GET /monitoring/probe/sessions",
    "GET /monitoring/probe/xacts",
    "GET /monitoring/probe/locks",
    "GET /monitoring/probe/blocks",
    "GET /monitoring/probe/bgwriter",
    "GET /monitoring/probe/db_size",
    "GET /monitoring/probe/tblspc_size",
    "GET /monitoring/probe/filesystems_size",
    "GET /monitoring/probe/cpu",
    "GET /monitoring/probe/process",
    "GET /monitoring/probe/memory",
    "GET /monitoring/probe/loadavg",
    "GET /monitoring/probe/wal_files",
    "GET /pgconf/configuration",
    "GET /pgconf/configuration/categories",
    "GET /pgconf/configuration/category/Autovacuum",
    "GET /pgconf/configuration/status",
    "GET /maintenance",
    "GET /maintenance/postgres",
    "GET /maintenance/postgres/schema/public",
    "GET /maintenance/postgres/schema/public/table/country",
    "GET /maintenance/vacuum/scheduled",
    "GET /maintenance/analyze/scheduled",
    "GET /maintenance/reindex/scheduled",
    "GET /maintenance/postgres/vacuum/scheduled",
    "GET /maintenance/postgres/analyze/scheduled",
    "GET /maintenance/postgres/reindex/scheduled",
    "GET /maintenance/postgres/schema/public/reindex/scheduled",
    "GET /maintenance/postgres/schema/public/table/country/vacuum/scheduled",
    "GET /maintenance/postgres/schema/public/table/country/analyze/scheduled",
    "GET /statements",
];

#[test]
fn every_get_example_of_the_spec_is_checked() {
    let mut examples: Vec<&str> = examples()
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| k.starts_with("GET "))
        .collect();
    examples.sort_unstable();
    let mut checked = CHECKED.to_vec();
    checked.sort_unstable();
    assert_eq!(checked, examples);
    // The scheduled lists' examples all show the same item keys.
    let item = sorted_keys(&example("GET /maintenance/vacuum/scheduled")[0]);
    for name in CHECKED.iter().filter(|n| n.ends_with("/scheduled")) {
        assert_eq!(sorted_keys(&example(name)[0]), item, "{name}");
    }
}

#[test]
fn core_endpoints_answer_the_spec_keys() {
    let w = world();
    let other = w.agent.login();
    let res = w.agent.get_as("/logout", &other);
    assert_eq!(res.status, 200);
    assert_key_sets("GET /logout", &res.json(), &exact);
    for path in ["/discover", "/profile", "/notifications"] {
        let name = format!("GET {path}");
        let value = answer_with_items(&w.agent, &w.session, path, &name);
        assert_key_sets(&name, &value, &exact);
    }
    let status = w.agent.get("/status");
    assert_eq!(status.status, 200);
    assert_key_sets("GET /status", &status.json(), &exact);
}

#[test]
fn activity_endpoints_answer_the_spec_keys() {
    let w = world();
    for path in ["/activity", "/activity/waiting", "/activity/blocking"] {
        let name = format!("GET {path}");
        let value = answer_with_items(&w.agent, &w.session, path, &name);
        assert_key_sets(&name, &value, &exact);
    }
}

#[test]
fn dashboard_endpoints_answer_the_spec_keys() {
    let w = world();
    let data_set = |at: &str| -> &'static Allowed {
        if at.is_empty() || at == "[]" {
            &DATA_SET
        } else {
            &NOTHING
        }
    };
    // The data set: /dashboard, /dashboard/live and each history item. The spec
    // shows it twice: the /dashboard example (2015) lacks keys the history example
    // (2017) has (max_connections, pg_data, pg_port, pg_uptime, databases.timestamp);
    // the later, complete one is the data set's key set. Every one carries the 7.x
    // keys the web UI reads.
    let history = answer_with_items(
        &w.agent,
        &w.session,
        "/dashboard/history",
        "GET /dashboard/history",
    );
    assert_key_sets("GET /dashboard/history", &history, &data_set);
    let item = &example("GET /dashboard/history")[0];
    let mut dashboard_keys: BTreeSet<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in example("GET /dashboard").as_object().unwrap().keys() {
        assert!(
            dashboard_keys.remove(key.as_str()),
            "/dashboard's example key {key} is in the history item's"
        );
    }
    for path in ["/dashboard", "/dashboard/live"] {
        let value = answer_with_items(&w.agent, &w.session, path, "GET /dashboard");
        assert_keys_like(&format!("GET {path}"), item, &value, &data_set);
    }
    for part in [
        "config",
        "buffers",
        "hitratio",
        "active_backends",
        "cpu",
        "loadaverage",
        "memory",
        "hostname",
        "os_version",
        "pg_version",
        "n_cpu",
        "databases",
        "info",
        "max_connections",
    ] {
        let path = format!("/dashboard/{part}");
        let name = format!("GET {path}");
        let value = answer_with_items(&w.agent, &w.session, &path, &name);
        assert_key_sets(&name, &value, &exact);
    }
}

#[test]
fn monitoring_probes_answer_the_spec_keys() {
    let w = world();
    // Something for the WAL and process probes to measure between two calls.
    w.pg.psql("postgres", "CREATE TABLE IF NOT EXISTS wal_maker (i int)");
    for probe in [
        "sessions",
        "xacts",
        "locks",
        "blocks",
        "bgwriter",
        "db_size",
        "tblspc_size",
        "filesystems_size",
        "cpu",
        "process",
        "memory",
        "loadavg",
        "wal_files",
    ] {
        let path = format!("/monitoring/probe/{probe}");
        let name = format!("GET {path}");
        w.pg.psql("postgres", "INSERT INTO wal_maker VALUES (1)");
        let value = answer_with_items(&w.agent, &w.session, &path, &name);
        assert_key_sets(&name, &value, &exact);
    }
}

#[test]
fn pgconf_endpoints_answer_the_spec_keys() {
    let w = world();
    // The server's own name of autovacuum's category (`Autovacuum` before 18).
    let category = w.pg.psql(
        "postgres",
        "SELECT category FROM pg_settings WHERE name = 'autovacuum'",
    );
    let category_path = format!(
        "/pgconf/configuration/category/{}",
        category.replace(' ', "%20").replace('/', "%2F")
    );
    for (path, name) in [
        ("/pgconf/configuration", "GET /pgconf/configuration"),
        (
            "/pgconf/configuration/categories",
            "GET /pgconf/configuration/categories",
        ),
        (
            category_path.as_str(),
            "GET /pgconf/configuration/category/Autovacuum",
        ),
        (
            "/pgconf/configuration/status",
            "GET /pgconf/configuration/status",
        ),
    ] {
        let value = answer_with_items(&w.agent, &w.session, path, name);
        assert_key_sets(name, &value, &exact);
    }
}

#[test]
fn maintenance_endpoints_answer_the_spec_keys() {
    let w = world();
    for op in ["vacuum", "analyze", "reindex"] {
        for path in [
            format!("/maintenance/{op}/scheduled"),
            format!("/maintenance/postgres/{op}/scheduled"),
            format!("/maintenance/postgres/schema/public/{op}/scheduled"),
            format!("/maintenance/postgres/schema/public/table/country/{op}/scheduled"),
        ] {
            // Each list answers the items of the spec's scheduled lists.
            let value = answer_with_items(
                &w.agent,
                &w.session,
                &path,
                "GET /maintenance/vacuum/scheduled",
            );
            assert_key_sets("GET /maintenance/vacuum/scheduled", &value, &exact);
        }
    }
    for path in [
        "/maintenance",
        "/maintenance/postgres",
        "/maintenance/postgres/schema/public",
        "/maintenance/postgres/schema/public/table/country",
    ] {
        let name = format!("GET {path}");
        let value = answer_with_items(&w.agent, &w.session, path, &name);
        assert_key_sets(&name, &value, &exact);
    }
}

#[test]
fn statements_rows_answer_the_spec_keys_and_the_server_names() {
    let w = world();
    w.pg.psql("postgres", "SELECT count(*) FROM public.country");
    let res = w
        .agent
        .send(Request::get(&format!("/statements?key={KEY}")));
    assert_eq!(res.status, 200, "{}", res.text());
    let allowed = |at: &str| -> &'static Allowed {
        if at == ".data[]" {
            &STATEMENT_ROW
        } else {
            &NOTHING
        }
    };
    assert_key_sets("GET /statements", &res.json(), &allowed);
}

#[test]
fn post_and_delete_answers_have_the_spec_keys() {
    let w = world();
    let res = w.agent.try_login(common::USER, common::PASSWORD);
    assert_key_sets("POST /login", &res.json(), &exact);

    for path in [
        "/maintenance/postgres/vacuum",
        "/maintenance/postgres/analyze",
        "/maintenance/postgres/reindex",
        "/maintenance/postgres/schema/public/table/country/vacuum",
        "/maintenance/postgres/schema/public/table/country/analyze",
        "/maintenance/postgres/schema/public/table/country/reindex",
        "/maintenance/postgres/schema/public/index/country_pkey/reindex",
    ] {
        let body = json!({"datetime": "2099-06-01T00:00:00Z"});
        let res = w.agent.post_as(path, &w.session, &body);
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        let answer = res.json();
        assert_key_sets(&format!("POST {path}"), &answer, &exact);
        let op = path.rsplit('/').next().unwrap();
        let id = answer["id"].as_str().unwrap();
        let res = w
            .agent
            .send(Request::new("DELETE", &format!("/maintenance/{op}/{id}")).session(&w.session));
        assert_eq!(res.status, 200, "{}", res.text());
        let example = match op {
            "vacuum" => "DELETE /maintenance/vacuum/9ce6426b",
            "analyze" => "DELETE /maintenance/analyze/1045055e",
            _ => "DELETE /maintenance/reindex/7f377004",
        };
        assert_key_sets(example, &res.json(), &exact);
    }

    let mut idle = Bg::open(w.pg, "postgres");
    idle.send("SELECT 'key-set kill target';");
    let mut pid = String::new();
    common::wait_until(Duration::from_secs(20), "the session to kill", || {
        pid = w.pg.psql(
            "postgres",
            "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT ''key-set kill target'';'",
        );
        !pid.is_empty()
    });
    let pid: u32 = pid.parse().unwrap();
    let res = w
        .agent
        .post_as("/activity/kill", &w.session, &json!({"pids": [pid]}));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_key_sets("POST /activity/kill", &res.json(), &exact);

    let res = w.agent.post_as(
        "/pgconf/configuration",
        &w.session,
        &json!({"settings": [{"name": "autovacuum_naptime", "setting": "61"}]}),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_key_sets("POST /pgconf/configuration", &res.json(), &exact);

    let res = w.agent.post_as(
        "/administration/control",
        &w.session,
        &json!({"action": "reload"}),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_key_sets("POST /administration/control", &res.json(), &exact);
}
