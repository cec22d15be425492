//! The OpenAPI document (`docs/openapi.json`, served at `GET /openapi.json`) against
//! the agent: every route declared in `src/http/*.rs` is documented, every documented
//! operation is routed (a real agent answers it with anything but the router's own
//! 404 / 405), and every documented object of the spec is closed
//! (`additionalProperties: false`), so that the fuzzer checks exact key sets.

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

const OPS: [&str; 3] = ["vacuum", "analyze", "reindex"];

fn document() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `METHOD /path/{}` for every documented operation (parameter names erased).
fn documented(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert(format!("{} {}", method.to_uppercase(), erase_params(path)));
        }
    }
    out
}

fn erase_params(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push_str("{}");
                }
                depth += 1;
            }
            '}' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The routes as the code declares them: `web::resource("...")` with its
/// `web::get()`-style routes, the dashboard's metric table, and the maintenance
/// chapter's `get("...")` helpers with `{OP}` standing for the three operations.
fn routed() -> BTreeSet<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue; // src/http/console/: the console's files
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let Some(start) = text.find("pub fn routes(") else {
            continue;
        };
        let body = &text[start..];
        let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
        // web::resource("PATH") ... web::get() ... up to the next resource.
        let mut rest = body;
        while let Some(at) = rest.find("web::resource(") {
            rest = &rest[at + "web::resource(".len()..];
            let end = rest.find("web::resource(").unwrap_or(rest.len());
            let chunk = &rest[..end];
            let paths: Vec<String> = if chunk.starts_with("path.replace(") {
                // The maintenance helpers' definitions, read below.
                Vec::new()
            } else if let Some(literal) = quoted(chunk) {
                vec![literal]
            } else if chunk.starts_with("format!(\"/dashboard/{name}\")") {
                dashboard_metrics(&text)
                    .iter()
                    .map(|m| format!("/dashboard/{m}"))
                    .collect()
            } else {
                panic!("unparsed route in {}: {chunk}", path.display())
            };
            for method in ["get", "post", "delete", "put", "patch"] {
                if chunk.contains(&format!("web::{method}()")) {
                    for p in &paths {
                        out.insert(format!("{} {}", method.to_uppercase(), erase_params(p)));
                    }
                }
            }
        }
        // The maintenance helpers: get("..."), post("..."), delete("...").
        for method in ["get", "post", "delete"] {
            let needle = format!("{method}(\"");
            let mut rest = body;
            while let Some(at) = rest.find(&needle) {
                rest = &rest[at + needle.len() - 1..];
                let literal = quoted(rest).unwrap();
                let handler = rest[rest.find(".to(").unwrap_or(0)..].trim_start_matches(".to(");
                if handler.starts_with("method_not_allowed") {
                    // Answers 405 for a method the path has not: no operation.
                    continue;
                }
                if literal.contains("{OP}") {
                    for op in OPS {
                        let p = literal.replace("{OP}", op);
                        out.insert(format!("{} {}", method.to_uppercase(), erase_params(&p)));
                    }
                } else if literal.starts_with('/') {
                    out.insert(format!(
                        "{} {}",
                        method.to_uppercase(),
                        erase_params(&literal)
                    ));
                }
            }
        }
    }
    out
}

fn quoted(text: &str) -> Option<String> {
    let text = text.trim_start();
    let rest = text.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

/// The names of `METRICS: [(&str, Metric); N] = [("buffers", ...), ...]`.
fn dashboard_metrics(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("(\""))
        .filter(|l| l.contains("Metric::"))
        .map(|l| l[..l.find('"').unwrap()].to_string())
        .collect()
}

#[test]
fn every_route_is_documented_and_every_documented_path_is_routed() {
    let doc = document();
    let documented = documented(&doc);
    let routed = routed();
    assert!(routed.len() > 50, "{routed:?}");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from docs/openapi.json: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
}

/// A concrete path for a documented template: names no object exists under, so
/// that the handlers answer their own 404 (or 406) and nothing is changed.
fn concrete(path: &str) -> String {
    path.replace("{id}", "00000000")
        // A console file answers the router's own "Not found." when unknown.
        .replace("/console/{path}", "/console/index.html")
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                "tba_no_such_object"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn a_real_agent_answers_every_documented_operation() {
    let pg = PgCluster::shared();
    let agent = Agent::start(pg);
    let session = agent.login();
    // The document the agent serves, without authentication, is the one in docs/.
    let served = agent.get("/openapi.json");
    assert_eq!(served.status, 200);
    assert!(served
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(served.json(), document());
    assert_eq!(served.json()["openapi"], "3.1.0");

    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let target = format!("{}?key={KEY}", concrete(path));
            if path == "/logout" {
                // Ending the session would make the next requests 401.
                continue;
            }
            let request = match method.as_str() {
                "get" => Request::get(&target),
                "post" => {
                    let body = if path.starts_with("/activity/") {
                        r#"{"pids": []}"#
                    } else if path == "/pgconf/configuration" {
                        r#"{"settings": []}"#
                    } else {
                        // Maintenance at a far time on a database that does not exist:
                        // 404; control (no action) and login: 406.
                        r#"{"datetime": "2099-01-01T00:00:00Z"}"#
                    };
                    Request::post(&target, body.to_string())
                }
                "delete" => Request::new("DELETE", &target),
                other => panic!("unexpected method {other} for {path}"),
            };
            let res = agent.send(request.session(&session));
            let what = format!(
                "{} {path}: {} {}",
                method.to_uppercase(),
                res.status,
                res.text()
            );
            assert_ne!(res.status, 405, "{what}");
            if res.status == 404 {
                assert_ne!(res.json()["error"], "Not found.", "{what}");
            }
            assert!(res.status < 500, "{what}");
            let documented = &item[method]["responses"][res.status.to_string()];
            assert!(documented.is_object(), "undocumented status: {what}");
        }
    }
}

/// Every object of a response schema has closed keys, or is a declared map.
#[test]
fn response_objects_are_closed() {
    fn walk(schema: &Value, at: &str, open: &mut Vec<String>) {
        if let Some(obj) = schema.as_object() {
            let is_object = match &obj.get("type") {
                Some(Value::String(t)) => t == "object",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                _ => false,
            };
            if is_object
                && obj.contains_key("properties")
                && !obj.contains_key("additionalProperties")
            {
                open.push(at.to_string());
            }
            for (k, v) in obj {
                walk(v, &format!("{at}/{k}"), open);
            }
        } else if let Some(list) = schema.as_array() {
            for (i, v) in list.iter().enumerate() {
                walk(v, &format!("{at}/{i}"), open);
            }
        }
    }
    let doc = document();
    let mut open = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            walk(&op["responses"], &format!("{method} {path}"), &mut open);
        }
    }
    assert!(
        open.is_empty(),
        "objects without additionalProperties: {open:?}"
    );
}

/// Found by the fuzzer (.ci/fuzz): actix-web's own 405 had no `Allow` header, which
/// RFC 9110 requires; it now names the methods the document lists for the path.
#[test]
fn a_405_names_the_allowed_methods() {
    let agent = Agent::start(PgCluster::shared());
    for (method, path, allow) in [
        ("DELETE", "/status", "GET"),
        ("PUT", "/pgconf/configuration", "GET, POST"),
        ("TRACE", "/openapi.json", "GET"),
        ("GET", "/login", "POST"),
        ("PATCH", "/maintenance/tasks", "GET"),
    ] {
        let res = agent.send(Request::new(method, path));
        assert_eq!(res.status, 405, "{method} {path}: {}", res.text());
        assert_eq!(res.header("Allow"), Some(allow), "{method} {path}");
        assert_eq!(res.json()["error"], "Method not allowed.");
    }
}
