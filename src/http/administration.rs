//! Administration API. For now: the server version (as temboard agent 7.x serves it).

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::error::ApiError;
use super::extract::Session;
use super::AppState;
use actors::pg_supervisor::DiscoverInstance;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/administration/pg_version").route(web::get().to(pg_version)));
}

async fn pg_version(_: Session, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let facts = state.actors.pg.send(DiscoverInstance).await??;
    Ok(HttpResponse::Ok().json(json!({
        "numeric": facts.server_version_num,
        "full": facts.version,
    })))
}
