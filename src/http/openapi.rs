//! `GET /openapi.json` (no authentication): the OpenAPI 3.1 document of the whole
//! API, `docs/openapi.json`, built into the binary so that what is served is what
//! this build answers. The document is made by `docs/openapi/build.py`;
//! `tests/api_openapi.rs` checks it against the routes, and `.ci/fuzz` fuzzes the
//! agent with it.

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use serde_json::Value;

pub const DOCUMENT: &str = include_str!("../../docs/openapi.json");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").route(web::get().to(document)));
}

async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT)
}

/// The methods documented for `path`, as an `Allow` header value ("DELETE, GET"), for
/// the 405 answers (RFC 9110 requires the header there). A documented concrete path
/// decides alone; otherwise the templates that match, one non-empty segment per
/// `{parameter}`. None when no documented path matches.
pub fn allowed_methods(path: &str) -> Option<String> {
    // OpenAPI matches a concrete path before the templates: `/maintenance/vacuum/
    // scheduled` is the GET list, not an id of `DELETE /maintenance/vacuum/{id}`.
    if let Some((_, allowed)) = templates().iter().find(|(t, _)| t == path) {
        return Some(allowed.join(", "));
    }
    let mut methods: Vec<String> = Vec::new();
    for (template, allowed) in templates() {
        if matches(template, path) {
            methods.extend(allowed.iter().cloned());
        }
    }
    methods.sort();
    methods.dedup();
    (!methods.is_empty()).then(|| methods.join(", "))
}

/// (path template, its methods upper-cased), read once from the document.
fn templates() -> &'static [(String, Vec<String>)] {
    static TEMPLATES: OnceLock<Vec<(String, Vec<String>)>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let doc: Value = serde_json::from_str(DOCUMENT).unwrap_or(Value::Null);
        let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
            return Vec::new();
        };
        paths
            .iter()
            .map(|(path, item)| {
                let methods = item
                    .as_object()
                    .map(|ops| ops.keys().map(|m| m.to_uppercase()).collect())
                    .unwrap_or_default();
                (path.clone(), methods)
            })
            .collect()
    })
}

fn matches(template: &str, path: &str) -> bool {
    let mut segments = path.split('/');
    for expected in template.split('/') {
        let Some(segment) = segments.next() else {
            return false;
        };
        let is_param = expected.starts_with('{') && expected.ends_with('}');
        if (is_param && segment.is_empty()) || (!is_param && segment != expected) {
            return false;
        }
    }
    segments.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_json_and_lists_methods() {
        assert!(serde_json::from_str::<Value>(DOCUMENT).is_ok());
        assert_eq!(allowed_methods("/status").as_deref(), Some("GET"));
        assert_eq!(
            allowed_methods("/pgconf/configuration").as_deref(),
            Some("GET, POST")
        );
        assert_eq!(
            allowed_methods("/maintenance/vacuum/scheduled").as_deref(),
            Some("GET")
        );
        assert_eq!(
            allowed_methods("/maintenance/vacuum/analyze").as_deref(),
            Some("DELETE, POST")
        );
        assert_eq!(allowed_methods("/maintenance//analyze"), None);
        assert_eq!(allowed_methods("/nowhere"), None);
        assert_eq!(allowed_methods("/status/"), None);
    }
}
