//! Page weight and first paint of the built-in web console, on the quick start.
//!
//! Runs the real `temboard-agent quickstart` (its own throwaway cluster, in a
//! temporary directory, on a free port) and a headless Chromium through
//! chromedriver (`tests/console/webdriver.rs`), then measures:
//!
//! - page weight: every `/console/...` file the browser loaded (Resource Timing),
//!   raw and compressed with `gzip -9` (the agent serves them uncompressed; the
//!   issue's budget is 300 kB compressed);
//! - first paint / first contentful paint of `/console` in a NEW browser profile
//!   (nothing cached, new TLS connection), as Chromium reports them
//!   (`performance.getEntriesByType('paint')`, from navigation start), and in the
//!   same browser again (files revalidated with their ETag: 304);
//! - login to Overview: from the click on "Log in" until the PostgreSQL version and
//!   a drawn chart show (history fetched and charts drawn), polled every 50 ms.
//!
//! Run: `cargo bench --bench console` (about 30 s, release build). Without
//! `--bench` (e.g. `cargo test --all-targets`) one run of each, numbers meaningless.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/figures.rs"]
mod figures;
#[path = "../tests/console/webdriver.rs"]
mod webdriver;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use common::client::{self, Request};
use webdriver::Browser;

const WAIT: Duration = Duration::from_secs(30);

struct Quickstart {
    child: Child,
    port: u16,
    password: String,
    _dir: tempfile::TempDir,
}

impl Quickstart {
    fn start() -> Quickstart {
        let dir = tempfile::Builder::new()
            .prefix("tba-bench-qs-")
            .tempdir()
            .unwrap();
        let port = common::free_port();
        let mut child = Command::new(common::agent_bin())
            .args(["quickstart", "--dir"])
            .arg(dir.path().join("qs"))
            .args(["--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run temboard-agent quickstart");
        let mut password = None;
        let mut console_url = false;
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if let Some(p) = line.trim().strip_prefix("Password:") {
                password = Some(p.trim().to_string());
            }
            console_url |= line.contains(&format!("https://127.0.0.1:{port}/console"));
            if line.contains("Ctrl-C stops") {
                break;
            }
        }
        assert!(console_url, "the quick start prints the console's URL");
        let qs = Quickstart {
            child,
            port,
            password: password.expect("the quick start prints the password"),
            _dir: dir,
        };
        common::wait_until(WAIT, "the quick start's agent", || {
            client::try_send(port, &Request::get("/status")).is_ok_and(|r| r.status == 200)
        });
        qs
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/console", self.port)
    }
}

impl Drop for Quickstart {
    fn drop(&mut self) {
        // SIGINT, as Ctrl-C: the quick start stops its cluster.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn paint_ms(browser: &Browser) -> (f64, f64) {
    let start = Instant::now();
    loop {
        let v = browser.execute(
            "const p = {}; for (const e of performance.getEntriesByType('paint')) p[e.name] = e.startTime; return p",
            vec![],
        );
        if let (Some(fp), Some(fcp)) = (
            v["first-paint"].as_f64(),
            v["first-contentful-paint"].as_f64(),
        ) {
            return (fp, fcp);
        }
        assert!(start.elapsed() < WAIT, "no paint entries: {v}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn login_to_overview_ms(browser: &Browser, password: &str) -> f64 {
    let user = browser.wait_for("#username", WAIT);
    browser.send_keys(&user, "admin").unwrap();
    let field = browser.find("#password").unwrap();
    browser.send_keys(&field, password).unwrap();
    let start = Instant::now();
    browser
        .click(&browser.find("#login-submit").unwrap())
        .unwrap();
    loop {
        let ready = browser.execute(
            "const v = document.querySelector('[data-fact=\"pg_version\"] .fact-value'); \
             const p = document.querySelector('[data-chart=\"CPU (%)\"] path.series-0'); \
             return Boolean(v && v.textContent.includes('PostgreSQL') && p && p.getAttribute('d').includes('L'))",
            vec![],
        );
        if ready == json!(true) {
            return start.elapsed().as_secs_f64() * 1000.0;
        }
        assert!(start.elapsed() < WAIT, "the overview did not show");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut gzip = Command::new("gzip")
        .arg("-9c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    gzip.stdin.take().unwrap().write_all(bytes).unwrap();
    gzip.wait_with_output().unwrap().stdout.len()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runs = if full { 7 } else { 1 };
    let qs = Quickstart::start();
    println!();
    println!(
        "temboard-agent console benchmark: {} CPU(s), the quick start on 127.0.0.1:{}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        qs.port
    );
    if !full {
        println!("SMOKE PASS (no --bench argument): numbers meaningless.");
    }

    // Page weight, from what the browser actually loaded.
    let browser = Browser::start(1360, 900);
    browser.goto(&qs.url());
    login_to_overview_ms(&browser, &qs.password);
    let files: Vec<String> = browser
        .execute(
            "return [location.pathname, ...performance.getEntriesByType('resource') \
               .map(e => new URL(e.name).pathname).filter(p => p.startsWith('/console/'))]",
            vec![],
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let (mut raw, mut gzipped) = (0, 0);
    for path in &files {
        let res = client::send(qs.port, &Request::get(path));
        assert_eq!(res.status, 200, "{path}");
        raw += res.body.len();
        gzipped += gzip_len(&res.body);
    }
    println!(
        "page weight: {} files, {:.1} kB raw, {:.1} kB gzip -9 (budget 300 kB compressed)",
        files.len(),
        raw as f64 / 1024.0,
        gzipped as f64 / 1024.0
    );
    drop(browser);

    let (mut cold_fp, mut cold_fcp, mut warm_fcp, mut login) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let browser = Browser::start(1360, 900);
        browser.goto(&qs.url());
        let (fp, fcp) = paint_ms(&browser);
        cold_fp.push(fp);
        cold_fcp.push(fcp);
        login.push(login_to_overview_ms(&browser, &qs.password));
        browser.goto(&qs.url());
        warm_fcp.push(paint_ms(&browser).1);
    }
    let report = |name: &str, values: &[f64]| {
        let at = |p: f64| figures::percentile(values, p).unwrap_or(f64::NAN);
        println!(
            "{name:<44} p50 {:>7.1} ms   max {:>7.1} ms   ({} runs)",
            at(0.5),
            at(1.0),
            values.len()
        );
    };
    report("first paint, new profile", &cold_fp);
    report("first contentful paint, new profile", &cold_fcp);
    report("first contentful paint, reload (304s)", &warm_fcp);
    report("login click -> overview with charts", &login);
}
