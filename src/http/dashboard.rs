//! The dashboard chapter of the API: /dashboard (the last sample from memory, with the
//! last notifications), /dashboard/config, /dashboard/live (a sample taken now; 500
//! when PostgreSQL does not answer), /dashboard/history (kept samples, oldest first)
//! and the single-value endpoints, each read now. Every endpoint accepts a session or
//! the agent key. Handlers send one message and serialize the reply.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};

use super::error::Reply;
use super::extract::SessionOrKey;
use super::AppState;
use actors::dashboard::dashboard_history::{GetDashboard, GetHistory};
use actors::dashboard::metrics_sampler::{Measure, TakeLive};
use actors::dashboard::sample::Metric;

/// The single-value endpoints and what each reads.
const METRICS: [(&str, Metric); 13] = [
    ("buffers", Metric::Buffers),
    ("hitratio", Metric::Hitratio),
    ("active_backends", Metric::ActiveBackends),
    ("cpu", Metric::Cpu),
    ("loadaverage", Metric::Loadaverage),
    ("memory", Metric::Memory),
    ("hostname", Metric::Hostname),
    ("os_version", Metric::OsVersion),
    ("pg_version", Metric::PgVersion),
    ("n_cpu", Metric::NCpu),
    ("databases", Metric::Databases),
    ("info", Metric::Info),
    ("max_connections", Metric::MaxConnections),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dashboard").route(web::get().to(dashboard)))
        .service(web::resource("/dashboard/config").route(web::get().to(config)))
        .service(web::resource("/dashboard/live").route(web::get().to(live)))
        .service(web::resource("/dashboard/history").route(web::get().to(history)));
    for (name, metric) in METRICS {
        cfg.service(
            web::resource(format!("/dashboard/{name}")).route(web::get().to(
                move |auth: SessionOrKey, state: web::Data<AppState>| measure(auth, state, metric),
            )),
        );
    }
}

/// Answers JSON made once per sample by DashboardHistory.
fn json_bytes(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body)
}

async fn dashboard(_: SessionOrKey, state: web::Data<AppState>) -> Reply {
    let json = state.actors.dashboard.history.send(GetDashboard).await??;
    Ok(json_bytes(json))
}

async fn config(_: SessionOrKey, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.actors.dashboard.config)
}

async fn live(_: SessionOrKey, state: web::Data<AppState>) -> Reply {
    let view = state.actors.dashboard.sampler.send(TakeLive).await??;
    Ok(HttpResponse::Ok().json(view))
}

async fn history(_: SessionOrKey, state: web::Data<AppState>) -> Reply {
    let json = state.actors.dashboard.history.send(GetHistory).await?;
    Ok(json_bytes(json))
}

async fn measure(_: SessionOrKey, state: web::Data<AppState>, metric: Metric) -> Reply {
    let value = state
        .actors
        .dashboard
        .sampler
        .send(Measure(metric))
        .await??;
    Ok(HttpResponse::Ok().json(value))
}
