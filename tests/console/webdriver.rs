//! A small W3C WebDriver client for the console's browser test and benchmark:
//! Debian's `chromedriver` driving Debian's headless `chromium`, spoken to over
//! plain HTTP/1.1 on 127.0.0.1 with `std::net` and serde_json. A few dozen
//! commands are all the test needs; a client crate would bring an async HTTP
//! stack into every build of the tests for them.
//!
//! The browser runs with a new empty profile and without any background
//! networking (the machine's network is closed; Chromium must not try to phone
//! home), accepts the agent's self-signed certificate, and records its console
//! (`goog:loggingPrefs`), which `browser_log` drains. Both processes end when the
//! `Browser` is dropped.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C name of an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver error: its `error` code (`no such element`, `stale element
/// reference`, ...) and message.
#[derive(Debug)]
pub struct WebDriverError {
    pub code: String,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, WebDriverError>;

#[derive(Clone, Debug)]
pub struct Element(String);

pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium of `width` x `height`.
    /// Panics with what to install when either is missing.
    pub fn start(width: u32, height: u32) -> Browser {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: apt-get install chromium chromium-driver (bash .ci/run does)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port for chromedriver");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::Builder::new()
            .prefix("tba-chromium-")
            .tempdir()
            .unwrap();
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while browser.call("GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            "--disable-dev-shm-usage".into(),
            "--password-store=basic".into(),
            "--ignore-certificate-errors".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let answer = browser
            .call("POST", "/session", Some(capabilities))
            .unwrap_or_else(|e| panic!("chromedriver could not start Chromium: {e:?}"));
        browser.session = answer["sessionId"].as_str().unwrap().to_string();
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(io_error)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(io_error)?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).map_err(io_error)?;
        // chromedriver says `Connection: close` but keeps the socket open: read
        // what Content-Length announces.
        let mut raw = Vec::new();
        let mut buf = [0u8; 16384];
        let (split, length) = loop {
            let n = stream.read(&mut buf).map_err(io_error)?;
            if n == 0 {
                return Err(WebDriverError {
                    code: "bad response".into(),
                    message: String::from_utf8_lossy(&raw).into_owned(),
                });
            }
            raw.extend_from_slice(&buf[..n]);
            if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                break (split, length);
            }
        };
        let mut payload = raw[split + 4..].to_vec();
        match length {
            Some(length) => {
                while payload.len() < length {
                    let n = stream.read(&mut buf).map_err(io_error)?;
                    if n == 0 {
                        break;
                    }
                    payload.extend_from_slice(&buf[..n]);
                }
            }
            None => {
                stream.read_to_end(&mut payload).map_err(io_error)?;
                let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
                if head.contains("transfer-encoding: chunked") {
                    payload = dechunk(&payload);
                }
            }
        }
        let payload = String::from_utf8_lossy(&payload);
        let value: Value = serde_json::from_str(&payload).map_err(|e| WebDriverError {
            code: "bad json".into(),
            message: format!("{e}: {payload}"),
        })?;
        let value = value.get("value").cloned().unwrap_or(Value::Null);
        if let Some(code) = value.get("error").and_then(Value::as_str) {
            return Err(WebDriverError {
                code: code.to_string(),
                message: value["message"].as_str().unwrap_or_default().to_string(),
            });
        }
        Ok(value)
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })))
            .unwrap_or_else(|e| panic!("navigate to {url}: {e:?}"));
    }

    pub fn find(&self, css: &str) -> Result<Element> {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )?;
        match v[ELEMENT_KEY].as_str() {
            Some(id) => Ok(Element(id.to_string())),
            None => Err(WebDriverError {
                code: "bad element".into(),
                message: v.to_string(),
            }),
        }
    }

    pub fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self
            .cmd(
                "POST",
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .unwrap_or(Value::Null);
        v.as_array()
            .map(|list| {
                list.iter()
                    .map(|e| Element(e[ELEMENT_KEY].as_str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn click(&self, element: &Element) -> Result<()> {
        self.cmd(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        )
        .map(drop)
    }

    pub fn clear(&self, element: &Element) -> Result<()> {
        self.cmd(
            "POST",
            &format!("/element/{}/clear", element.0),
            Some(json!({})),
        )
        .map(drop)
    }

    pub fn send_keys(&self, element: &Element, text: &str) -> Result<()> {
        self.cmd(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(json!({ "text": text })),
        )
        .map(drop)
    }

    pub fn text(&self, element: &Element) -> Result<String> {
        let v = self.cmd("GET", &format!("/element/{}/text", element.0), None)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    pub fn displayed(&self, element: &Element) -> Result<bool> {
        let v = self.cmd("GET", &format!("/element/{}/displayed", element.0), None)?;
        Ok(v.as_bool().unwrap_or(false))
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .unwrap_or_else(|e| panic!("script {script:?}: {e:?}"))
    }

    /// Waits until an element matching `css` is displayed and answers it.
    pub fn wait_for(&self, css: &str, deadline: Duration) -> Element {
        let start = Instant::now();
        loop {
            if let Ok(el) = self.find(css) {
                if self.displayed(&el).unwrap_or(false) {
                    return el;
                }
            }
            assert!(
                start.elapsed() < deadline,
                "timed out after {deadline:?} waiting for {css}\n{}",
                self.diagnose()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the visible text of the page's `css` element contains `text`.
    pub fn wait_for_text(&self, css: &str, text: &str, deadline: Duration) -> Element {
        let start = Instant::now();
        let mut last = String::new();
        loop {
            if let Ok(el) = self.find(css) {
                last = self.text(&el).unwrap_or_default();
                if last.contains(text) {
                    return el;
                }
            }
            assert!(
                start.elapsed() < deadline,
                "timed out after {deadline:?} waiting for {text:?} in {css}; last text: {last:?}\n{}",
                self.diagnose()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks the element matching `css`, finding it again when the page
    /// re-rendered it in between (auto-refreshing tables).
    pub fn click_css(&self, css: &str, deadline: Duration) {
        let start = Instant::now();
        loop {
            let result = self.find(css).and_then(|el| self.click(&el));
            match result {
                Ok(()) => return,
                Err(e) if start.elapsed() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("click {css}: {e:?}"),
            }
        }
    }

    /// The page's address, its visible text and the browser console: what a
    /// failing wait quotes.
    pub fn diagnose(&self) -> String {
        let page = self
            .cmd(
                "POST",
                "/execute/sync",
                Some(json!({"script": "return location.href + '\\n' + document.body.innerText.slice(0, 3000)", "args": []})),
            )
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|e| format!("{e:?}"));
        format!("page: {page}\nbrowser console: {:#?}", self.browser_log())
    }

    /// Saves a PNG of the viewport.
    pub fn screenshot(&self, path: &Path) {
        use base64::Engine;
        let v = self.cmd("GET", "/screenshot", None).expect("screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Resizes the window (a taller one for a full-page screenshot).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .expect("set window rect");
    }

    /// The browser console's entries since the last call: `{level, message}`.
    pub fn browser_log(&self) -> Vec<Value> {
        self.cmd("POST", "/se/log", Some(json!({"type": "browser"})))
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn io_error(e: std::io::Error) -> WebDriverError {
    WebDriverError {
        code: "io".into(),
        message: e.to_string(),
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let rest = &body[eol + 2..];
        match size {
            Some(size) if size > 0 && rest.len() >= size => {
                out.extend_from_slice(&rest[..size]);
                body = rest[size..].strip_prefix(b"\r\n").unwrap_or(&rest[size..]);
            }
            _ => break,
        }
    }
    out
}
