//! The maintenance chapter of the API: sizes and bloat of databases, schemas, tables
//! and indexes, and VACUUM / ANALYZE / REINDEX now, at a time or on a cron schedule,
//! with their lists and cancellation. Every endpoint takes a session or the agent key
//! (resolutions.md). Handlers check the input's shape (names, mode, datetime, cron,
//! id) and send one message to the browser or the scheduler; object names are
//! percent-decoded path segments and reach SQL only as bind parameters or quoted
//! identifiers, in the actors.

use actix_web::{web, HttpRequest, HttpResponse};

use super::error::ApiError;
use super::extract::SessionOrKey;
use super::AppState;
use crate::config::Config;
use actors::maintenance::browse::{Page, MAX_ROWS};
use actors::maintenance::browser::{BrowseDatabase, BrowseInstance, BrowseSchema, BrowseTable};
use actors::maintenance::quote::valid_name;

/// The maintenance actors' settings, from the configuration.
pub fn settings(config: &Config) -> actors::maintenance::Settings {
    actors::maintenance::Settings {
        max_parallel: config.maintenance.max_parallel,
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/maintenance").route(web::get().to(instance)))
        .service(web::resource("/maintenance/{db}").route(web::get().to(database)))
        .service(web::resource("/maintenance/{db}/schema/{schema}").route(web::get().to(schema)))
        .service(
            web::resource("/maintenance/{db}/schema/{schema}/table/{table}")
                .route(web::get().to(table)),
        );
}

/// A name from the path: PostgreSQL refuses empty names and NUL bytes.
fn name(value: String, parameter: &str) -> Result<String, ApiError> {
    if valid_name(&value) {
        Ok(value)
    } else {
        Err(ApiError::malformed(parameter))
    }
}

/// `limit` and `offset` query parameters: non-negative integers; `limit` is capped
/// at `MAX_ROWS`, which is also its default.
fn page(req: &HttpRequest) -> Result<Page, ApiError> {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| ApiError::malformed("limit"))?;
    let mut page = Page::default();
    for (key, value) in query.iter() {
        let parsed = || {
            value
                .parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| ApiError::malformed(key))
        };
        match key.as_str() {
            "limit" => page.limit = parsed()?.min(MAX_ROWS),
            "offset" => page.offset = parsed()?,
            _ => {}
        }
    }
    Ok(page)
}

async fn instance(_: SessionOrKey, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let report = state
        .actors
        .maintenance
        .browser
        .send(BrowseInstance)
        .await??;
    Ok(HttpResponse::Ok().json(report))
}

async fn database(
    _: SessionOrKey,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let db = name(path.into_inner(), "dbname")?;
    let report = state
        .actors
        .maintenance
        .browser
        .send(BrowseDatabase { db })
        .await??;
    Ok(HttpResponse::Ok().json(report))
}

async fn schema(
    _: SessionOrKey,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (db, schema) = path.into_inner();
    let msg = BrowseSchema {
        db: name(db, "dbname")?,
        schema: name(schema, "schema")?,
        page: page(&req)?,
    };
    let report = state.actors.maintenance.browser.send(msg).await??;
    Ok(HttpResponse::Ok().json(report))
}

async fn table(
    _: SessionOrKey,
    path: web::Path<(String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (db, schema, table) = path.into_inner();
    let msg = BrowseTable {
        db: name(db, "dbname")?,
        schema: name(schema, "schema")?,
        table: name(table, "table")?,
    };
    let report = state.actors.maintenance.browser.send(msg).await??;
    Ok(HttpResponse::Ok().json(report))
}
