//! Runs probes and answers their raw rows (counters as read, before deltas and
//! before `datetime`): host probes on a blocking thread, instance probes on one
//! pooled connection (tokio-postgres pipelines them), database probes in each
//! selected database, one short-lived connection at a time shared by all of them
//! (a backend's start and cache warm-up cost more than the queries). Every probe is
//! time-boxed (the database probes together, since they share the walk); a probe
//! or a database that fails is reported to the caller, which logs it and keeps the
//! others. Nothing here keeps state.

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
use crate::pg_row::Column;
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

/// A run's outcomes by probe, and the databases the database probes had to skip
/// (name -> why), for the caller to log.
#[derive(Debug, Default)]
pub struct RunResult {
    pub outcomes: BTreeMap<&'static str, Outcome>,
    pub skipped_databases: BTreeMap<String, String>,
}

impl Runner {
    fn port(&self) -> Value {
        Value::from(self.pg.settings().port)
    }

    /// Runs `probes` at once, each within `probe_timeout`; answers every probe's
    /// outcome by name.
    pub async fn run_all(&self, probes: &[&'static Probe]) -> RunResult {
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
                let host: Vec<&'static Probe> = probes
                    .iter()
                    .copied()
                    .filter(|p| p.level == Level::Host)
                    .collect();
                let mut out = self.run_each(&host, None, 0).await;
                out.outcomes
                    .extend(pg_probes.iter().map(|p| (p.name, Err(e.clone()))));
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
    ) -> RunResult {
        let (per_database, others): (Vec<&'static Probe>, Vec<&'static Probe>) =
            probes.iter().partition(|p| p.level == Level::Database);
        let runs = others.iter().map(|probe| async move {
            let run = self.run_one(probe, conn, version);
            let outcome = tokio::time::timeout(self.probe_timeout, run)
                .await
                .unwrap_or_else(|_| Err(self.too_slow(probe.name)));
            (probe.name, outcome)
        });
        let walk = async {
            if per_database.is_empty() {
                return RunResult::default();
            }
            let walk = self.walk_databases(&per_database, conn, version);
            tokio::time::timeout(self.probe_timeout, walk)
                .await
                .unwrap_or_else(|_| RunResult {
                    outcomes: per_database
                        .iter()
                        .map(|p| (p.name, Err(self.too_slow(p.name))))
                        .collect(),
                    skipped_databases: BTreeMap::new(),
                })
        };
        let (outcomes, mut result) = futures_util::future::join(join_all(runs), walk).await;
        result.outcomes.extend(outcomes);
        result
    }

    fn too_slow(&self, probe: &str) -> Error {
        Error::query(
            format!("probe {probe}"),
            format!("no answer within {:?}", self.probe_timeout),
        )
    }

    /// Runs one probe now, on its own connection when it needs one.
    pub async fn run(&self, probe: &'static Probe) -> (Outcome, BTreeMap<String, String>) {
        let mut result = self.run_all(&[probe]).await;
        let outcome = result
            .outcomes
            .remove(probe.name)
            .unwrap_or_else(|| Ok(Vec::new()));
        (outcome, result.skipped_databases)
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
            Level::Database => unreachable!("database probes run in walk_databases"),
        }
    }

    /// Visits each selected database once, on its own short-lived connection, and
    /// runs every database probe there (pipelined). A database that cannot be
    /// reached, or where a probe fails (e.g. dropped meanwhile), is skipped for
    /// that probe; the other databases' rows are kept.
    async fn walk_databases(
        &self,
        probes: &[&'static Probe],
        conn: Option<&Client>,
        version: u32,
    ) -> RunResult {
        let fail_all = |e: Error| RunResult {
            outcomes: probes.iter().map(|p| (p.name, Err(e.clone()))).collect(),
            skipped_databases: BTreeMap::new(),
        };
        let Some(conn) = conn else {
            return fail_all(Error::PgUnreachable("no connection".into()));
        };
        let databases = match self.databases(conn).await {
            Ok(databases) => databases,
            Err(e) => return fail_all(e),
        };
        // Probes the server is too old for answer nothing.
        let runnable: Vec<(&'static Probe, &'static str)> = probes
            .iter()
            .filter_map(|p| Some((*p, p.sql_for(version)?.text)))
            .collect();
        let mut rows: BTreeMap<&'static str, Vec<Row>> =
            probes.iter().map(|p| (p.name, Vec::new())).collect();
        let mut skipped = BTreeMap::new();
        for dbname in databases {
            let client = match self.pg.connect_to(&dbname).await {
                Ok(client) => client,
                Err(e) => {
                    skipped.insert(dbname, e.to_string());
                    continue;
                }
            };
            let answers = join_all(
                runnable
                    .iter()
                    .map(|(probe, sql)| query(&client, probe, sql)),
            )
            .await;
            for ((probe, _), answer) in runnable.iter().zip(answers) {
                match answer {
                    Ok(found) => rows
                        .entry(probe.name)
                        .or_default()
                        .extend(found.into_iter().map(|mut r| {
                            r.insert("dbname".into(), Value::from(dbname.clone()));
                            r.insert("port".into(), self.port());
                            r
                        })),
                    Err(e) => {
                        skipped.insert(dbname.clone(), e.to_string());
                    }
                }
            }
        }
        RunResult {
            outcomes: rows.into_iter().map(|(name, r)| (name, Ok(r))).collect(),
            skipped_databases: skipped,
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
        let names = rows
            .iter()
            .map(|r| r.col::<_, String>(0))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(names
            .into_iter()
            .filter(|db| self.dbnames.selects(db))
            .collect())
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
    Ok(row.col::<_, i32>(0)?.max(0) as u32)
}

async fn query(conn: &Client, probe: &Probe, sql: &str) -> Outcome {
    let rows = conn
        .query(sql, &[])
        .await
        .map_err(|e| Error::query(format!("probe {}", probe.name), describe_pg_error(&e)))?;
    rows.iter().map(from_pg).collect()
}
