//! The statements chapter of the API: `GET /statements` (session or agent key).
//!
//! The handler validates the query parameters, asks the statements actor for a
//! snapshot, and streams the JSON chunks it answers as the response body: nothing
//! here holds the whole answer. When the actor cannot read pg_stat_statements
//! (missing extension, not preloaded) it says so before anything is sent: 404. A
//! failure midway ends the body with an error, which aborts the response (the client
//! sees a truncated chunked body, never a complete-looking one).
//!
//! Query parameters: `limit` (a positive integer), `order` (`total_time`, `calls`,
//! `mean_time`), `text` (`true`/`false`, default true), `since` (a
//! `snapshot_datetime` answered earlier).

use actix_web::{web, HttpResponse};

use super::error::{ApiError, Reply};
use super::extract::SessionOrKey;
use super::query::{number, Query};
use super::AppState;
use actors::statements::{snapshot_time, Chunks, Order, TakeSnapshot};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/statements").route(web::get().to(statements)));
}

async fn statements(_: SessionOrKey, query: Query, state: web::Data<AppState>) -> Reply {
    let request = snapshot_request(&query)?;
    let chunks = state.actors.statements.keeper.send(request).await??;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .streaming(body(chunks)))
}

/// The chunks as a body stream; an error item aborts the response.
fn body(
    chunks: Chunks,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actors::Error>> + 'static {
    futures_util::stream::unfold(chunks, |mut chunks| async move {
        let item = chunks.recv().await?;
        Some((item.map(web::Bytes::from), chunks))
    })
}

/// The snapshot the query asks for; a parameter given twice is 406.
/// `key` and anything else: not ours.
fn snapshot_request(query: &Query) -> Result<TakeSnapshot, ApiError> {
    Ok(TakeSnapshot {
        text: query.once("text", boolean)?.unwrap_or(true),
        order: query.once("order", Order::parse)?,
        limit: query.once("limit", number(|l: &u64| *l > 0))?,
        since: query.once("since", snapshot_time::parse)?,
    })
}

/// `true`/`false`, also `1`/`0`, in any case.
fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_params(query: &str) -> Result<TakeSnapshot, ApiError> {
        snapshot_request(&Query::parse(query))
    }

    #[test]
    fn defaults_answer_everything_with_text() {
        let r = parse_params("key=abc").unwrap();
        assert!(r.text);
        assert_eq!((r.order, r.limit, r.since), (None, None, None));
    }

    #[test]
    fn reads_every_parameter() {
        let r =
            parse_params("limit=5&order=mean_time&text=false&since=2020-03-17+17:31:25.0929%2B01")
                .unwrap();
        assert_eq!(r.limit, Some(5));
        assert_eq!(r.order, Some(Order::MeanTime));
        assert!(!r.text);
        assert_eq!(
            r.since.map(|s| snapshot_time::format(&s)),
            Some("2020-03-17 17:31:25.0929+01".to_string())
        );
    }

    #[test]
    fn refuses_bad_values_naming_the_parameter() {
        for (query, name) in [
            ("limit=0", "limit"),
            ("limit=-1", "limit"),
            ("limit=ten", "limit"),
            ("order=rows", "order"),
            ("order=total_time%20DESC", "order"),
            ("text=maybe", "text"),
            ("since=yesterday", "since"),
        ] {
            let err = parse_params(query).unwrap_err();
            assert_eq!(err, ApiError::malformed(name), "{query}");
        }
    }
}
