//! What a control action waits for after its command: the instance accepting
//! connections (start, restart), refusing them (stop), or having re-read its
//! configuration (reload). Each probe uses a fresh connection with the agent's usual
//! options, never the shared pool: the pool must not be filled with connections
//! made while the instance changes state, and a pooled backend would report its own
//! reload time rather than the postmaster's.

use std::time::Duration;

use tokio::time::{sleep, Instant};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

use super::{conf_reload, describe_pg_error, PgSettings};

/// Between two probes.
pub(super) const PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// A fresh connection; its connection task ends when the client is dropped.
async fn connect(settings: &PgSettings) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = settings.client_config().connect(NoTls).await?;
    actix::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// What a connection attempt says of the instance.
enum Probe {
    /// A session could be opened; or the server answered with an error of its own
    /// (authentication, too many clients): it runs and accepts connections either way.
    Accepting,
    /// Nothing listens, or the server says it is starting up or shutting down.
    Refusing(String),
}

async fn probe(settings: &PgSettings) -> Probe {
    match connect(settings).await {
        Ok(_) => Probe::Accepting,
        Err(err) => match err.code() {
            Some(code) if *code != SqlState::CANNOT_CONNECT_NOW => Probe::Accepting,
            _ => Probe::Refusing(describe_pg_error(&err)),
        },
    }
}

/// Whether the instance accepts connections now; else why not.
pub async fn accepting(settings: &PgSettings) -> Result<(), String> {
    match probe(settings).await {
        Probe::Accepting => Ok(()),
        Probe::Refusing(why) => Err(why),
    }
}

/// Until the instance accepts connections, or `deadline`.
pub async fn wait_accepting(settings: &PgSettings, deadline: Instant) -> Result<(), String> {
    loop {
        match probe(settings).await {
            Probe::Accepting => return Ok(()),
            Probe::Refusing(why) if Instant::now() >= deadline => {
                return Err(format!("PostgreSQL does not accept connections: {why}"))
            }
            Probe::Refusing(_) => sleep(PROBE_INTERVAL).await,
        }
    }
}

/// Until the instance refuses connections, or `deadline`.
pub async fn wait_refusing(settings: &PgSettings, deadline: Instant) -> Result<(), String> {
    loop {
        match probe(settings).await {
            Probe::Refusing(_) => return Ok(()),
            Probe::Accepting if Instant::now() >= deadline => {
                return Err("PostgreSQL still accepts connections".to_string())
            }
            Probe::Accepting => sleep(PROBE_INTERVAL).await,
        }
    }
}

/// When the postmaster last loaded its configuration, read on a fresh connection: a
/// new backend inherits the postmaster's value.
pub async fn conf_load_time(settings: &PgSettings) -> Result<String, String> {
    let client = connect(settings).await.map_err(|e| describe_pg_error(&e))?;
    conf_reload::load_time(&client)
        .await
        .map_err(|e| e.describe())
}

/// `pg_reload_conf()` on a fresh connection: signals the postmaster to re-read its
/// configuration.
pub async fn reload_by_sql(settings: &PgSettings) -> Result<(), String> {
    let client = connect(settings)
        .await
        .map_err(|e| format!("PostgreSQL is unreachable: {}", describe_pg_error(&e)))?;
    match conf_reload::signal(&client).await {
        Ok(true) => Ok(()),
        Ok(false) => Err("pg_reload_conf() could not signal the postmaster".to_string()),
        Err(e) => Err(e.describe()),
    }
}
