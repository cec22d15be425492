//! A collector run as the record the temBoard web UI reads from
//! /monitoring/history (the layout of temBoard agent 7.x, see
//! `shared/spec/samples/monitoring-history.json`): `datetime`, `hostinfo`,
//! `instances` (one, never with a password), `data` (one list per registered
//! probe, empty when it did not run or failed) and `version`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tokio_postgres::Client;

use super::registry::PROBES;
use super::row::{from_pg, record_datetime, Row};
use super::runner::DbNames;
use crate::error::Error;
use crate::pg_access::PgAccess;
use crate::pg_supervisor::describe_pg_error;

/// The record layout's version, as 7.x records carry it: the web UI reads the
/// record of a 7.x agent and this one alike.
pub const RECORD_VERSION: &str = "7.11";

/// What the record says of the instance besides what PostgreSQL answers.
#[derive(Debug, Clone)]
pub struct InstanceNames {
    pub hostname: String,
    /// `[postgresql] instance`.
    pub instance: String,
    /// The OS user the agent runs as.
    pub sysuser: String,
}

/// The `instances` entry: PostgreSQL's answers when it is up, `available: false`
/// and nulls when it does not answer within `timeout`.
pub async fn instance(
    pg: &PgAccess,
    names: &InstanceNames,
    dbnames: &DbNames,
    timeout: Duration,
) -> Value {
    let s = pg.settings();
    let mut entry = json!({
        "hostname": names.hostname,
        "instance": names.instance,
        "local_name": names.instance,
        "available": false,
        "host": s.host,
        "port": s.port,
        "user": s.user,
        "database": s.dbname,
        "version_num": null,
        "version": null,
        "data_directory": null,
        "standby": null,
        "max_connections": null,
        "tablespaces": null,
        "dbnames": [],
        "sysuser": names.sysuser,
    });
    if let Ok(Ok(found)) = tokio::time::timeout(timeout, read_instance(pg, dbnames)).await {
        let obj = entry.as_object_mut().expect("an object");
        obj.extend(found);
        obj.insert("available".into(), Value::Bool(true));
    }
    entry
}

async fn read_instance(pg: &PgAccess, dbnames: &DbNames) -> Result<Map<String, Value>, Error> {
    let conn = pg.conn().await?;
    let client: &Client = &conn;
    let (facts, databases) = futures_util::future::join(
        client.query_one(
            include_str!("../../sql/monitoring/support/instance.sql"),
            &[],
        ),
        client.query(
            include_str!("../../sql/monitoring/support/instance_databases.sql"),
            &[],
        ),
    )
    .await;
    let bad =
        |e: tokio_postgres::Error| Error::query("monitoring: read instance", describe_pg_error(&e));
    let mut out = from_pg(&facts.map_err(bad)?)?;
    let databases = databases
        .map_err(bad)?
        .iter()
        .map(from_pg)
        .collect::<Result<Vec<Row>, Error>>()?
        .into_iter()
        .filter(|d| dbnames.selects(d["dbname"].as_str().unwrap_or_default()))
        .map(Value::Object)
        .collect();
    out.insert("dbnames".into(), Value::Array(databases));
    Ok(out)
}

/// The whole record of a run taken at `at`.
pub fn build(
    at: DateTime<Utc>,
    hostinfo: Value,
    instance: Value,
    mut data: BTreeMap<&'static str, Vec<Row>>,
) -> Value {
    let data: Map<String, Value> = PROBES
        .iter()
        .map(|p| {
            let rows = data.remove(p.name).unwrap_or_default();
            (
                p.name.to_string(),
                Value::Array(rows.into_iter().map(Value::Object).collect()),
            )
        })
        .collect();
    json!({
        "datetime": record_datetime(at),
        "hostinfo": hostinfo,
        "instances": [instance],
        "data": data,
        "version": RECORD_VERSION,
    })
}
