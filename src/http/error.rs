//! ApiError: the one place where failures become HTTP status codes and the JSON error
//! body `{"error": "..."}` of the spec. Internal failures are logged here with their
//! detail; the client gets a message it can act on.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use serde_json::json;

/// What a handler answers: its response, or the error the client is told as JSON.
pub type Reply = Result<HttpResponse, ApiError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds for a `Retry-After` header (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429 for an address locked out by failed logins or wrong agent keys.
    pub fn too_many_failures(retry_after: std::time::Duration) -> ApiError {
        let seconds = retry_after.as_secs().max(1);
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed logins from this address; try again in {seconds} seconds."
                ),
            )
        }
    }

    /// 406 `Parameter 'name' is malformed.`: the spec's answer to any bad input field.
    pub fn malformed(name: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            format!("Parameter '{name}' is malformed."),
        )
    }

    pub fn bad_json(why: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, format!("Invalid JSON body: {why}"))
    }

    pub fn invalid_session() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Invalid session.")
    }

    pub fn invalid_key() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Invalid key.")
    }

    /// 403 for a read-only user on an endpoint that changes something.
    pub fn read_only(username: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            format!("User '{username}' is read-only."),
        )
    }

    /// 404 for a path no route serves.
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "Not found.")
    }

    /// 405 for a path served, but not for this method.
    pub fn method_not_allowed() -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.")
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            slog_scope::error!("{}", self.message);
        }
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        error_body(response, &self.message)
    }
}

/// The spec's error body `{"error": message}` on a response of an error status:
/// every error body the agent answers is made here.
pub fn error_body(mut response: HttpResponseBuilder, message: &str) -> HttpResponse {
    response.json(json!({ "error": message }))
}

/// What the client is told of a failure of the agent itself; the detail goes to the
/// log only (it may name internals a client has no use for).
pub const INTERNAL_MESSAGE: &str = "Internal error of the agent; its log has the detail.";

impl From<actors::Error> for ApiError {
    fn from(err: actors::Error) -> ApiError {
        if let actors::Error::Internal(_) | actors::Error::Mailbox(_) = &err {
            slog_scope::error!("{err}");
            return ApiError::internal(INTERNAL_MESSAGE);
        }
        let status = match &err {
            actors::Error::NotFound(_) => StatusCode::NOT_FOUND,
            actors::Error::Invalid(_) => StatusCode::NOT_ACCEPTABLE,
            actors::Error::Conflict(_) => StatusCode::CONFLICT,
            actors::Error::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            // The agent's or PostgreSQL's trouble, not the client's.
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, err.to_string())
    }
}

impl From<actix::MailboxError> for ApiError {
    fn from(err: actix::MailboxError) -> ApiError {
        ApiError::from(actors::Error::from(err))
    }
}
