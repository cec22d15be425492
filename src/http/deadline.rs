//! Deadlines against slow clients and a slow PostgreSQL (issue 20, point 5).
//!
//! actix-web bounds the request head (`client_request_timeout`) but not the body:
//! a client trickling a body byte by byte would hold its connection, and the
//! handler waiting for it, for ever. Here the body must arrive within
//! `[temboard] body_timeout` of the head, else the request is answered
//! `408 {"error": ...}` with `Connection: close`.
//!
//! Requests to PostgreSQL-backed endpoints must be answered within
//! `[temboard] request_timeout`, else `504 {"error": ...}`: the handler is dropped
//! (the query it waited for ends at its own statement or lock timeout), so that
//! a PostgreSQL that stopped answering (frozen, unreachable without a TCP reset)
//! does not hold clients for ever. Endpoints that never wait on PostgreSQL, or
//! that have a bound of their own (`/administration/control`: `control_timeout`),
//! are left out; they keep their own statuses.
//!
//! This middleware knows nothing of the handlers: it wraps the request's body
//! stream and the service call.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::error::{InternalError, PayloadError};
use actix_web::http::header::{HeaderValue, ACCESS_CONTROL_ALLOW_ORIGIN, SERVER};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use futures_util::Stream;
use serde_json::json;
use tokio::time::Sleep;

use super::error::ApiError;

/// The two bounds, from `[temboard] body_timeout` and `request_timeout`.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub body: Duration,
    pub request: Duration,
}

/// Where the request body is: what decides between 408 (the client is slow) and
/// 504 (the agent or PostgreSQL is) when the request deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// No body, or nobody has asked for it yet.
    NotRead,
    Reading,
    Complete,
    /// The body deadline passed before its end.
    Late,
}

/// The request body, cut with an error when the body deadline passes first.
struct BodyWithDeadline {
    inner: Payload,
    deadline: Pin<Box<Sleep>>,
    state: Rc<Cell<Body>>,
}

impl Stream for BodyWithDeadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.state.get() != Body::Late {
            if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
                let done = matches!(item, None | Some(Err(_)));
                this.state
                    .set(if done { Body::Complete } else { Body::Reading });
                return Poll::Ready(item);
            }
            this.state.set(Body::Reading);
            if this.deadline.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.state.set(Body::Late);
        }
        Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            "request body deadline passed",
        )))))
    }
}

/// Whether a path waits on PostgreSQL without a bound of its own, hence gets the
/// request deadline. Everything but the session endpoints, `/status`, the
/// notification log (the local store), the console, the OpenAPI document and
/// control actions (bounded by `[administration] control_timeout`).
pub fn has_request_deadline(path: &str) -> bool {
    const LOCAL: [&str; 8] = [
        "/login",
        "/logout",
        "/profile",
        "/status",
        "/status/postgres",
        "/notifications",
        "/openapi.json",
        "/administration/control",
    ];
    let path = path.trim_end_matches('/');
    !(LOCAL.contains(&path) || path == "/console" || path.starts_with("/console/"))
}

fn body_too_slow(limits: Deadlines) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "The request body did not arrive within {} seconds ([temboard] body_timeout).",
            limits.body.as_secs()
        ),
    )
}

fn request_too_slow(limits: Deadlines) -> ApiError {
    ApiError::new(
        StatusCode::GATEWAY_TIMEOUT,
        format!(
            "The request did not complete within {} seconds ([temboard] request_timeout): \
             PostgreSQL is slow to answer or blocked; try again later.",
            limits.request.as_secs()
        ),
    )
}

/// An error answer of this module: the spec's JSON shape, and `Connection: close`
/// for a late body, whose rest may still be on its way.
fn answer(error: &ApiError) -> HttpResponse {
    let mut response = HttpResponse::build(error.status);
    if error.status == StatusCode::REQUEST_TIMEOUT {
        response.force_close();
    }
    response.json(json!({ "error": error.message }))
}

/// The middleware (`App::wrap_fn`, inside `DefaultHeaders` and `Logger`): bounds
/// the body, and the whole request on the paths of [`has_request_deadline`].
///
/// When the request deadline passes, the handler (which holds the request) is
/// dropped, and an `HttpRequest` cannot be cloned before routing: the answer is
/// then an error of the service, which the outer middlewares pass on untouched,
/// hence its headers and its log line here.
pub fn bound<S, B>(
    limits: Deadlines,
    mut req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let state = Rc::new(Cell::new(Body::NotRead));
    let (_, payload) = req.parts_mut();
    let inner = std::mem::replace(payload, Payload::None);
    if matches!(inner, Payload::None) {
        state.set(Body::Complete);
    } else {
        let body = BodyWithDeadline {
            inner,
            deadline: Box::pin(tokio::time::sleep(limits.body)),
            state: state.clone(),
        };
        *payload = Payload::Stream {
            payload: Box::pin(body),
        };
    }
    // What the log line of a request cut by its deadline names.
    let request_deadline = has_request_deadline(req.path()).then(|| {
        let peer = req.peer_addr().map(|a| a.ip().to_string());
        (
            limits.request,
            format!("{} {}", req.method(), req.path()),
            peer,
        )
    });
    let call = service.call(req);
    async move {
        let (outcome, what, peer) = match request_deadline {
            Some((deadline, what, peer)) => {
                (tokio::time::timeout(deadline, call).await.ok(), what, peer)
            }
            None => (Some(call.await), String::new(), None),
        };
        match outcome {
            Some(Ok(res)) if state.get() == Body::Late => {
                // Whatever the handler made of its cut body, the client was late.
                let (req, _) = res.into_parts();
                let response = answer(&body_too_slow(limits));
                Ok(ServiceResponse::new(req, response).map_into_right_body())
            }
            Some(Ok(res)) => Ok(res.map_into_left_body()),
            Some(Err(e)) => Err(e),
            None => {
                // Still reading the body: the client is the slow one.
                let error = if matches!(state.get(), Body::Reading | Body::Late) {
                    body_too_slow(limits)
                } else {
                    request_too_slow(limits)
                };
                slog_scope::warn!("{what} from {}: {}", peer.as_deref().unwrap_or("?"), error);
                let mut response = answer(&error);
                let headers = response.headers_mut();
                headers.insert(
                    SERVER,
                    HeaderValue::from_str(&super::server_header())
                        .unwrap_or(HeaderValue::from_static("temboard-agent")),
                );
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
                Err(InternalError::from_response(error.message, response).into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgresql_backed_paths_have_the_request_deadline() {
        for path in [
            "/activity",
            "/dashboard/live",
            "/discover",
            "/pgconf/configuration",
            "/maintenance/db/schema/public/table/t",
            "/statements",
            "/metrics",
            "/administration/pg_version",
            "/nowhere",
        ] {
            assert!(has_request_deadline(path), "{path}");
        }
        for path in [
            "/login",
            "/status",
            "/status/postgres",
            "/profile",
            "/logout",
            "/notifications",
            "/openapi.json",
            "/administration/control",
            "/console",
            "/console/",
            "/console/app.js",
        ] {
            assert!(!has_request_deadline(path), "{path}");
        }
        assert!(has_request_deadline("/consoles"));
    }
}
