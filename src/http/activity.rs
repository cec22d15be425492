//! The activity chapter of the API: `GET /activity`, `/activity/waiting`,
//! `/activity/blocking` (a session or the agent key; query parameters `limit`,
//! `min_duration`, `dbname`, `user`) and `POST /activity/kill`, `/activity/cancel`
//! (a session only; body `{"pids": [...]}`). Handlers validate the input and ask the
//! `ActivityMonitor` actor; they never touch PostgreSQL or /proc themselves.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::{json, Value};

use super::core::json_object;
use super::error::{ApiError, Reply};
use super::extract::{Session, SessionOrKey};
use super::query::{number, Query};
use super::AppState;
use actors::activity::{Filters, Kind, ListBackends, Rows, Signal, SignalBackends, MAX_LIMIT};

/// At most this many pids per kill or cancel request.
const MAX_PIDS: usize = 1000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/activity").route(web::get().to(activity)))
        .service(web::resource("/activity/waiting").route(web::get().to(waiting)))
        .service(web::resource("/activity/blocking").route(web::get().to(blocking)))
        .service(web::resource("/activity/kill").route(web::post().to(kill)))
        .service(web::resource("/activity/cancel").route(web::post().to(cancel)));
}

async fn activity(_: SessionOrKey, q: Query, state: web::Data<AppState>) -> Reply {
    list(Kind::All, &q, &state).await
}

async fn waiting(_: SessionOrKey, q: Query, state: web::Data<AppState>) -> Reply {
    list(Kind::Waiting, &q, &state).await
}

async fn blocking(_: SessionOrKey, q: Query, state: web::Data<AppState>) -> Reply {
    list(Kind::Blocking, &q, &state).await
}

async fn list(kind: Kind, query: &Query, state: &AppState) -> Reply {
    let filters = filters(query)?;
    let rows = state
        .actors
        .activity
        .activity
        .send(ListBackends { kind, filters })
        .await??;
    // Serialized straight from the rows: no intermediate `Value` for hundreds of them.
    Ok(HttpResponse::Ok().json(Listing { rows: &rows }))
}

#[derive(Serialize)]
struct Listing<'a> {
    rows: &'a Rows,
}

/// The listing filters of a query string, each given at most once. Other
/// parameters (`key`) are left alone.
fn filters(query: &Query) -> Result<Filters, ApiError> {
    let defaults = Filters::default();
    Ok(Filters {
        limit: query
            .once("limit", number(|l: &u32| (1..=MAX_LIMIT).contains(l)))?
            .unwrap_or(defaults.limit),
        min_duration: query.once("min_duration", number(|d: &f64| d.is_finite() && *d >= 0.0))?,
        dbname: query.once("dbname", name_filter)?,
        user: query.once("user", name_filter)?,
    })
}

/// A database or role name to match exactly: not empty, no NUL (PostgreSQL text
/// cannot hold one).
fn name_filter(value: &str) -> Option<String> {
    (!value.is_empty() && !value.contains('\0')).then(|| value.to_string())
}

/// `pids`: a list of at most `MAX_PIDS` positive integers that fit a PostgreSQL pid
/// (int4); an empty list is valid and signals nothing (resolutions). Duplicates are
/// answered once, in the order given.
fn pids(body: &[u8]) -> Result<Vec<i32>, ApiError> {
    let body = json_object(body, "pids")?;
    let list = body
        .get("pids")
        .and_then(Value::as_array)
        .filter(|l| l.len() <= MAX_PIDS)
        .ok_or_else(|| ApiError::malformed("pids"))?;
    let mut pids: Vec<i32> = Vec::with_capacity(list.len());
    for value in list {
        // JSON has one number type: `14843.0` is the integer 14843 (JSON Schema agrees).
        let integral = || value.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0);
        let pid = value
            .as_u64()
            .or_else(|| {
                integral()
                    .filter(|f| *f <= u32::MAX as f64)
                    .map(|f| f as u64)
            })
            .and_then(|p| i32::try_from(p).ok())
            .filter(|&p| p > 0)
            .ok_or_else(|| ApiError::malformed("pids"))?;
        if !pids.contains(&pid) {
            pids.push(pid);
        }
    }
    Ok(pids)
}

/// Sends `signal` to the body's pids; answers `{"backends": [{"pid", <done>}]}`,
/// `done` named for the signal (`killed`, `cancelled`).
async fn signal(
    signal: Signal,
    done: &str,
    session: Session,
    body: &[u8],
    state: &AppState,
) -> Reply {
    let pids = pids(body)?;
    let results = if pids.is_empty() {
        Vec::new()
    } else {
        let msg = SignalBackends {
            pids,
            signal,
            username: session.username,
        };
        state.actors.activity.activity.send(msg).await??
    };
    let backends: Vec<Value> = results
        .into_iter()
        .map(|s| json!({ "pid": s.pid, done: s.done }))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "backends": backends })))
}

async fn kill(session: Session, body: web::Bytes, state: web::Data<AppState>) -> Reply {
    signal(Signal::Terminate, "killed", session, &body, &state).await
}

async fn cancel(session: Session, body: web::Bytes, state: web::Data<AppState>) -> Reply {
    signal(Signal::Cancel, "cancelled", session, &body, &state).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of<T: std::fmt::Debug>(r: Result<T, ApiError>) -> u16 {
        r.unwrap_err().status.as_u16()
    }

    #[test]
    fn filters_defaults_and_values() {
        let filters = |q: &str| filters(&Query::parse(q));
        assert_eq!(filters("").unwrap(), Filters::default());
        let f = filters("limit=10&min_duration=1.5&dbname=my%20db&user=bob&key=k").unwrap();
        assert_eq!(f.limit, 10);
        assert_eq!(f.min_duration, Some(1.5));
        assert_eq!(f.dbname.as_deref(), Some("my db"));
        assert_eq!(f.user.as_deref(), Some("bob"));
        assert_eq!(filters("limit=5000").unwrap().limit, 5000);
        assert_eq!(filters("min_duration=0").unwrap().min_duration, Some(0.0));
    }

    #[test]
    fn malformed_filters() {
        let filters = |q: &str| filters(&Query::parse(q));
        for q in [
            "limit=0",
            "limit=5001",
            "limit=-1",
            "limit=abc",
            "limit=",
            "limit=1&limit=2",
            "min_duration=-1",
            "min_duration=NaN",
            "min_duration=inf",
            "min_duration=x",
            "dbname=",
            "user=",
            "user=a%00b",
        ] {
            let err = filters(q).unwrap_err();
            assert_eq!(err.status.as_u16(), 406, "{q}");
        }
        assert_eq!(
            filters("limit=0").unwrap_err().message,
            "Parameter 'limit' is malformed."
        );
    }

    #[test]
    fn pids_accepted() {
        assert_eq!(pids(br#"{"pids": [3, 1, 3]}"#).unwrap(), [3, 1]);
        assert!(pids(br#"{"pids": []}"#).unwrap().is_empty());
        let many: Vec<u32> = (1..=1000).collect();
        let body = json!({ "pids": many }).to_string();
        assert_eq!(pids(body.as_bytes()).unwrap().len(), 1000);
    }

    #[test]
    fn pids_refused() {
        assert_eq!(status_of(pids(b"not json")), 400);
        let too_many: Vec<u32> = (1..=1001).collect();
        let too_many = json!({ "pids": too_many }).to_string();
        for body in [
            "{}",
            "[1]",
            r#"{"pids": 12}"#,
            r#"{"pids": "12"}"#,
            r#"{"pids": ["12"]}"#,
            r#"{"pids": [0]}"#,
            r#"{"pids": [-3]}"#,
            r#"{"pids": [1.5]}"#,
            r#"{"pids": [null]}"#,
            r#"{"pids": [2147483648]}"#,
            r#"{"pids": null}"#,
            too_many.as_str(),
        ] {
            let err = pids(body.as_bytes()).unwrap_err();
            assert_eq!(err.status.as_u16(), 406, "{body}");
            assert_eq!(err.message, "Parameter 'pids' is malformed.");
        }
    }
}
