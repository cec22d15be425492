//! Core API: login, logout, profile, discover, status, notifications.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::error::{ApiError, Reply};
use super::extract::{self, Session, SessionOrKey};
use super::query::Query;
use super::AppState;
use actors::agent_status::GetAgentTimes;
use actors::notification_log::ListNotifications;
use actors::pg_supervisor::{DiscoverInstance, GetInstanceState};
use actors::session_registry::{Login, LoginError, Logout};
use actors::users::{valid_password, valid_username};

const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/login").route(web::post().to(login)))
        .service(web::resource("/logout").route(web::get().to(logout)))
        .service(web::resource("/profile").route(web::get().to(profile)))
        .service(web::resource("/discover").route(web::get().to(discover)))
        .service(web::resource("/status").route(web::get().to(status)))
        .service(web::resource("/status/postgres").route(web::get().to(postgres_status)))
        .service(web::resource("/notifications").route(web::get().to(notifications)));
}

/// Parses a JSON object body: 400 when it is not JSON, 406 naming `first_field` when
/// it is JSON but not an object.
pub fn json_object(body: &[u8], first_field: &str) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body).map_err(ApiError::bad_json)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::malformed(first_field)),
    }
}

fn string_field<'a>(
    body: &'a Map<String, Value>,
    name: &str,
    valid: impl Fn(&str) -> bool,
) -> Result<&'a str, ApiError> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|v| valid(v))
        .ok_or_else(|| ApiError::malformed(name))
}

async fn login(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> Reply {
    let body = json_object(&body, "username")?;
    let username = string_field(&body, "username", valid_username)?;
    let password = string_field(&body, "password", valid_password)?;
    let client = req
        .peer_addr()
        .map(|a| a.ip())
        .ok_or_else(|| ApiError::internal("client address unknown"))?;
    let reply = state
        .actors
        .sessions
        .send(Login {
            username: username.to_string(),
            password: password.to_string(),
            client,
        })
        .await?;
    match reply {
        Ok(session) => Ok(HttpResponse::Ok().json(json!({ "session": session }))),
        Err(LoginError::InvalidCredentials) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Invalid username/password.",
        )),
        Err(LoginError::LockedOut { retry_after }) => Err(ApiError::too_many_failures(retry_after)),
        Err(LoginError::Busy) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many logins are being checked at once; try again shortly.",
        )),
    }
}

async fn logout(req: HttpRequest, state: web::Data<AppState>) -> Reply {
    let id = extract::session_id(&req)?;
    state
        .actors
        .sessions
        .send(Logout { id })
        .await?
        .ok_or_else(ApiError::invalid_session)?;
    Ok(HttpResponse::Ok().json(json!({ "logout": true })))
}

/// The spec's `{"username"}`; `?role=true` adds the user's role (`admin` or
/// `read`), which the spec's object does not carry.
async fn profile(session: Session, query: Query) -> Reply {
    let mut body = json!({ "username": session.username });
    if query.once("role", opt_in)?.unwrap_or(false) {
        body["role"] = json!(session.role.as_str());
    }
    Ok(HttpResponse::Ok().json(body))
}

/// An opt-in parameter: `true` or `false` (absent is no); any other value is
/// malformed, and so is the parameter given twice.
fn opt_in(value: &str) -> Option<bool> {
    match value {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

async fn discover(req: HttpRequest, state: web::Data<AppState>) -> Reply {
    // The key is optional here, but a wrong one is refused.
    extract::check_key(&req, &state).await?;
    let instance = match state.actors.pg.send(DiscoverInstance).await? {
        Ok(facts) => Some(facts),
        Err(err) => {
            // PgSupervisor logs the instance going down once; polling clients
            // must not flood the log with it.
            slog_scope::debug!("discover without PostgreSQL: {err}");
            None
        }
    };
    let pg = instance.as_ref();
    Ok(HttpResponse::Ok().json(json!({
        "hostname": state.host.hostname,
        "cpu": state.host.cpu,
        "memory_size": state.host.memory_size,
        "pg_port": pg.map(|p| p.port),
        "pg_version": pg.map(|p| p.version.clone()),
        "pg_data": pg.map(|p| p.data_directory.clone()),
        "plugins": state.plugins,
    })))
}

async fn status(state: web::Data<AppState>) -> Reply {
    let times = state.actors.agent.send(GetAgentTimes).await?;
    Ok(HttpResponse::Ok().json(json!({
        "pid": std::process::id(),
        "user": state.os_user,
        "start_datetime": times.started.format(DATETIME_FORMAT).to_string(),
        "reload_datetime": times.reloaded.format(DATETIME_FORMAT).to_string(),
        "version": env!("CARGO_PKG_VERSION"),
        "configfile": state.config_file.display().to_string(),
    })))
}

/// `GET /status/postgres`: the instance's state as the agent sees it (`up`,
/// `down`, `starting`, `stopping`, `unknown`) and since when. No authentication,
/// like /status.
async fn postgres_status(state: web::Data<AppState>) -> Reply {
    // PgSupervisor answers this at once, even while a control action runs.
    let pg = state.actors.pg.send(GetInstanceState).await?;
    Ok(HttpResponse::Ok().json(json!({
        "state": pg.state.as_str(),
        "since": pg.since.format(DATETIME_FORMAT).to_string(),
    })))
}

async fn notifications(_: SessionOrKey, state: web::Data<AppState>) -> Reply {
    let rows = state.actors.notifications.send(ListNotifications).await??;
    Ok(HttpResponse::Ok().json(rows))
}
