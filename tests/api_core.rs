//! Core API against a real agent and a real PostgreSQL: login, logout, profile,
//! discover, status, notifications, and the error shape of the HTTP layer.

mod common;

use common::*;
use serde_json::json;

#[test]
fn login_returns_a_64_hex_session() {
    let agent = Agent::start(PgCluster::shared());
    let session = agent.login();
    assert_eq!(session.len(), 64);
    assert!(session
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let profile = agent.get_as("/profile", &session);
    assert_eq!(profile.status, 200);
    assert_eq!(profile.json(), json!({ "username": USER }));
}
