//! PostgreSQL going away and coming back while the agent runs: the agent keeps
//! answering what does not need PostgreSQL, answers a clear 500 at once for what does,
//! and recovers by itself. This binary owns its cluster (it stops it).

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn the_agent_survives_postgresql_stopping_and_recovers() {
    let pg = PgCluster::start();
    let agent = Agent::start(&pg);
    let session = agent.login();
    assert_eq!(
        agent.get_as("/administration/pg_version", &session).status,
        200
    );
    assert_eq!(agent.get("/discover").json()["pg_port"], pg.port());

    pg.stop();

    let started = Instant::now();
    let status = agent.get("/status");
    let discover = agent.get("/discover");
    let version = agent.get_as("/administration/pg_version", &session);
    let elapsed = started.elapsed();
    assert_eq!(status.status, 200);
    assert_eq!(discover.status, 200);
    let d = discover.json();
    for key in ["pg_port", "pg_version", "pg_data"] {
        assert!(d[key].is_null(), "{key} should be null: {d}");
    }
    assert_eq!(d["hostname"], HOSTNAME);
    assert_eq!(version.status, 500);
    let error = version.error();
    assert!(error.starts_with("PostgreSQL is unreachable: "), "{error}");
    // The acceptance bound: no waiting on a dead server.
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");

    pg.start_again();

    wait_until(Duration::from_secs(30), "pg_version to work again", || {
        agent.get_as("/administration/pg_version", &session).status == 200
    });
    assert_eq!(agent.get("/discover").json()["pg_port"], pg.port());
    assert!(agent.log().contains("PostgreSQL is up"), "{}", agent.log());
}

#[test]
fn the_agent_starts_while_postgresql_is_down() {
    let pg = PgCluster::start();
    pg.stop();
    let agent = Agent::start(&pg);
    assert_eq!(agent.get("/status").status, 200);
    assert!(agent.get("/discover").json()["pg_version"].is_null());
    let session = agent.login();
    assert_eq!(
        agent.get_as("/administration/pg_version", &session).status,
        500
    );
    pg.start_again();
    wait_until(Duration::from_secs(30), "the instance to be seen", || {
        agent.get("/discover").json()["pg_port"] == pg.port()
    });
}
