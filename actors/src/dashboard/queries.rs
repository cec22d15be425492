//! The dashboard's PostgreSQL readings, one SQL file each (`sql/dashboard/`), on the
//! shared pool. A whole reading sends its statements together on one connection
//! (tokio-postgres pipelines them), so it costs about one round trip. Every query
//! runs with the pool's statement and lock timeouts; nothing here retries or keeps
//! state.

use tokio_postgres::{Client, Row};

use super::sample::{epoch_now, Counter, Databases, Instance, PgPart};
use crate::error::Error;
use crate::pg_access::PgAccess;
use crate::pg_row::Column;
use crate::pg_supervisor::describe_pg_error;

async fn one(client: &Client, what: &str, sql: &str) -> Result<Row, Error> {
    client
        .query_one(sql, &[])
        .await
        .map_err(|e| Error::query(format!("dashboard: read {what}"), describe_pg_error(&e)))
}

pub async fn buffers(client: &Client) -> Result<Counter, Error> {
    let time = epoch_now();
    let row = one(
        client,
        "buffers allocated (pg_stat_bgwriter)",
        include_str!("../../sql/dashboard/buffers.sql"),
    )
    .await?;
    Ok(Counter {
        nb: row.col("buffers_alloc")?,
        time,
    })
}

pub async fn hitratio(client: &Client) -> Result<Option<f64>, Error> {
    let row = one(
        client,
        "cache hit ratio (pg_stat_database)",
        include_str!("../../sql/dashboard/hitratio.sql"),
    )
    .await?;
    row.col("hitratio")
}

pub async fn active_backends(client: &Client) -> Result<Counter, Error> {
    let time = epoch_now();
    let row = one(
        client,
        "active backends (pg_stat_activity)",
        include_str!("../../sql/dashboard/active_backends.sql"),
    )
    .await?;
    Ok(Counter {
        nb: row.col("nb")?,
        time,
    })
}

pub async fn databases(client: &Client) -> Result<Databases, Error> {
    let timestamp = epoch_now();
    let row = one(
        client,
        "databases (pg_database, pg_stat_database)",
        include_str!("../../sql/dashboard/databases.sql"),
    )
    .await?;
    Ok(Databases {
        databases: row.col("databases")?,
        total_size: row.col("total_size")?,
        time: row.col("time")?,
        total_commit: row.col("total_commit")?,
        total_rollback: row.col("total_rollback")?,
        timestamp,
    })
}

pub async fn instance(client: &Client) -> Result<Instance, Error> {
    let row = one(
        client,
        "version and settings",
        include_str!("../../sql/dashboard/instance.sql"),
    )
    .await?;
    Ok(Instance {
        pg_version: row.col("pg_version")?,
        max_connections: row.col("max_connections")?,
        pg_data: row.col("pg_data")?,
        pg_port: row.col("pg_port")?,
        pg_uptime: row.col("pg_uptime")?,
    })
}

/// One complete reading; fails as a whole with the first error.
pub async fn pg_part(pg: &PgAccess) -> Result<PgPart, Error> {
    let conn = pg.conn().await?;
    let client: &Client = &conn;
    let (buffers, hitratio, active_backends, databases, instance) = tokio::try_join!(
        buffers(client),
        hitratio(client),
        active_backends(client),
        databases(client),
        instance(client),
    )?;
    Ok(PgPart {
        buffers,
        hitratio,
        active_backends,
        databases,
        instance,
    })
}
