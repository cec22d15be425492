//! The built-in web console (`/console`) in a real headless Chromium, against the
//! real agent and a private PostgreSQL cluster: log in, every page with real data,
//! the actions (cancel and terminate `pg_sleep` backends, change a setting, run and cancel
//! maintenance), a read-only user without action buttons, the PostgreSQL-down
//! banner, and a browser console without errors. Screenshots of each page go to
//! `target/console-shots/` (kept by CI as artifacts; docs/console/ has copies).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`bash .ci/run` installs them).
//! The cheap header checks need no browser.

mod common;
#[path = "console/webdriver.rs"]
mod webdriver;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{users_line, Agent, AgentSetup, Bg, PgCluster, Request, PASSWORD, USER};
use webdriver::Browser;

const READER: &str = "bob";
const READER_PASSWORD: &str = "read-only-pw";
const DB: &str = "console_app";
const TABLE: &str = "console_orders";
/// Generous: the machine may be busy with other builds; a wait ends as soon as it can.
const WAIT: Duration = Duration::from_secs(30);

fn shots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("console-shots")
}

fn agent_with_reader(pg: &PgCluster) -> Agent {
    Agent::start_with(
        pg,
        AgentSetup {
            user_lines: vec![format!("{}:read", users_line(READER, READER_PASSWORD))],
            ..AgentSetup::default()
        },
    )
}

#[test]
fn console_responses_carry_the_security_headers() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    for path in [
        "/console",
        "/console/",
        "/console/js/app.js",
        "/console/style.css",
    ] {
        let res = agent.get(path);
        assert_eq!(res.status, 200, "{path}");
        let csp = res.header("Content-Security-Policy").unwrap_or_default();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert_eq!(res.header("X-Frame-Options"), Some("DENY"), "{path}");
        assert_eq!(res.header("Referrer-Policy"), Some("no-referrer"), "{path}");
        assert_eq!(res.header("X-Content-Type-Options"), Some("nosniff"));
        assert!(res.header("ETag").is_some());
    }
    let page = agent.get("/console");
    assert!(page
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page
        .text()
        .contains(r#"<script type="module" src="/console/js/app.js">"#));
    let script = agent.get("/console/js/app.js");
    assert!(script
        .header("Content-Type")
        .unwrap()
        .starts_with("text/javascript"));
    // Revalidation: the same file is not sent again.
    let etag = script.header("ETag").unwrap().to_string();
    let again = agent.send(Request::get("/console/js/app.js").header("If-None-Match", &etag));
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    // Only the embedded files: no path escapes the list.
    for path in ["/console/nope.js", "/console/../Cargo.toml", "/console/js/"] {
        assert_eq!(agent.get(path).status, 404, "{path}");
    }
}

#[test]
fn console_can_be_switched_off() {
    let pg = PgCluster::shared();
    let agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: "[console]\nenabled = false\n".into(),
            ..AgentSetup::default()
        },
    );
    assert_eq!(agent.get("/console").status, 404);
    assert_eq!(agent.get("/console/js/app.js").status, 404);
    assert_eq!(agent.get("/status").status, 200);
}

/// Errors of the browser console (JavaScript errors, CSP violations, failed
/// requests), as `level: message` lines.
fn console_errors(browser: &Browser) -> Vec<String> {
    browser
        .browser_log()
        .into_iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| format!("{}: {}", e["level"], e["message"]))
        .collect()
}

struct Console<'a> {
    browser: &'a Browser,
    base: String,
    shots: PathBuf,
}

impl Console<'_> {
    fn open(&self, hash: &str) {
        self.browser
            .execute("location.hash = arguments[0]", vec![json!(hash)]);
    }

    fn login(&self, user: &str, password: &str) {
        let b = self.browser;
        let username = b.wait_for("#username", WAIT);
        b.clear(&username).unwrap();
        b.send_keys(&username, user).unwrap();
        let field = b.find("#password").unwrap();
        b.clear(&field).unwrap();
        b.send_keys(&field, password).unwrap();
        b.click(&b.find("#login-submit").unwrap()).unwrap();
        b.wait_for("#nav a[data-page='overview']", WAIT);
    }

    fn logout(&self) {
        self.browser.click_css("#logout", WAIT);
        self.browser.wait_for("#login-form", WAIT);
    }

    fn shot(&self, name: &str) {
        // Without the passing flash messages, and once the last render is in a
        // frame.
        self.browser.execute(
            "document.getElementById('flash').replaceChildren(); \
             return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))",
            vec![],
        );
        self.browser
            .screenshot(&self.shots.join(format!("{name}.png")));
    }

    /// Runs `script` until it answers something other than null or false.
    fn wait_js(&self, what: &str, script: &str) -> Value {
        let start = Instant::now();
        loop {
            let v = self.browser.execute(script, vec![]);
            if !v.is_null() && v != Value::Bool(false) {
                return v;
            }
            assert!(
                start.elapsed() < WAIT,
                "timed out waiting for {what}\n{}",
                self.browser.diagnose()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn action_buttons(&self) -> u64 {
        self.browser
            .execute(
                "return document.querySelectorAll('.cancel-backend, .terminate-backend, \
                 .edit-setting, .maintenance-form, .cancel-task, .reindex-index').length",
                vec![],
            )
            .as_u64()
            .unwrap()
    }
}

#[test]
fn console_in_a_browser() {
    let pg = PgCluster::start();
    pg.psql("postgres", "CREATE EXTENSION pg_stat_statements");
    pg.fresh_db(DB);
    pg.psql(
        DB,
        &format!(
            "CREATE TABLE {TABLE} (id int PRIMARY KEY, item text); \
             INSERT INTO {TABLE} SELECT g, md5(g::text) FROM generate_series(1, 5000) g"
        ),
    );
    let agent = agent_with_reader(&pg);
    let browser = Browser::start(1360, 1000);
    let console = Console {
        browser: &browser,
        base: format!("https://127.0.0.1:{}", agent.port),
        shots: shots_dir(),
    };
    let b = &browser;

    // Login page, then the overview with real samples.
    b.goto(&format!("{}/console", console.base));
    b.wait_for_text("#login-host", "PostgreSQL 1", WAIT);
    console.shot("login");
    // A refused login shows the agent's message; the browser logs the refusal
    // itself (404 "Invalid username/password.", as the spec says).
    let username = b.find("#username").unwrap();
    b.send_keys(&username, USER).unwrap();
    b.send_keys(&b.find("#password").unwrap(), "not the password")
        .unwrap();
    b.click(&b.find("#login-submit").unwrap()).unwrap();
    b.wait_for_text("#login-error", "Invalid username/password.", WAIT);
    let refused: Vec<String> = console_errors(b)
        .into_iter()
        .filter(|e| !e.contains("/login - Failed to load resource"))
        .collect();
    assert!(refused.is_empty(), "browser console errors: {refused:#?}");
    console.login(USER, PASSWORD);
    b.wait_for_text("[data-fact='pg_version'] .fact-value", "PostgreSQL", WAIT);
    b.wait_for_text("[data-fact='state'] .fact-value", "up", WAIT);
    b.wait_for_text("[data-fact='hostname'] .fact-value", common::HOSTNAME, WAIT);
    // TPS needs two samples; the history has them after one scheduler interval.
    console.wait_js(
        "a TPS value in the chart legend",
        "const v = document.querySelector('[data-series=\"commit+rollback/s\"]'); \
         return v && v.textContent !== '–' && v.textContent",
    );
    console.wait_js(
        "a drawn CPU line",
        "const p = document.querySelector('[data-chart=\"CPU (%)\"] path.series-0'); \
         return p && p.getAttribute('d').includes('L')",
    );

    // Activity: a pg_sleep backend appears, is cancelled from its button, and goes.
    let mut sleeper = Bg::run(&pg, DB, "SELECT pg_sleep(600) /* console test */");
    console.open("#/activity");
    let pid = console.wait_js(
        "the pg_sleep backend in Activity",
        "const row = [...document.querySelectorAll('.page-activity tbody tr')] \
           .find(tr => tr.textContent.includes('pg_sleep(600)')); \
         const button = row && row.querySelector('button.cancel-backend'); \
         return button && Number(button.dataset.pid)",
    );
    let pid = pid.as_u64().unwrap();
    console.shot("activity");
    b.click_css(&format!("button.cancel-backend[data-pid='{pid}']"), WAIT);
    b.wait_for_text("#confirm-title", &format!("backend {pid}"), WAIT);
    console.shot("activity-confirm");
    b.click_css("#confirm-yes", WAIT);
    b.wait_for_text("#flash", &format!("Backend {pid}: query cancelled"), WAIT);
    let (ok, stderr) = sleeper.wait_exit(WAIT, "psql of the cancelled pg_sleep");
    assert!(
        !ok && stderr.contains("canceling statement due to user request"),
        "{stderr}"
    );
    // Terminate ends the session itself.
    let mut doomed = Bg::run(&pg, DB, "SELECT pg_sleep(601) /* to terminate */");
    let doomed_pid = console.wait_js(
        "the second pg_sleep backend in Activity",
        "const row = [...document.querySelectorAll('.page-activity tbody tr')] \
           .find(tr => tr.textContent.includes('pg_sleep(601)')); \
         const button = row && row.querySelector('button.terminate-backend'); \
         return button && Number(button.dataset.pid)",
    );
    b.click_css(
        &format!("button.terminate-backend[data-pid='{doomed_pid}']"),
        WAIT,
    );
    b.wait_for_text("#confirm-title", "Terminate backend", WAIT);
    b.click_css("#confirm-yes", WAIT);
    b.wait_for_text("#flash", &format!("Backend {doomed_pid}: terminated"), WAIT);
    let (ok, stderr) = doomed.wait_exit(WAIT, "psql of the terminated pg_sleep");
    assert!(!ok && stderr.contains("terminating connection"), "{stderr}");
    console.wait_js(
        "the cancelled and terminated backends to leave the Running list",
        "return ![...document.querySelectorAll('.page-activity tbody tr')] \
           .some(tr => tr.textContent.includes('pg_sleep(60'))",
    );

    // Statements: the test's own queries are there, with their text.
    console.open("#/statements");
    b.wait_for_text(".page-statements tbody", "generate_series", WAIT);
    console.shot("statements");
    b.click_css("#statements-period option[value='recent']", WAIT);
    b.wait_for_text(".page-statements p.muted", "What ran since", WAIT);

    // Configuration: pending restart shown, then a setting changed from the page.
    pg.psql("postgres", "ALTER SYSTEM SET max_connections = 90");
    pg.psql("postgres", "SELECT pg_reload_conf()");
    common::wait_until(WAIT, "max_connections to wait for a restart", || {
        pg.psql(
            "postgres",
            "SELECT pending_restart FROM pg_settings WHERE name = 'max_connections'",
        ) == "t"
    });
    console.open("#/configuration");
    let search = b.wait_for("#settings-search", WAIT);
    b.wait_for_text(".page-configuration", "must be restarted", WAIT);
    b.wait_for_text(".page-configuration", "max_connections", WAIT);
    b.send_keys(&search, "work_mem").unwrap();
    b.click_css("button.edit-setting[data-setting='work_mem']", WAIT);
    let input = b.wait_for(".setting[data-setting='work_mem'] .setting-input", WAIT);
    b.clear(&input).unwrap();
    b.send_keys(&input, "12MB").unwrap();
    b.click_css(".setting[data-setting='work_mem'] .save-setting", WAIT);
    b.wait_for_text("[data-value='work_mem']", "12MB", WAIT);
    let auto_conf = std::fs::read_to_string(pg.data_dir().join("postgresql.auto.conf")).unwrap();
    assert!(auto_conf.contains("work_mem = '12MB'"), "{auto_conf}");
    assert_eq!(pg.psql(DB, "SHOW work_mem"), "12MB");
    console.shot("configuration");

    // Maintenance: the test's table is listed; ANALYZE runs now; a cron VACUUM is
    // scheduled, then cancelled from the task list.
    console.open("#/maintenance");
    b.click_css(&format!("a.object-link[href='#/maintenance/{DB}']"), WAIT);
    b.click_css(
        &format!("a.object-link[href='#/maintenance/{DB}/public']"),
        WAIT,
    );
    b.wait_for_text(".page-maintenance tbody", TABLE, WAIT);
    console.shot("maintenance");
    b.click_css(
        &format!("a.object-link[href='#/maintenance/{DB}/public/{TABLE}']"),
        WAIT,
    );
    b.wait_for_text(".page-maintenance", &format!("public.{TABLE}"), WAIT);
    b.click_css(".maintenance-form select.op option[value='analyze']", WAIT);
    b.click_css(".maintenance-form .run-maintenance", WAIT);
    b.click_css("#confirm-yes", WAIT);
    console.wait_js(
        "the ANALYZE task to be done",
        "return [...document.querySelectorAll('.page-maintenance tbody tr')] \
           .some(tr => tr.textContent.includes('ANALYZE') && tr.textContent.includes('done'))",
    );
    // The table's statistics on the page follow the task's end.
    b.wait_for_text(
        ".page-maintenance .facts-list",
        "Modified since analyze\n0",
        WAIT,
    );
    common::wait_until(WAIT, "pg_stat_user_tables.last_analyze", || {
        pg.psql(
            DB,
            &format!("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = '{TABLE}'"),
        ) == "t"
    });
    b.click_css(".maintenance-form select.op option[value='vacuum']", WAIT);
    b.click_css(".maintenance-form select.when option[value='cron']", WAIT);
    let cron = b.wait_for(".maintenance-form input.cron", WAIT);
    b.send_keys(&cron, "0 3 * * *").unwrap();
    b.click_css(".maintenance-form .run-maintenance", WAIT);
    b.click_css("#confirm-yes", WAIT);
    let task = console.wait_js(
        "the cron VACUUM with a Cancel button",
        "const b = document.querySelector('button.cancel-task'); return b && b.dataset.task",
    );
    let task = task.as_str().unwrap().to_string();
    console.shot("maintenance-table");
    b.click_css(&format!("button.cancel-task[data-task='{task}']"), WAIT);
    b.click_css("#confirm-yes", WAIT);
    console.wait_js(
        "the cancelled task to leave the list",
        &format!("return !document.querySelector(\"button.cancel-task[data-task='{task}']\")"),
    );
    // An ANALYZE at a time (the date picker's value set as a user's choice would):
    // it stays `todo`, for the read-only user to see without its Cancel button.
    b.click_css(".maintenance-form select.op option[value='analyze']", WAIT);
    b.click_css(".maintenance-form select.when option[value='at']", WAIT);
    b.wait_for(".maintenance-form input.at", WAIT);
    b.execute(
        "const at = document.querySelector('.maintenance-form input.at'); \
         at.value = '2030-12-31T10:30:00'; at.dispatchEvent(new Event('input'))",
        vec![],
    );
    b.click_css(".maintenance-form .run-maintenance", WAIT);
    b.wait_for_text("#confirm-body", "It runs at 2030-12-31T", WAIT);
    b.click_css("#confirm-yes", WAIT);
    console.wait_js(
        "the ANALYZE of 2030 in the task list",
        "return [...document.querySelectorAll('.page-maintenance .tasks tbody tr')] \
           .some(tr => tr.textContent.includes('2030-12-31T') && tr.textContent.includes('todo') \
             && tr.querySelector('button.cancel-task'))",
    );
    let session = agent.login();
    let vacuums = agent
        .get_as("/maintenance/vacuum/scheduled", &session)
        .json();
    assert_eq!(
        vacuums,
        json!([]),
        "the cancelled task is gone on the agent"
    );

    // Probes and notifications.
    console.open("#/probes");
    b.wait_for("[data-probe='db_size']", WAIT);
    b.wait_for_text("[data-probe='db_size']", DB, WAIT);
    console.shot("probes");
    console.open("#/notifications");
    b.wait_for_text(".page-notifications tbody", "work_mem", WAIT);
    b.wait_for_text(".page-notifications tbody", "cancelled", WAIT);
    console.shot("notifications");
    // The overview again, for its screenshot: by now the charts have history.
    console.open("#/overview");
    console.wait_js(
        "a drawn TPS line",
        "const p = document.querySelector('[data-chart=\"Transactions per second\"] path.series-0'); \
         return p && p.getAttribute('d').includes('L')",
    );
    b.wait_for_text(".events", "Login", WAIT);
    console.shot("overview");

    let errors = console_errors(b);
    assert!(errors.is_empty(), "browser console errors: {errors:#?}");

    // A read-only user: the same pages, no action button; the server refuses anyway.
    console.logout();
    console.login(READER, READER_PASSWORD);
    b.wait_for_text("#who", "read-only", WAIT);
    let _sleeper = Bg::run(&pg, DB, "SELECT pg_sleep(600) /* read-only view */");
    console.open("#/activity");
    b.wait_for_text(".page-activity tbody", "read-only view", WAIT);
    assert_eq!(console.action_buttons(), 0, "Activity");
    console.shot("read-only-activity");
    console.open("#/configuration");
    b.wait_for(".setting[data-setting='work_mem']", WAIT);
    assert_eq!(console.action_buttons(), 0, "Configuration");
    console.open(&format!("#/maintenance/{DB}/public/{TABLE}"));
    b.wait_for_text(".page-maintenance", "Indexes", WAIT);
    b.wait_for_text(".page-maintenance .tasks tbody", "2030-12-31T", WAIT);
    assert_eq!(console.action_buttons(), 0, "Maintenance");
    let reader = agent.try_login(READER, READER_PASSWORD).json()["session"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = agent.post_as("/activity/cancel", &reader, &json!({"pids": [1]}));
    assert_eq!(refused.status, 403, "{}", refused.text());

    let errors = console_errors(b);
    assert!(errors.is_empty(), "browser console errors: {errors:#?}");

    // PostgreSQL down: a banner, pages keep answering with messages; back: it goes.
    console.open("#/overview");
    b.wait_for_text("[data-fact='state'] .fact-value", "up", WAIT);
    pg.stop();
    b.wait_for_text("#banner", "PostgreSQL is down", WAIT);
    console.open("#/activity");
    b.wait_for_text(
        ".page-activity .message.error",
        "PostgreSQL is unreachable",
        WAIT,
    );
    console.shot("postgres-down");
    pg.start_again();
    common::wait_until(WAIT, "the banner to go", || {
        b.find("#banner")
            .and_then(|el| b.displayed(&el))
            .is_ok_and(|shown| !shown)
    });
    console.wait_js(
        "Activity to answer again",
        "return !document.querySelector('.page-activity .message.error') \
           && document.querySelector('.page-activity tbody tr') !== null",
    );
    // While PostgreSQL was down, the failed requests are logged by the browser
    // (500 answers): expected. Nothing else may be.
    let errors: Vec<String> = console_errors(b)
        .into_iter()
        .filter(|e| !e.contains("status of 500"))
        .collect();
    assert!(errors.is_empty(), "browser console errors: {errors:#?}");
}
