//! The monitoring chapter of the API (session or agent key everywhere):
//! `GET /monitoring/probe/<name>` runs a probe now (404 for a name the registry
//! does not have; 500 when PostgreSQL does not answer a PostgreSQL probe),
//! `GET /monitoring/history` answers the collector's records as 7.x does: with
//! `start` (UTC `YYYY-MM-DDTHH:MM:SSZ`), those taken at or after it, oldest
//! first, at most `limit` (default 50); without `start`, the most recent one.
//! `GET /monitoring/config` answers dbnames and scheduler_interval.

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;

use super::error::{ApiError, Reply};
use super::extract::SessionOrKey;
use super::query::{number, Query};
use super::AppState;
use actors::monitoring::collector::RunProbe;
use actors::monitoring::metric_history::ListRecords;
use actors::monitoring::registry;

const DEFAULT_LIMIT: usize = 50;
/// More records than this in one answer is a mistake, not a need.
const MAX_LIMIT: usize = 10_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/monitoring/probe/{name}").route(web::get().to(probe)))
        .service(web::resource("/monitoring/history").route(web::get().to(history)))
        .service(web::resource("/monitoring/config").route(web::get().to(config)));
}

async fn probe(_: SessionOrKey, name: web::Path<String>, state: web::Data<AppState>) -> Reply {
    let name = name.into_inner();
    let probe = registry::find(&name).ok_or_else(|| {
        ApiError::from(actors::Error::NotFound(format!("Unknown probe '{name}'.")))
    })?;
    let rows = state
        .actors
        .monitoring
        .collector
        .send(RunProbe(probe))
        .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ probe.name: rows })))
}

async fn history(_: SessionOrKey, query: Query, state: web::Data<AppState>) -> Reply {
    let request = history_params(&query)?;
    let records = state.actors.monitoring.history.send(request).await??;
    // Records are stored as JSON text: joined, not parsed again.
    let mut body = String::with_capacity(2 + records.iter().map(|r| r.len() + 1).sum::<usize>());
    body.push('[');
    body.push_str(&records.join(","));
    body.push(']');
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// `start` and `limit`; given twice: 406. Other parameters (the web
/// UI sends the agent key as one) are not ours.
fn history_params(query: &Query) -> Result<ListRecords, ApiError> {
    let start = query.once("start", |value| {
        let start = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%SZ").ok()?;
        Some(start.and_utc().timestamp())
    })?;
    let limit = query.once("limit", number(|l: &usize| (1..=MAX_LIMIT).contains(l)))?;
    Ok(ListRecords {
        start,
        limit: limit.unwrap_or(DEFAULT_LIMIT),
    })
}

async fn config(_: SessionOrKey, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(&state.actors.monitoring.config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_params_are_checked() {
        let parse_history_params = |q: &str| history_params(&Query::parse(q));
        let r = parse_history_params("").unwrap();
        assert_eq!((r.start, r.limit), (None, 50));
        let r = parse_history_params("start=2026-11-29T06:44:17Z&limit=100&key=x").unwrap();
        assert_eq!((r.start, r.limit), (Some(1_795_934_657), 100));
        for bad in [
            "start=2026-11-29",
            "start=2026-11-29 06:44:17",
            "start=2019-02-30T10:00:00Z",
            "limit=0",
            "limit=-1",
            "limit=abc",
            "limit=10001",
        ] {
            assert!(parse_history_params(bad).is_err(), "{bad}");
        }
    }
}
