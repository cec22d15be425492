//! Administration API: control PostgreSQL (start, stop, restart, reload) and its
//! server version (as temboard agent 7.x serves it). Both need a login session; the
//! agent key grants nothing here. The work and the one-at-a-time rule belong to
//! `PgSupervisor`: this file validates the action and maps the reply.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::core::json_object;
use super::error::{ApiError, Reply};
use super::extract::Session;
use super::AppState;
use actors::pg_supervisor::{Action, Control, DiscoverInstance};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/administration/control").route(web::post().to(control)))
        .service(web::resource("/administration/pg_version").route(web::get().to(pg_version)));
}

/// `{"action": "start"|"stop"|"restart"|"reload"}`: 200 once done, 409 while another
/// action runs, 500 with the command's exit status and output when it failed.
async fn control(session: Session, body: web::Bytes, state: web::Data<AppState>) -> Reply {
    let body = json_object(&body, "action")?;
    let action = body
        .get("action")
        .and_then(Value::as_str)
        .and_then(Action::parse)
        .ok_or_else(|| ApiError::malformed("action"))?;
    let done = state
        .actors
        .pg
        .send(Control {
            action,
            username: session.username,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({ "action": done.as_str(), "state": "ok" })))
}

async fn pg_version(_: Session, state: web::Data<AppState>) -> Reply {
    let facts = state.actors.pg.send(DiscoverInstance).await??;
    Ok(HttpResponse::Ok().json(json!({
        "numeric": facts.server_version_num,
        "full": facts.version,
    })))
}
