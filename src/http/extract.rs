//! Authentication extractors. `Session` accepts only a login session (X-Session);
//! `SessionOrKey` also accepts the agent key (`?key=` or `X-TemBoard-Agent-Key`) on the
//! endpoints where the spec allows it. The rules (resolutions.md, Authentication):
//! X-Session missing or not 64 lowercase hex -> 406; unknown or expired -> 401; on key
//! endpoints a correct key is enough and a wrong key is 401 whatever the session.
//!
//! Read-only users are refused here, in one place: a session of a `read` user is
//! accepted only on requests that cannot change anything (GET, HEAD, OPTIONS).
//! Every write endpoint needs a session or the key, so none can be registered
//! without this check; /login and /logout take no session extractor.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use super::query::Query;
use super::AppState;
use actix_web::http::Method;
use actors::notification_log::NotifyRefusal;
use actors::session_registry::{CheckSession, KeyAttempt, KeyFailed, LoginError};
use actors::users::{same_secret, Role};

pub const SESSION_HEADER: &str = "X-Session";
pub const KEY_HEADER: &str = "X-TemBoard-Agent-Key";

/// A request made by a logged-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub role: Role,
}

/// Who is calling a key-enabled endpoint. The plugin chapters that change things
/// (maintenance) write this caller's name to the notification log.
#[derive(Debug, Clone)]
pub enum SessionOrKey {
    Session(Session),
    Key,
}

impl SessionOrKey {
    /// The name written in notifications for changes made by this caller: the user,
    /// or `key` when the agent key was used.
    pub fn username(&self) -> &str {
        match self {
            SessionOrKey::Session(s) => &s.username,
            SessionOrKey::Key => "key",
        }
    }
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))
}

/// The X-Session value, if well formed.
pub fn session_id(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::malformed(SESSION_HEADER))?;
    let well_formed = value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if well_formed {
        Ok(value.to_string())
    } else {
        Err(ApiError::malformed(SESSION_HEADER))
    }
}

/// Every key value the request carries (query and header); empty when none.
fn presented_keys(req: &HttpRequest) -> Vec<String> {
    let query = Query::parse(req.query_string());
    let mut keys: Vec<String> = query.all("key").map(str::to_string).collect();
    for header in req.headers().get_all(KEY_HEADER) {
        keys.push(String::from_utf8_lossy(header.as_bytes()).into_owned());
    }
    keys
}

/// Checks the key(s) a request presents: Ok(false) when it presents none. Wrong keys
/// count against the client's address as failed logins do (held answers, then 429
/// until the window passes, whatever the key), so the key cannot be guessed faster
/// than a password.
pub async fn check_key(req: &HttpRequest, state: &AppState) -> Result<bool, ApiError> {
    if presented_keys(req).is_empty() {
        return Ok(false);
    }
    let client = req
        .peer_addr()
        .map(|a| a.ip())
        .ok_or_else(|| ApiError::internal("client address unknown"))?;
    let sessions = &state.actors.sessions;
    if let Err(LoginError::LockedOut { retry_after }) = sessions.send(KeyAttempt { client }).await?
    {
        return Err(ApiError::too_many_failures(retry_after));
    }
    match compare_keys(req, state.key.as_deref()) {
        Ok(found) => Ok(found),
        Err(wrong) => {
            let delay = sessions.send(KeyFailed { client }).await?;
            // Counted per address and minute in the audit trail: guessing cannot
            // flush it. The refusal is answered even if it cannot be written.
            audit_refusal(state, NotifyRefusal::wrong_key(client)).await;
            // Held without holding a worker: the sleep is a timer.
            tokio::time::sleep(delay).await;
            Err(wrong)
        }
    }
}

fn compare_keys(req: &HttpRequest, configured: Option<&str>) -> Result<bool, ApiError> {
    let presented = presented_keys(req);
    if presented.is_empty() {
        return Ok(false);
    }
    let all_match = match configured {
        Some(key) => presented
            .iter()
            .all(|p| same_secret(p.as_bytes(), key.as_bytes())),
        None => false,
    };
    if all_match {
        Ok(true)
    } else {
        Err(ApiError::invalid_key())
    }
}

/// Set on a request once an extractor has checked who calls and what they may do;
/// `access.rs` refuses, in test builds, a write that succeeded without it.
#[derive(Debug, Clone, Copy)]
pub struct AccessChecked;

/// Whether a request may change something: everything but the safe methods.
pub fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Writes a refused attempt to the audit trail; a failure is logged, and the refusal
/// is answered all the same.
async fn audit_refusal(state: &AppState, refusal: NotifyRefusal) {
    match state.actors.notifications.send(refusal).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            slog_scope::error!("cannot write the refused attempt to the notification log: {err}")
        }
        Err(err) => slog_scope::error!("the notification log did not answer: {err}"),
    }
}

async fn check_session(req: HttpRequest) -> Result<Session, ApiError> {
    let id = session_id(&req)?;
    let state = state(&req)?;
    let user = state
        .actors
        .sessions
        .send(CheckSession { id })
        .await?
        .ok_or_else(ApiError::invalid_session)?;
    if user.role == Role::Read && is_write(req.method()) {
        let what = format!("{} {}", req.method(), req.path());
        slog_scope::warn!("refused {what} to read-only user {}", user.username);
        // The refusal is answered even if the audit trail cannot be written.
        if let Some(client) = req.peer_addr().map(|a| a.ip()) {
            audit_refusal(
                &state,
                NotifyRefusal::read_only(&user.username, what, client),
            )
            .await;
        }
        return Err(ApiError::read_only(&user.username));
    }
    req.extensions_mut().insert(AccessChecked);
    Ok(Session {
        username: user.username,
        role: user.role,
    })
}

impl FromRequest for Session {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Session, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(check_session(req.clone()))
    }
}

impl FromRequest for SessionOrKey {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<SessionOrKey, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state(&req)?;
            if check_key(&req, &state).await? {
                req.extensions_mut().insert(AccessChecked);
                return Ok(SessionOrKey::Key);
            }
            check_session(req).await.map(SessionOrKey::Session)
        })
    }
}
