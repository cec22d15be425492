//! The built-in web console: `GET /console` and its assets under `/console/...`.
//!
//! Every asset is compiled into the binary (`include_bytes!` of the files under
//! `src/http/console/`), so the console works offline and upgrades with the agent.
//! The page is plain HTML, CSS and ES modules that talk to the agent's own API with
//! `X-Session`: this file serves bytes and the security headers, nothing else. It
//! must not serve anything outside the fixed asset list, and it must keep the
//! Content-Security-Policy strict (no inline script, `default-src 'self'`): the
//! console's code is written so that it needs nothing more.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};

use super::error::{error_body, ApiError};

/// One embedded file: its path under `/console/`, its media type, its bytes, and
/// a hash of the bytes as its entity tag.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    hash: u64,
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("console/", $path)),
            hash: fnv1a(include_bytes!(concat!("console/", $path))),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/app.js", JS),
    asset!("js/api.js", JS),
    asset!("js/ui.js", JS),
    asset!("js/chart.js", JS),
    asset!("js/overview.js", JS),
    asset!("js/activity.js", JS),
    asset!("js/statements.js", JS),
    asset!("js/configuration.js", JS),
    asset!("js/maintenance.js", JS),
    asset!("js/probes.js", JS),
    asset!("js/notifications.js", JS),
];

/// The page may load its own scripts, styles and images and call its own origin;
/// nothing inline, nothing from elsewhere, never in a frame.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// FNV-1a, computed at build time: a stable entity tag for each asset, so that a
/// browser revalidates cheaply and an upgraded agent's files are fetched anew.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/console").route(web::get().to(index)))
        .service(web::resource("/console/").route(web::get().to(index)))
        .service(web::resource("/console/{path:.*}").route(web::get().to(file)));
}

async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, "index.html")
}

async fn file(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    serve(&req, &path)
}

fn serve(req: &HttpRequest, path: &str) -> HttpResponse {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return error_body(
            secured(HttpResponse::NotFound()),
            &ApiError::not_found().message,
        );
    };
    let etag = format!("\"{:016x}\"", asset.hash);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        secured(HttpResponse::NotModified())
    } else {
        secured(HttpResponse::Ok())
    };
    response
        .insert_header((header::ETAG, etag))
        // Revalidate every time: the files change with the agent's version.
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        return response.finish();
    }
    response
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .body(asset.body)
}

fn secured(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_distinct_path_and_content() {
        for (i, a) in ASSETS.iter().enumerate() {
            assert!(!a.body.is_empty(), "{} is empty", a.path);
            for b in &ASSETS[i + 1..] {
                assert_ne!(a.path, b.path);
                assert_ne!(a.hash, b.hash, "{} and {}", a.path, b.path);
            }
        }
    }

    /// A CSP without 'unsafe-inline' refuses inline scripts, handlers and style
    /// attributes: make sure the files use none, rather than find out in a browser.
    #[test]
    fn no_inline_script_or_style_in_the_page() {
        let html = std::str::from_utf8(ASSETS[0].body).unwrap();
        for forbidden in ["<script>", " onclick=", " onload=", " style=", "<style"] {
            assert!(!html.contains(forbidden), "index.html has {forbidden}");
        }
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let js = std::str::from_utf8(a.body).unwrap();
            for forbidden in ["eval(", "new Function", "innerHTML", "setAttribute('style'"] {
                assert!(!js.contains(forbidden), "{} uses {forbidden}", a.path);
            }
        }
    }

    #[test]
    fn the_whole_console_is_small() {
        // Uncompressed, well within the budget of 300 kB compressed.
        let total: usize = ASSETS.iter().map(|a| a.body.len()).sum();
        assert!(total < 300 * 1024, "{total} bytes");
    }
}
