//! `GET /openapi.json` (no authentication): the OpenAPI 3.1 document of the whole
//! API, `docs/openapi.json`, built into the binary so that what is served is what
//! this build answers. The document is made by `docs/openapi/build.py`;
//! `tests/api_openapi.rs` checks it against the routes, and `.ci/fuzz` fuzzes the
//! agent with it.

use actix_web::{web, HttpResponse};

pub const DOCUMENT: &str = include_str!("../../docs/openapi.json");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").route(web::get().to(document)));
}

async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT)
}
