//! The HTTP layer: the app factory, the HTTPS server, and what every response shares
//! (JSON errors, `Allow` on a 405, `Server` and `Access-Control-Allow-Origin` headers,
//! the access log with the agent key redacted, the connection cap and the deadlines of
//! `deadline.rs`). Only this module knows actix-web and status codes;
//! handlers validate input, send one message to an actor and map the reply.

pub mod access;
pub mod activity;
pub mod administration;
pub mod console;
pub mod core;
pub mod dashboard;
pub mod deadline;
pub mod error;
pub mod extract;
pub mod maintenance;
pub mod metrics;
pub mod monitoring;
pub mod openapi;
pub mod pgconf;
pub mod query;
pub mod statements;
pub mod tls;

use std::path::PathBuf;

use actix_web::dev::ServiceResponse;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers, Logger};
use actix_web::{web, App, HttpResponse, HttpServer};
use error::{error_body, ApiError, Reply};

use actors::host::HostFacts;
use actors::Actors;

/// Registers a plugin's routes.
type PluginRoutes = fn(&mut web::ServiceConfig);

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// What handlers reach: actor addresses and facts fixed at start-up. Nothing in it
/// changes after start: state that changes lives in the actors.
pub struct AppState {
    pub actors: Actors,
    pub host: HostFacts,
    pub key: Option<String>,
    pub plugins: Vec<String>,
    /// `[console] enabled`: whether `/console` is served.
    pub console: bool,
    pub os_user: String,
    pub config_file: PathBuf,
}

pub fn server_header() -> String {
    format!("temboard-agent/{}", env!("CARGO_PKG_VERSION"))
}

/// Gives every error response the spec's JSON shape, including those actix-web makes
/// itself (unknown route, wrong method, body too large, unreadable body).
fn json_errors<B>(mut res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if res.status() == actix_web::http::StatusCode::METHOD_NOT_ALLOWED {
        // RFC 9110: a 405 names the methods that the path does accept.
        let allow = openapi::allowed_methods(res.request().path())
            .and_then(|m| actix_web::http::header::HeaderValue::from_str(&m).ok());
        if let Some(allow) = allow {
            res.headers_mut()
                .insert(actix_web::http::header::ALLOW, allow);
        }
    }
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = match status.as_u16() {
        404 => ApiError::not_found().message,
        405 => ApiError::method_not_allowed().message,
        413 => format!("Request body too large (limit {MAX_BODY_BYTES} bytes)."),
        _ => res
            .response()
            .error()
            .map(|e| e.to_string())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_string()),
    };
    let (req, res) = res.into_parts();
    let mut json = error_body(HttpResponse::build(status), &message);
    for (name, value) in res.headers() {
        if name != CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, json).map_into_right_body(),
    ))
}

/// The routes of a plugin; the core routes are always served.
fn plugin_routes(name: &str) -> Option<PluginRoutes> {
    Some(match name {
        "dashboard" => dashboard::routes,
        "monitoring" => monitoring::routes,
        "pgconf" => pgconf::routes,
        "administration" => administration::routes,
        "activity" => activity::routes,
        "maintenance" => maintenance::routes,
        "statements" => statements::routes,
        _ => return None,
    })
}

/// Without TCP_NODELAY, the first response of a connection waits ~40 ms behind the
/// TLS session tickets (Nagle's algorithm meeting the client's delayed ACK).
fn disable_nagle(connection: &dyn std::any::Any, _: &mut actix_web::dev::Extensions) {
    type Tls = actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>;
    if let Some(tls) = connection.downcast_ref::<Tls>() {
        let _ = tls.get_ref().0.set_nodelay(true);
    }
}

async fn not_found() -> Reply {
    Err(ApiError::not_found())
}

/// What the server bounds against slow or too many clients (docs/security.md, 5).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub workers: usize,
    /// actix-web counts connections per worker: `[temboard] max_connections` split
    /// between the workers.
    pub connections_per_worker: usize,
    pub deadlines: deadline::Deadlines,
}

/// Builds the HTTPS server on an already bound listener. Signals are handled by the
/// caller (`serve`), so that SIGINT is as graceful as SIGTERM.
pub fn serve(
    state: AppState,
    tls: rustls::ServerConfig,
    listener: std::net::TcpListener,
    limits: Limits,
) -> std::io::Result<actix_web::dev::Server> {
    let plugins = state.plugins.clone();
    let console = state.console;
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        let enabled = |name: &str| plugins.iter().any(|p| p == name);
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .wrap_fn(|req, srv| {
                let response = actix_web::dev::Service::call(srv, req);
                async move { response.await.map(access::check_declared) }
            })
            .wrap(ErrorHandlers::new().default_handler(json_errors))
            .wrap_fn(move |req, srv| deadline::bound(limits.deadlines, req, srv))
            .wrap(
                DefaultHeaders::new()
                    .add(("Server", server_header()))
                    .add(("Access-Control-Allow-Origin", "*")),
            )
            .wrap(
                Logger::new(r#"%a "%{request}xi" %s %b %Dms"#).custom_request_replace(
                    "request",
                    |req| {
                        let uri = crate::logging::redact_query(&req.uri().to_string());
                        format!("{} {uri}", req.method())
                    },
                ),
            )
            .configure(core::routes)
            .configure(openapi::routes)
            .configure(|cfg| {
                if console {
                    console::routes(cfg)
                }
            })
            .configure(|cfg| {
                // Each known plugin once, whatever `[temboard] plugins` repeats.
                for name in crate::config::PLUGINS.into_iter().filter(|p| enabled(p)) {
                    if let Some(routes) = plugin_routes(name) {
                        routes(cfg)
                    }
                }
                // /metrics exports what the monitoring plugin collects.
                if enabled("monitoring") {
                    metrics::routes(cfg)
                }
            })
            .default_service(web::to(not_found))
    })
    .workers(limits.workers)
    .max_connections(limits.connections_per_worker)
    .on_connect(disable_nagle)
    .listen_rustls_0_23(listener, tls)?
    .disable_signals()
    .shutdown_timeout(30)
    .run();
    Ok(server)
}
