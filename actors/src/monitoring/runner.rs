//! Runs probes and answers their raw rows (counters as read, before deltas and
//! before `datetime`): host probes on a blocking thread, instance probes on one
//! pooled connection (tokio-postgres pipelines them), database probes in each
//! selected database, one short-lived connection at a time. Every probe is
//! time-boxed; a probe or a database that fails is reported to the caller, which
//! logs it and keeps the others. Nothing here keeps state.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value;
use tokio_postgres::Client;

use super::host_probes;
use super::registry::{Level, Probe};
use super::row::{from_pg, Row};
use crate::error::Error;
use crate::pg_access::PgAccess;
use crate::pg_supervisor::describe_pg_error;

/// `[monitoring] dbnames`: which databases the per-database rows cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbNames {
    All,
    Some(Vec<String>),
}

impl DbNames {
    pub fn selects(&self, dbname: &str) -> bool {
        match self {
            DbNames::All => true,
            DbNames::Some(names) => names.iter().any(|n| n == dbname),
        }
    }
}

/// What running a probe needs.
#[derive(Clone)]
pub struct Runner {
    pub pg: PgAccess,
    pub dbnames: DbNames,
    /// Bound of one probe's run, connection included.
    pub probe_timeout: Duration,
    pub log: slog::Logger,
}

/// One probe's raw rows, or why it has none this time.
pub type Outcome = Result<Vec<Row>, Error>;

impl Runner {
    fn port(&self) -> Value {
        Value::from(self.pg.settings().port)
    }

    /// Runs `probes` at once, each within `probe_timeout`; answers every probe's
    /// outcome by name.
    pub async fn run_all(&self, probes: &[&'static Probe]) -> BTreeMap<&'static str, Outcome> {
        let pg_probes: Vec<&'static Probe> = probes
            .iter()
            .copied()
            .filter(|p| p.level != Level::Host)
            .collect();
        // One connection and one version reading serve every instance probe.
        let instance = async {
            if pg_probes.is_empty() {
                return Ok(None);
            }
            let conn = self.pg.conn().await?;
            let version = server_version(&conn).await?;
            Ok::<_, Error>(Some((conn, version)))
        };
        let instance = tokio::time::timeout(self.probe_timeout, instance)
            .await
            .unwrap_or_else(|_| Err(Error::PgUnreachable("no connection in time".into())));
        let (conn, version) = match instance {
            Ok(Some((conn, version))) => (Some(conn), version),
            Ok(None) => (None, 0),
            Err(e) => {
                // PostgreSQL is down: every PostgreSQL probe fails alike, host
                // probes still run.
                let mut out: BTreeMap<&'static str, Outcome> =
                    pg_probes.iter().map(|p| (p.name, Err(e.clone()))).collect();
                let host: Vec<&'static Probe> = probes
                    .iter()
                    .copied()
                    .filter(|p| p.level == Level::Host)
                    .collect();
                out.extend(self.run_each(&host, None, 0).await);
                return out;
            }
        };
        self.run_each(probes, conn.as_deref(), version).await
    }

    async fn run_each(
        &self,
        probes: &[&'static Probe],
        conn: Option<&Client>,
        version: u32,
    ) -> BTreeMap<&'static str, Outcome> {
        let runs = probes.iter().map(|probe| async move {
            let run = self.run_one(probe, conn, version);
            let outcome = tokio::time::timeout(self.probe_timeout, run)
                .await
                .unwrap_or_else(|_| {
                    Err(Error::query(
                        format!("probe {}", probe.name),
                        format!("no answer within {:?}", self.probe_timeout),
                    ))
                });
            (probe.name, outcome)
        });
        join_all(runs).await.into_iter().collect()
    }

    /// Runs one probe now, on its own connection when it needs one.
    pub async fn run(&self, probe: &'static Probe) -> Outcome {
        self.run_all(&[probe])
            .await
            .remove(probe.name)
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    async fn run_one(&self, probe: &'static Probe, conn: Option<&Client>, version: u32) -> Outcome {
        match probe.level {
            Level::Host => {
                let log = self.log.clone();
                tokio::task::spawn_blocking(move || host_probes::read(probe.name, &log))
                    .await
                    .map_err(|e| Error::query(format!("probe {}", probe.name), e))?
                    .map_err(|e| Error::query(format!("probe {}", probe.name), e))
            }
            Level::Instance => {
                let conn = conn.ok_or_else(|| Error::PgUnreachable("no connection".into()))?;
                let Some(sql) = probe.sql_for(version) else {
                    return Ok(Vec::new());
                };
                let mut rows = query(conn, probe, sql.text).await?;
                rows.retain(|r| match r.get("dbname").and_then(Value::as_str) {
                    Some(db) => self.dbnames.selects(db),
                    None => true,
                });
                for r in &mut rows {
                    r.insert("port".into(), self.port());
                }
                Ok(rows)
            }
            Level::Database => {
                let conn = conn.ok_or_else(|| Error::PgUnreachable("no connection".into()))?;
                let Some(sql) = probe.sql_for(version) else {
                    return Ok(Vec::new());
                };
                let mut rows = Vec::new();
                for dbname in self.databases(conn).await? {
                    match self.in_database(&dbname, probe, sql.text).await {
                        Ok(found) => rows.extend(found.into_iter().map(|mut r| {
                            r.insert("dbname".into(), Value::from(dbname.clone()));
                            r.insert("port".into(), self.port());
                            r
                        })),
                        // Dropped mid-run, or not allowed in: skip this database.
                        Err(e) => slog::warn!(self.log, "monitoring: probe skipped a database";
                            "probe" => probe.name, "database" => &dbname, "error" => %e),
                    }
                }
                Ok(rows)
            }
        }
    }

    /// The selected databases that accept connections, by name.
    pub async fn databases(&self, conn: &Client) -> Result<Vec<String>, Error> {
        let rows = conn
            .query(
                include_str!("../../sql/monitoring/support/databases.sql"),
                &[],
            )
            .await
            .map_err(|e| Error::query("monitoring: list databases", describe_pg_error(&e)))?;
        Ok(rows
            .iter()
            .map(|r| r.get::<_, String>(0))
            .filter(|db| self.dbnames.selects(db))
            .collect())
    }

    async fn in_database(&self, dbname: &str, probe: &Probe, sql: &str) -> Outcome {
        let client = self.pg.connect_to(dbname).await?;
        query(&client, probe, sql).await
    }
}

pub async fn server_version(conn: &Client) -> Result<u32, Error> {
    let row = conn
        .query_one(
            include_str!("../../sql/monitoring/support/server_version.sql"),
            &[],
        )
        .await
        .map_err(|e| Error::query("monitoring: read server_version_num", describe_pg_error(&e)))?;
    Ok(row.get::<_, i32>(0).max(0) as u32)
}

async fn query(conn: &Client, probe: &Probe, sql: &str) -> Outcome {
    let rows = conn
        .query(sql, &[])
        .await
        .map_err(|e| Error::query(format!("probe {}", probe.name), describe_pg_error(&e)))?;
    rows.iter().map(from_pg).collect()
}
