//! The safety net behind the read-only rule. The rule itself is enforced by the
//! `Session` and `SessionOrKey` extractors (`extract.rs`), which mark each request
//! they let through. A request that could change something (any method but GET,
//! HEAD, OPTIONS) and succeeded without that mark reached a handler that declares
//! no access rule: in test builds it becomes a 500 naming the route, so that the
//! integration tests of a new write endpoint fail until its handler takes a
//! session extractor; in release builds it is logged as an error.

use super::error::error_body;
use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use actix_web::{HttpMessage, HttpResponse};

use super::extract::{is_write, AccessChecked};

/// Writes that take no session by design: logging in.
const OPEN_WRITES: [&str; 1] = ["/login"];

/// Checks a response on its way out; see the module header.
pub fn check_declared<B>(res: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    let req = res.request();
    let undeclared = is_write(req.method())
        && res.status().is_success()
        && !OPEN_WRITES.contains(&req.path())
        && req.extensions().get::<AccessChecked>().is_none();
    if !undeclared {
        return res.map_into_left_body();
    }
    let route = format!("{} {}", req.method(), req.path());
    slog_scope::error!("{route} changed something without an access check: its handler must take Session or SessionOrKey");
    if cfg!(debug_assertions) {
        let (req, _) = res.into_parts();
        let body = error_body(
            HttpResponse::InternalServerError(),
            &format!("{route} declares no access rule (Session or SessionOrKey)"),
        );
        return ServiceResponse::new(req, body).map_into_right_body();
    }
    res.map_into_left_body()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn status_after_check(req: TestRequest, checked: bool) -> u16 {
        let req = req.to_http_request();
        if checked {
            req.extensions_mut().insert(AccessChecked);
        }
        let res = ServiceResponse::new(req, HttpResponse::Ok().finish());
        check_declared(res).status().as_u16()
    }

    #[test]
    fn a_write_that_succeeded_without_an_access_check_is_refused() {
        for req in [
            TestRequest::post().uri("/activity/kill"),
            TestRequest::delete().uri("/pgconf/configuration/work_mem"),
            TestRequest::put().uri("/anything"),
        ] {
            assert_eq!(status_after_check(req, false), 500);
        }
    }

    #[test]
    fn checked_writes_reads_and_login_pass() {
        assert_eq!(
            status_after_check(TestRequest::post().uri("/activity/kill"), true),
            200
        );
        assert_eq!(
            status_after_check(TestRequest::get().uri("/activity"), false),
            200
        );
        assert_eq!(
            status_after_check(TestRequest::post().uri("/login"), false),
            200
        );
    }
}
