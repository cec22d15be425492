//! PgConf API against a real agent and a real PostgreSQL: settings by category
//! checked against `pg_settings`, changes with ALTER SYSTEM (taking effect, needing
//! a restart, all or none, refused values, hostile names and values), resets,
//! the restart status, the notification log and authentication.
//!
//! Read-only tests use the shared cluster; tests that change settings use one
//! private cluster, one at a time (`changing()`), and check postgresql.auto.conf.

mod common;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// The private cluster of the tests that change settings, and the lock that makes
/// them take turns.
fn changing() -> (&'static PgCluster, MutexGuard<'static, ()>) {
    static CLUSTER: OnceLock<PgCluster> = OnceLock::new();
    static TURN: Mutex<()> = Mutex::new(());
    let guard = TURN.lock().unwrap_or_else(|e| e.into_inner());
    (CLUSTER.get_or_init(PgCluster::start), guard)
}

fn auto_conf(pg: &PgCluster) -> String {
    std::fs::read_to_string(pg.data_dir().join("postgresql.auto.conf")).unwrap()
}

/// The lines of postgresql.auto.conf, sorted: ALTER SYSTEM moves a line it rewrites
/// to the end of the file, so an undone change may reorder the lines.
fn auto_conf_lines(pg: &PgCluster) -> Vec<String> {
    let mut lines: Vec<String> = auto_conf(pg).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

fn show(pg: &PgCluster, name: &str) -> String {
    pg.psql("postgres", &format!("SHOW {name}"))
}

/// Every row of every category, by name.
/// The category PostgreSQL files setting `name` under: the names change across
/// versions (`Autovacuum` until 17, `Vacuuming / Automatic Vacuuming` in 18).
fn category_of(pg: &PgCluster, name: &str) -> String {
    pg.psql(
        "postgres",
        &format!("SELECT category FROM pg_settings WHERE name = '{name}'"),
    )
}

/// `category` as a path segment.
fn category_path(category: &str) -> String {
    category.replace(' ', "%20").replace('/', "%2F")
}

fn rows_by_name(groups: &Value) -> BTreeMap<String, (String, Value)> {
    let mut rows = BTreeMap::new();
    for group in groups.as_array().unwrap() {
        let category = group["category"].as_str().unwrap().to_string();
        for row in group["rows"].as_array().unwrap() {
            let name = row["name"].as_str().unwrap().to_string();
            assert!(
                rows.insert(name.clone(), (category.clone(), row.clone()))
                    .is_none(),
                "{name} listed twice"
            );
        }
    }
    rows
}

/// pg_settings as psql sees it, one JSON object per setting.
fn pg_settings(pg: &PgCluster) -> BTreeMap<String, Value> {
    let out = pg.psql(
        "postgres",
        "SELECT json_object_agg(name, json_build_object(\
           'category', category, 'setting', setting, 'unit', unit, 'vartype', vartype, \
           'min_val', min_val, 'max_val', max_val, 'enumvals', enumvals, 'context', context, \
           'boot_val', boot_val, 'reset_val', reset_val, 'pending_restart', pending_restart, \
           'desc', concat_ws(' ', short_desc, extra_desc), \
           'shown', current_setting(name))) FROM pg_settings",
    );
    serde_json::from_str::<BTreeMap<String, Value>>(&out).unwrap()
}

/// A pg_settings text as the API types it: numbers for integer and real settings.
fn typed(vartype: &str, text: &Value) -> Value {
    match (vartype, text.as_str()) {
        ("integer", Some(t)) => json!(t.parse::<i64>().unwrap()),
        ("real", Some(t)) => json!(t.parse::<f64>().unwrap()),
        _ => text.clone(),
    }
}

fn post_settings(agent: &Agent, session: &str, items: Value) -> Response {
    agent.post_as(
        "/pgconf/configuration",
        session,
        &json!({ "settings": items }),
    )
}

fn notifications(agent: &Agent, session: &str) -> Vec<(String, String)> {
    let res = agent.get_as("/notifications", session);
    assert_eq!(res.status, 200);
    res.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["username"].as_str().unwrap().to_string(),
                n["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn configuration_matches_pg_settings() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let session = agent.login();
    let res = agent.get_as("/pgconf/configuration", &session);
    assert_eq!(res.status, 200, "{}", res.text());
    let groups = res.json();
    let rows = rows_by_name(&groups);
    let truth = pg_settings(pg);
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        truth.keys().collect::<Vec<_>>()
    );
    // Categories come sorted, each once.
    let categories: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["category"].as_str().unwrap())
        .collect();
    let mut sorted = categories.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(categories, sorted);
    // These depend on the session (the agent's connection options, psql's own).
    let per_session = [
        "application_name",
        "client_encoding",
        "DateStyle",
        "IntervalStyle",
        "TimeZone",
        "extra_float_digits",
        "statement_timeout",
        "lock_timeout",
    ];
    for (name, (category, row)) in &rows {
        let t = &truth[name];
        if per_session.contains(&name.as_str()) {
            continue;
        }
        let vartype = t["vartype"].as_str().unwrap();
        assert_eq!(category, t["category"].as_str().unwrap(), "{name}");
        for key in ["setting", "min_val", "max_val", "boot_val", "reset_val"] {
            assert_eq!(row[key], typed(vartype, &t[key]), "{name}.{key}");
        }
        for key in ["unit", "vartype", "enumvals", "context", "pending_restart"] {
            assert_eq!(row[key], t[key], "{name}.{key}");
        }
        assert_eq!(row["desc"], t["desc"], "{name}");
        assert!(row["setting_raw"].is_string(), "{name}");
        assert_eq!(row.as_object().unwrap().len(), 13, "{name}: {row}");
    }
    // Written in postgresql.conf by the harness: the value as written.
    assert_eq!(rows["shared_buffers"].1["setting_raw"], "32MB");
    assert_eq!(rows["shared_buffers"].1["setting"], 4096);
    assert_eq!(rows["shared_buffers"].1["unit"], "8kB");
    assert_eq!(rows["fsync"].1["setting_raw"], "off");
    // From no file: the setting with its unit, as SHOW gives it.
    assert_eq!(rows["work_mem"].1["setting_raw"], show(pg, "work_mem"));
    assert_eq!(rows["autovacuum"].1["setting"], "on");
    assert_eq!(rows["autovacuum"].1["min_val"], Value::Null);
    assert_eq!(rows["autovacuum"].1["pending_restart"], false);
    assert!(rows["wal_level"].1["enumvals"].is_array());
}

#[test]
fn categories_and_one_category() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let session = agent.login();
    let res = agent.get_as("/pgconf/configuration/categories", &session);
    assert_eq!(res.status, 200);
    let names: Vec<String> = res.json()["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let truth = pg.psql(
        "postgres",
        "SELECT string_agg(category, '|' ORDER BY category) \
         FROM (SELECT DISTINCT category FROM pg_settings) c",
    );
    assert_eq!(names.join("|"), truth);

    let category = "Client Connection Defaults / Locale and Formatting";
    let count: usize = pg
        .psql(
            "postgres",
            &format!("SELECT count(*) FROM pg_settings WHERE category = '{category}'"),
        )
        .parse()
        .unwrap();
    assert!(count > 0);
    for path in [
        "Client%20Connection%20Defaults%20%2F%20Locale%20and%20Formatting",
        "Client%20Connection%20Defaults%20/%20Locale%20and%20Formatting",
    ] {
        let res = agent.get_as(&format!("/pgconf/configuration/category/{path}"), &session);
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        let groups = res.json();
        assert_eq!(groups.as_array().unwrap().len(), 1);
        assert_eq!(groups[0]["category"], category);
        assert_eq!(groups[0]["rows"].as_array().unwrap().len(), count);
    }
    let autovacuum = category_path(&category_of(pg, "autovacuum"));
    let res = agent.get_as(
        &format!("/pgconf/configuration/category/{autovacuum}"),
        &session,
    );
    assert_eq!(res.status, 200, "{autovacuum}");
    assert!(rows_by_name(&res.json()).contains_key("autovacuum"));

    let res = agent.get_as("/pgconf/configuration/category/No%20Such%20Thing", &session);
    assert_eq!(res.status, 404);
    assert_eq!(res.error(), "Category 'No Such Thing' not found.");
}

#[test]
fn filter_on_name_or_description() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let session = agent.login();
    let res = agent.get_as("/pgconf/configuration?filter=VACUUM", &session);
    assert_eq!(res.status, 200);
    let rows = rows_by_name(&res.json());
    assert!(rows.contains_key("autovacuum_naptime"));
    assert!(rows.contains_key("vacuum_cost_delay"));
    for (name, (_, row)) in &rows {
        let desc = row["desc"].as_str().unwrap().to_lowercase();
        assert!(name.contains("vacuum") || desc.contains("vacuum"), "{name}");
    }
    let expected: usize = pg
        .psql(
            "postgres",
            "SELECT count(*) FROM pg_settings WHERE name ILIKE '%vacuum%' \
             OR concat_ws(' ', short_desc, extra_desc) ILIKE '%vacuum%'",
        )
        .parse()
        .unwrap();
    assert_eq!(rows.len(), expected);

    // In the description only.
    let res = agent.get_as(
        "/pgconf/configuration?filter=shared%20memory%20buffers",
        &session,
    );
    assert!(rows_by_name(&res.json()).contains_key("shared_buffers"));

    let res = agent.get_as(
        "/pgconf/configuration/categories?filter=autovacuum",
        &session,
    );
    let categories = res.json()["categories"].clone();
    let autovacuum = category_of(pg, "autovacuum");
    assert!(
        categories.as_array().unwrap().contains(&json!(autovacuum)),
        "{categories}"
    );
    assert!(!categories
        .as_array()
        .unwrap()
        .contains(&json!("Write-Ahead Log / Settings")));

    let res = agent.get_as(
        &format!(
            "/pgconf/configuration/category/{}?filter=naptime",
            category_path(&autovacuum)
        ),
        &session,
    );
    let rows = rows_by_name(&res.json());
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["autovacuum_naptime"]);

    let res = agent.get_as("/pgconf/configuration?filter=zzzz-nothing", &session);
    assert_eq!(res.json(), json!([]));
}

#[test]
fn every_endpoint_needs_a_session_and_the_key_grants_nothing() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let gets = [
        "/pgconf/configuration",
        "/pgconf/configuration/categories",
        // Known on every version, so that the session check is what answers.
        "/pgconf/configuration/category/Write-Ahead%20Log%20%2F%20Settings",
        "/pgconf/configuration/status",
    ];
    let body = json!({ "settings": [{ "name": "work_mem", "setting": "8MB" }] }).to_string();
    let mut requests: Vec<Request> = gets.iter().map(|p| Request::get(p)).collect();
    requests.push(Request::post("/pgconf/configuration", body.clone()));
    requests.push(Request::new("DELETE", "/pgconf/configuration/work_mem"));
    for request in requests {
        let path = request.path.clone();
        let res = agent.send(request.header("X-TemBoard-Agent-Key", KEY));
        assert_eq!(res.status, 406, "{path}");
        assert_eq!(res.error(), "Parameter 'X-Session' is malformed.");
    }
    let unknown = "0".repeat(64);
    for path in gets {
        let res = agent.get_as(&format!("{path}?key={KEY}"), &unknown);
        assert_eq!(res.status, 401, "{path}");
        assert_eq!(res.error(), "Invalid session.");
    }
    let res = agent.send(Request::post("/pgconf/configuration", body).session(&unknown));
    assert_eq!(res.status, 401);
}

#[test]
fn malformed_bodies() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let session = agent.login();
    let res = agent.send(Request::post("/pgconf/configuration", "{not json").session(&session));
    assert_eq!(res.status, 400);
    res.error();
    let cases = [
        (json!({}), "settings"),
        (json!({ "settings": "work_mem" }), "settings"),
        (
            json!([{ "name": "work_mem", "setting": "8MB" }]),
            "settings",
        ),
        (json!({ "settings": [{ "setting": "8MB" }] }), "name"),
        (json!({ "settings": [{ "name": "work_mem" }] }), "setting"),
        (
            json!({ "settings": [{ "name": "work_mem", "setting": ["8MB"] }] }),
            "setting",
        ),
    ];
    for (body, field) in cases {
        let res = agent.post_as("/pgconf/configuration", &session, &body);
        assert_eq!(res.status, 406, "{body}");
        assert_eq!(res.error(), format!("Parameter '{field}' is malformed."));
    }
}

#[test]
fn an_empty_list_of_settings_changes_nothing() {
    let (pg, _turn) = changing();
    let agent = Agent::start(pg);
    let session = agent.login();
    let auto_before = auto_conf(pg);
    let loaded_before = pg.psql("postgres", "SELECT pg_conf_load_time()");
    let logged_before = notifications(&agent, &session);
    let res = agent.post_as(
        "/pgconf/configuration",
        &session,
        &json!({ "settings": [] }),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), json!({ "settings": [] }));
    assert_eq!(res.header("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(auto_conf(pg), auto_before);
    assert_eq!(
        pg.psql("postgres", "SELECT pg_conf_load_time()"),
        loaded_before,
        "no reload"
    );
    assert_eq!(notifications(&agent, &session), logged_before);
}

#[test]
fn a_sighup_setting_takes_effect_and_is_logged() {
    let (pg, _turn) = changing();
    let agent = Agent::start(pg);
    let session = agent.login();
    let before = show(pg, "log_min_duration_statement");
    let res = post_settings(
        &agent,
        &session,
        json!([{ "name": "log_min_duration_statement", "setting": "250ms" }]),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json(),
        json!({ "settings": [{
            "name": "log_min_duration_statement", "setting": "250ms",
            "previous_setting": before, "restart": false
        }] })
    );
    // A new session sees it at once.
    assert_eq!(show(pg, "log_min_duration_statement"), "250ms");
    assert!(auto_conf(pg).contains("log_min_duration_statement = '250ms'\n"));
    let row = &rows_by_name(&agent.get_as("/pgconf/configuration", &session).json())
        ["log_min_duration_statement"]
        .1;
    assert_eq!(row["setting"], 250);
    assert_eq!(row["setting_raw"], "250ms");

    // Several at once, numbers and booleans as JSON values, names in any case.
    // log_checkpoints is flipped: on by default from PostgreSQL 15, off before.
    let checkpoints_before = show(pg, "log_checkpoints");
    let checkpoints = checkpoints_before != "on";
    let checkpoints_after = if checkpoints { "on" } else { "off" };
    let res = post_settings(
        &agent,
        &session,
        json!([
            { "name": "log_min_duration_statement", "setting": 1000 },
            { "name": "LOG_CHECKPOINTS", "setting": checkpoints },
            { "name": "work_mem", "setting": "8MB" },
        ]),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    let changes = res.json()["settings"].clone();
    assert_eq!(changes[0]["previous_setting"], "250ms");
    assert_eq!(changes[1]["name"], "log_checkpoints");
    assert_eq!(show(pg, "log_min_duration_statement"), "1s");
    assert_eq!(show(pg, "log_checkpoints"), checkpoints_after);
    assert_eq!(show(pg, "work_mem"), "8MB");

    let log = notifications(&agent, &session);
    for wanted in [
        format!("Setting log_min_duration_statement changed from '{before}' to '250ms'"),
        "Setting log_min_duration_statement changed from '250ms' to '1000'".to_string(),
        format!(
            "Setting log_checkpoints changed from '{checkpoints_before}' to '{checkpoints_after}'"
        ),
        "Setting work_mem changed from '4MB' to '8MB'".to_string(),
    ] {
        assert!(
            log.contains(&(USER.to_string(), wanted.clone())),
            "{wanted} in {log:?}"
        );
    }

    // Reset: back to the file's (here: built-in) value, logged too.
    let res =
        agent.send(Request::new("DELETE", "/pgconf/configuration/work_mem").session(&session));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json(),
        json!({ "settings": [{
            "name": "work_mem", "setting": "4MB", "previous_setting": "8MB", "restart": false
        }] })
    );
    assert_eq!(show(pg, "work_mem"), "4MB");
    assert!(!auto_conf(pg).contains("work_mem"));
    assert!(notifications(&agent, &session)
        .iter()
        .any(|(u, m)| u == USER && m.starts_with("Setting work_mem reset")));

    // A dotted name (an extension's setting) is one quoted identifier.
    let res = post_settings(
        &agent,
        &session,
        json!([{ "name": "pg_stat_statements.track", "setting": "all" }]),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(show(pg, "pg_stat_statements.track"), "all");
    let res = agent.send(
        Request::new("DELETE", "/pgconf/configuration/pg_stat_statements.track").session(&session),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(show(pg, "pg_stat_statements.track"), "top");

    let res = agent
        .send(Request::new("DELETE", "/pgconf/configuration/no_such_setting").session(&session));
    assert_eq!(res.status, 404);
    assert_eq!(res.error(), "Unknown setting 'no_such_setting'.");
}

#[test]
fn a_postmaster_setting_waits_for_a_restart() {
    let (pg, _turn) = changing();
    let agent = Agent::start(pg);
    let session = agent.login();
    let status = agent.get_as("/pgconf/configuration/status", &session);
    assert_eq!(status.status, 200);
    assert_eq!(
        status.json(),
        json!({ "restart_changes": [], "restart_pending": false })
    );

    let res = post_settings(
        &agent,
        &session,
        json!([{ "name": "shared_buffers", "setting": "64MB" }]),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json(),
        json!({ "settings": [{
            "name": "shared_buffers", "setting": "64MB",
            "previous_setting": "32MB", "restart": true
        }] })
    );
    // Not in force before a restart.
    assert_eq!(show(pg, "shared_buffers"), "32MB");
    let status = agent
        .get_as("/pgconf/configuration/status", &session)
        .json();
    assert_eq!(status["restart_pending"], true);
    let changes = status["restart_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{status}");
    let row = &changes[0];
    assert_eq!(row["name"], "shared_buffers");
    assert_eq!(row["pending_restart"], true);
    assert_eq!(row["setting"], 4096);
    assert_eq!(row["setting_raw"], "64MB");
    assert_eq!(row["context"], "postmaster");
    assert_eq!(row["unit"], "8kB");
    assert!(notifications(&agent, &session).contains(&(
        USER.to_string(),
        "Setting shared_buffers changed from '32MB' to '64MB' (restart needed)".to_string()
    )));

    // Reset: postgresql.conf's 32MB again, nothing pending any more.
    let res = agent
        .send(Request::new("DELETE", "/pgconf/configuration/shared_buffers").session(&session));
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["settings"][0]["setting"], "32MB");
    assert_eq!(res.json()["settings"][0]["restart"], true);
    assert_eq!(
        agent
            .get_as("/pgconf/configuration/status", &session)
            .json(),
        json!({ "restart_changes": [], "restart_pending": false })
    );
}

#[test]
fn refused_values_change_nothing() {
    let (pg, _turn) = changing();
    let agent = Agent::start(pg);
    let session = agent.login();
    let auto_before = auto_conf_lines(pg);
    let shown_before: Vec<String> = ["log_min_duration_statement", "shared_buffers", "work_mem"]
        .iter()
        .map(|n| show(pg, n))
        .collect();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!("no_such_setting"),
            "Unknown setting 'no_such_setting'.",
        ),
        (json!("work_mem'; DROP TABLE x; --"), "Unknown setting"),
        (json!("work_mem\"; SELECT 1; --"), "Unknown setting"),
        (json!("work_mem\nfsync"), "Unknown setting"),
        (json!("server_version"), "cannot be changed"),
    ];
    for (name, why) in cases {
        let res = post_settings(&agent, &session, json!([{ "name": name, "setting": "1" }]));
        assert_eq!(res.status, 406, "{name}: {}", res.text());
        assert!(res.error().contains(why), "{name}: {}", res.error());
    }
    let cases = [
        (
            "shared_buffers",
            "abc",
            "invalid value for parameter \"shared_buffers\": \"abc\"",
        ),
        ("shared_buffers", "64kB", "outside the valid range"),
        ("shared_buffers", "64mb", "Valid units for this parameter"),
        ("work_mem", "10s", "Valid units for this parameter"),
        ("work_mem", "8MB; DROP TABLE x", "invalid value"),
        ("max_connections", "-5", "outside the valid range"),
        ("autovacuum", "maybe", "requires a Boolean value"),
        (
            "wal_level",
            "bogus",
            "Available values: minimal, replica, logical",
        ),
        (
            "checkpoint_completion_target",
            "1.5",
            "outside the valid range",
        ),
        ("log_line_prefix", "a\nb", "line break"),
        ("log_line_prefix", "a\u{0}b", "NUL"),
        (
            "shared_preload_libraries",
            "\"unterminated",
            "invalid list syntax",
        ),
        // Checked by PostgreSQL itself (a session may set it).
        (
            "TimeZone",
            "Not/AZone",
            "invalid value for parameter \"TimeZone\"",
        ),
        // ALTER SYSTEM of PostgreSQL 15 would write '""' (a library named "").
        ("shared_preload_libraries", " ", "empty list"),
    ];
    for (name, value, why) in cases {
        let res = post_settings(
            &agent,
            &session,
            json!([{ "name": name, "setting": value }]),
        );
        assert_eq!(res.status, 406, "{name}={value:?}: {}", res.text());
        assert!(
            res.error().contains(why),
            "{name}={value:?}: {}",
            res.error()
        );
    }
    // All or none: a valid item with an invalid one writes nothing.
    let res = post_settings(
        &agent,
        &session,
        json!([
            { "name": "log_min_duration_statement", "setting": "123" },
            { "name": "shared_buffers", "setting": "abc" },
        ]),
    );
    assert_eq!(res.status, 406);
    let res = post_settings(
        &agent,
        &session,
        json!([
            { "name": "work_mem", "setting": "16MB" },
            { "name": "work_mem", "setting": "32MB" },
        ]),
    );
    assert_eq!(res.status, 406);
    assert_eq!(res.error(), "Setting 'work_mem' is given more than once.");
    // Refused by ALTER SYSTEM itself (a check hook no session can run for a sighup
    // setting): the items already written are restored.
    let res = post_settings(
        &agent,
        &session,
        json!([
            { "name": "log_min_duration_statement", "setting": "777" },
            { "name": "work_mem", "setting": "16MB" },
            { "name": "log_timezone", "setting": "Not/AZone" },
        ]),
    );
    assert_eq!(res.status, 406, "{}", res.text());
    let error = res.error();
    assert!(error.contains("log_timezone"), "{error}");
    assert!(
        error.contains("(log_min_duration_statement, work_mem) were restored"),
        "{error}"
    );

    assert_eq!(auto_conf_lines(pg), auto_before);
    let shown_after: Vec<String> = ["log_min_duration_statement", "shared_buffers", "work_mem"]
        .iter()
        .map(|n| show(pg, n))
        .collect();
    assert_eq!(shown_after, shown_before);
    assert!(!notifications(&agent, &session)
        .iter()
        .any(|(_, m)| m.contains("777") || m.contains("abc") || m.contains("Not/AZone")));
}

#[test]
fn hostile_values_are_stored_literally() {
    let (pg, _turn) = changing();
    let agent = Agent::start(pg);
    let session = agent.login();
    let auto_before = auto_conf_lines(pg);
    let fsync_before = show(pg, "fsync");
    let prefix = r#"%m '; ALTER SYSTEM SET fsync = on; -- \' \\ "q" E'x' $$y$$ x"#;
    let command = "cp %p '/tmp/it''s; a \"dir\"/%f' \\ ; rm -rf /nothing";
    let res = post_settings(
        &agent,
        &session,
        json!([
            { "name": "log_line_prefix", "setting": prefix },
            { "name": "archive_cleanup_command", "setting": command },
            { "name": "search_path", "setting": "\"$user\", public, \"My Schema\"" },
            // Checked with set_config: the check must not leave the agent's session
            // idle in a transaction for this 1 ms timeout to end.
            { "name": "idle_in_transaction_session_timeout", "setting": "1" },
        ]),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(show(pg, "log_line_prefix"), prefix);
    assert_eq!(show(pg, "archive_cleanup_command"), command);
    assert_eq!(show(pg, "search_path"), "\"$user\", public, \"My Schema\"");
    assert_eq!(show(pg, "fsync"), fsync_before);
    assert_eq!(show(pg, "idle_in_transaction_session_timeout"), "1ms");
    // Only those four lines were added to postgresql.auto.conf.
    let after = auto_conf(pg);
    let added: Vec<&str> = after
        .lines()
        .filter(|l| !auto_before.iter().any(|b| b == l))
        .collect();
    assert_eq!(added.len(), 4, "{after}");
    for name in [
        "log_line_prefix",
        "archive_cleanup_command",
        "search_path",
        "idle_in_transaction_session_timeout",
    ] {
        assert!(
            added.iter().any(|l| l.starts_with(&format!("{name} = "))),
            "{after}"
        );
    }
    // The raw values read back as written.
    let rows = rows_by_name(&agent.get_as("/pgconf/configuration", &session).json());
    assert_eq!(rows["log_line_prefix"].1["setting_raw"], prefix);
    assert_eq!(rows["archive_cleanup_command"].1["setting_raw"], command);

    for name in [
        "idle_in_transaction_session_timeout",
        "log_line_prefix",
        "archive_cleanup_command",
        "search_path",
    ] {
        let res = agent.send(
            Request::new("DELETE", &format!("/pgconf/configuration/{name}")).session(&session),
        );
        assert_eq!(res.status, 200, "{name}: {}", res.text());
    }
    assert_eq!(auto_conf_lines(pg), auto_before);
}

#[test]
fn without_superuser_the_listing_goes_on_and_changes_are_refused() {
    let pg = PgCluster::shared();
    pg.psql(
        "postgres",
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgconf_reader') \
         THEN CREATE ROLE pgconf_reader LOGIN; END IF; END$$",
    );
    let agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: "[postgresql]\nuser = pgconf_reader\n".to_string(),
            ..AgentSetup::default()
        },
    );
    let session = agent.login();
    // pg_file_settings is for superusers: the values come from pg_settings alone.
    let res = agent.get_as("/pgconf/configuration", &session);
    assert_eq!(res.status, 200, "{}", res.text());
    let rows = rows_by_name(&res.json());
    assert_eq!(rows["work_mem"].1["setting_raw"], show(pg, "work_mem"));
    assert_eq!(rows["shared_buffers"].1["setting_raw"], "32MB");
    // The agent's own trouble (not allowed), not the client's: 500, nothing written.
    let before = auto_conf(pg);
    let res = post_settings(
        &agent,
        &session,
        json!([{ "name": "work_mem", "setting": "8MB" }]),
    );
    assert_eq!(res.status, 500, "{}", res.text());
    assert!(res.error().contains("permission denied"), "{}", res.error());
    assert_eq!(auto_conf(pg), before);
    assert_eq!(show(pg, "work_mem"), "4MB");
}

#[test]
fn postgresql_down_is_a_clear_500_and_a_restart_clears_the_pending_changes() {
    let (pg, _turn) = changing();
    let agent = Agent::start(pg);
    let session = agent.login();
    let res = post_settings(
        &agent,
        &session,
        json!([{ "name": "max_connections", "setting": "250" }]),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["settings"][0]["restart"], true);

    pg.stop();
    for path in ["/pgconf/configuration", "/pgconf/configuration/status"] {
        let res = agent.get_as(path, &session);
        assert_eq!(res.status, 500, "{path}");
        assert!(
            res.error().starts_with("PostgreSQL is unreachable: "),
            "{}",
            res.error()
        );
    }
    let res = post_settings(
        &agent,
        &session,
        json!([{ "name": "work_mem", "setting": "8MB" }]),
    );
    assert_eq!(res.status, 500);
    pg.start_again();

    // The restart brought the change in force: nothing is pending any more.
    wait_until(Duration::from_secs(30), "pgconf to work again", || {
        agent
            .get_as("/pgconf/configuration/status", &session)
            .status
            == 200
    });
    assert_eq!(show(pg, "max_connections"), "250");
    let status = agent
        .get_as("/pgconf/configuration/status", &session)
        .json();
    assert_eq!(
        status,
        json!({ "restart_changes": [], "restart_pending": false })
    );
    let res = agent
        .send(Request::new("DELETE", "/pgconf/configuration/max_connections").session(&session));
    assert_eq!(res.status, 200, "{}", res.text());
    // postgresql.conf's 300 again, at the next restart.
    assert_eq!(res.json()["settings"][0]["setting"], "300");
    let status = agent
        .get_as("/pgconf/configuration/status", &session)
        .json();
    assert_eq!(status["restart_pending"], true);
    assert_eq!(status["restart_changes"][0]["name"], "max_connections");
    assert_eq!(status["restart_changes"][0]["setting_raw"], "300");
    pg.stop();
    pg.start_again();
    assert_eq!(show(pg, "max_connections"), "300");
}
