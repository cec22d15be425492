//! `GET /metrics`: the latest monitoring collector run and the latest dashboard
//! sample in the Prometheus text exposition format (rendered by
//! `actors::monitoring::prometheus_text`), served when the monitoring plugin is
//! enabled. Both are read from memory: a scrape never queries PostgreSQL. Before
//! the first run or sample, only what exists is answered, never an error.
//!
//! Who may scrape: `Authorization: Bearer <[monitoring] metrics_token>`, or, as
//! on the other monitoring endpoints, a session or the agent key. A bearer token
//! that is presented is checked first and decides alone: a wrong one (or one
//! sent while no token is configured) answers 401, whatever else the request
//! carries, as a wrong agent key does.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;

use super::error::{ApiError, Reply};
use super::extract::{AccessChecked, SessionOrKey};
use super::AppState;
use actix_web::http::StatusCode;
use actors::dashboard::dashboard_history::GetLastSample;
use actors::monitoring::collector::GetLatestRun;
use actors::monitoring::prometheus_text;
use actors::users::same_secret;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics").route(web::get().to(metrics)));
}

/// How the scraper authenticated: the metrics token, or a session or the agent key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scraper {
    Token,
    SessionOrKey,
}

/// The bearer tokens of the `Authorization` headers (other schemes are not ours:
/// they are ignored).
fn bearer_tokens(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get_all(AUTHORIZATION)
        .filter_map(|v| {
            let v = String::from_utf8_lossy(v.as_bytes());
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        })
        .collect()
}

fn invalid_token() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "Invalid token.")
}

impl FromRequest for Scraper {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Scraper, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let tokens = bearer_tokens(req);
        if tokens.is_empty() {
            let fallback = SessionOrKey::from_request(req, payload);
            return Box::pin(async move { fallback.await.map(|_| Scraper::SessionOrKey) });
        }
        let configured = req
            .app_data::<web::Data<AppState>>()
            .and_then(|s| s.actors.monitoring.metrics_token.clone());
        let valid = configured.is_some_and(|expected| {
            tokens
                .iter()
                .all(|t| same_secret(t.as_bytes(), expected.as_bytes()))
        });
        if valid {
            req.extensions_mut().insert(AccessChecked);
        }
        Box::pin(async move {
            if valid {
                Ok(Scraper::Token)
            } else {
                slog_scope::warn!("refused /metrics: wrong bearer token");
                Err(invalid_token())
            }
        })
    }
}

async fn metrics(_: Scraper, state: web::Data<AppState>) -> Reply {
    // Both answer from memory; asked at once.
    let (run, sample) = futures_util::future::join(
        state.actors.monitoring.collector.send(GetLatestRun),
        state.actors.dashboard.history.send(GetLastSample),
    )
    .await;
    let (run, sample) = (run?, sample?);
    let body = prometheus_text::render(chrono::Utc::now(), run.as_deref(), sample.as_deref());
    Ok(HttpResponse::Ok()
        .content_type(prometheus_text::CONTENT_TYPE)
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, "Bearer  abc-def "))
            .to_http_request();
        assert_eq!(bearer_tokens(&req), ["abc-def"]);
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, "bearer xyz"))
            .to_http_request();
        assert_eq!(bearer_tokens(&req), ["xyz"]);
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, "Basic dXNlcjpwdw=="))
            .to_http_request();
        assert!(bearer_tokens(&req).is_empty());
        assert!(bearer_tokens(&TestRequest::default().to_http_request()).is_empty());
    }
}
