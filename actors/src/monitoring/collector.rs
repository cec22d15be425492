//! Collector: the monitoring half of the metrics sampling. Every
//! `scheduler_interval` it runs the scheduled probes (at once, each time-boxed),
//! turns counters into deltas, builds the 7.x history record and has MetricHistory
//! commit it; a tick that finds the previous run still going is skipped. It also
//! runs a probe on demand (GET /monitoring/probe/<name>) and keeps the latest run
//! for /metrics.
//!
//! It owns the delta baselines. On demand, a delta probe answers as its registry
//! line says (`OnDemand`): its counters as read (xacts, blocks, bgwriter,
//! temp_files_size_delta, as the spec examples and 7.x), or the change since a
//! previous reading (cpu, process, wal_files): for a scheduled probe, since the
//! collector's last run, without moving that baseline (the history must not lose
//! what an on-demand call saw); for an unscheduled one, since the previous call.
//! A probe that fails is logged (once until it works again) and its list stays
//! empty; the others are kept.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::delta::{diff, Baselines, Reading};
use super::host_probes;
use super::metric_history::{Append, MetricHistory};
use super::record::{self, InstanceNames};
use super::registry::{Delta, Level, OnDemand, Probe};
use super::row::{host_datetime, pg_datetime, record_row_datetime, Row};
use super::runner::{Outcome, Runner};
use crate::error::Error;

/// SQL probes whose spec example shows the host probes' `datetime` form (7.x
/// computed them in the agent rather than in SQL).
const HOST_DATETIME_SQL_PROBES: &[&str] = &["wal_files"];

pub struct CollectorSettings {
    pub interval: Duration,
    /// False when the monitoring plugin is disabled: no periodic runs.
    pub periodic: bool,
    pub scheduled: Vec<&'static Probe>,
    pub names: InstanceNames,
}

/// The latest periodic run: when, every probe's rows as the history has them
/// (deltas applied, `datetime` set) and as read (counters cumulative, no
/// `datetime`; what /metrics exports as counters).
#[derive(Debug, Clone)]
pub struct LatestRun {
    pub at: DateTime<Utc>,
    /// Whether PostgreSQL answered the run's instance reading.
    pub postgres_up: bool,
    pub data: BTreeMap<&'static str, Vec<Row>>,
    pub raw: BTreeMap<&'static str, Vec<Row>>,
}

pub struct Collector {
    settings: CollectorSettings,
    runner: Runner,
    history: Addr<MetricHistory>,
    log: slog::Logger,
    /// Baselines of the periodic runs.
    periodic: Baselines,
    /// Baselines of on-demand calls of unscheduled probes.
    on_demand: Baselines,
    running: bool,
    latest: Option<Arc<LatestRun>>,
    /// Probes whose failure is already logged, until they work again.
    failing: HashSet<&'static str>,
    /// Databases the last periodic run skipped, and why (logged when they change).
    skipped_databases: BTreeMap<String, String>,
    /// Whether the last periodic run found PostgreSQL unreachable (logged when it
    /// changes).
    pg_unreachable: bool,
}

impl Collector {
    pub fn new(
        settings: CollectorSettings,
        runner: Runner,
        history: Addr<MetricHistory>,
        log: slog::Logger,
    ) -> Collector {
        Collector {
            settings,
            runner,
            history,
            log,
            periodic: Baselines::default(),
            on_demand: Baselines::default(),
            running: false,
            latest: None,
            failing: HashSet::new(),
            skipped_databases: BTreeMap::new(),
            pg_unreachable: false,
        }
    }

    fn is_scheduled(&self, probe: &Probe) -> bool {
        self.settings.scheduled.iter().any(|p| p.name == probe.name)
    }

    fn run(&mut self, ctx: &mut Context<Self>) {
        if self.running {
            slog::warn!(self.log, "monitoring: previous collector run still going, tick skipped";
                "interval_s" => self.settings.interval.as_secs());
            return;
        }
        self.running = true;
        let runner = self.runner.clone();
        let probes = self.settings.scheduled.clone();
        let names = self.settings.names.clone();
        let work = async move {
            let at = Utc::now();
            let started = Instant::now();
            let (outcomes, instance, hostinfo) = futures_util::future::join3(
                runner.run_all(&probes),
                record::instance(&runner.pg, &names, &runner.dbnames, runner.probe_timeout),
                tokio::task::spawn_blocking({
                    let hostname = names.hostname.clone();
                    let log = runner.log.clone();
                    move || host_probes::hostinfo(&hostname, &log)
                }),
            )
            .await;
            let hostinfo = hostinfo.unwrap_or(Value::Null);
            (at, started, outcomes, instance, hostinfo)
        };
        ctx.spawn(work.into_actor(self).map(
            |(at, started, result, instance, hostinfo), act, ctx| {
                act.note_skipped_databases(result.skipped_databases);
                let outcomes = result.outcomes;
                let data = act.finish(at, started, &outcomes);
                let postgres_up = instance["available"] == Value::Bool(true);
                let record = record::build(at, hostinfo, instance, data.clone());
                let raw = outcomes
                    .into_iter()
                    .filter_map(|(name, outcome)| Some((name, outcome.ok()?)))
                    .collect();
                let latest = Arc::new(LatestRun {
                    at,
                    postgres_up,
                    data,
                    raw,
                });
                let append = act.history.send(Append {
                    at: at.timestamp(),
                    record: record.to_string(),
                });
                ctx.spawn(append.into_actor(act).map(move |res, act, _| {
                    act.running = false;
                    match res.map_err(Error::from).and_then(|r| r) {
                        Ok(()) => {
                            slog::debug!(act.log, "monitoring: collector run recorded";
                                "took_ms" => started.elapsed().as_millis() as u64);
                        }
                        Err(e) => slog::error!(act.log,
                            "monitoring: cannot record a collector run"; "error" => %e),
                    }
                    act.latest = Some(latest);
                }));
            },
        ));
    }

    /// Logs a database the database probes skip when it starts being skipped, and
    /// when it is visited again: not at every run.
    fn note_skipped_databases(&mut self, now: BTreeMap<String, String>) {
        for (dbname, why) in &now {
            if !self.skipped_databases.contains_key(dbname) {
                slog::warn!(self.log, "monitoring: database skipped by the per-database probes";
                    "database" => dbname, "error" => why);
            }
        }
        for dbname in self.skipped_databases.keys() {
            if !now.contains_key(dbname) {
                slog::info!(self.log, "monitoring: database visited again by the per-database probes";
                    "database" => dbname);
            }
        }
        self.skipped_databases = now;
    }

    /// Logs when PostgreSQL stops answering the probes, and when it answers again:
    /// once, not once per probe and run.
    fn note_postgresql(&mut self, outcomes: &BTreeMap<&'static str, Outcome>) {
        let unreachable = outcomes.values().find_map(|o| match o {
            Err(e @ Error::PgUnreachable(_)) => Some(e),
            _ => None,
        });
        match (unreachable, self.pg_unreachable) {
            (Some(e), false) => {
                slog::warn!(self.log,
                    "monitoring: PostgreSQL probes skipped until PostgreSQL answers";
                    "error" => %e);
                self.pg_unreachable = true;
            }
            (None, true) => {
                slog::info!(self.log, "monitoring: PostgreSQL answers the probes again");
                self.pg_unreachable = false;
            }
            _ => {}
        }
    }

    /// Applies deltas and `datetime` to a periodic run's outcomes; logs failures.
    fn finish(
        &mut self,
        at: DateTime<Utc>,
        started: Instant,
        outcomes: &BTreeMap<&'static str, Outcome>,
    ) -> BTreeMap<&'static str, Vec<Row>> {
        let datetime = Value::from(record_row_datetime(at));
        let mut data = BTreeMap::new();
        self.note_postgresql(outcomes);
        for probe in self.settings.scheduled.clone() {
            let Some(outcome) = outcomes.get(probe.name) else {
                continue;
            };
            match outcome {
                Ok(rows) => {
                    if self.failing.remove(probe.name) {
                        slog::info!(self.log, "monitoring: probe works again"; "probe" => probe.name);
                    }
                    let mut rows = deltas(probe, &mut self.periodic, started, rows, true);
                    for r in &mut rows {
                        r.insert("datetime".into(), datetime.clone());
                    }
                    data.insert(probe.name, rows);
                }
                // Told once for all PostgreSQL probes (note_postgresql).
                Err(Error::PgUnreachable(_)) => {}
                Err(e) => {
                    if self.failing.insert(probe.name) {
                        slog::warn!(self.log, "monitoring: probe failed, its list stays empty";
                            "probe" => probe.name, "error" => %e);
                    }
                }
            }
        }
        data
    }
}

/// Delta rows of a reading taken at `at`; moves the baseline when `advance`.
fn deltas(
    probe: &'static Probe,
    baselines: &mut Baselines,
    at: Instant,
    rows: &[Row],
    advance: bool,
) -> Vec<Row> {
    let Some(delta) = &probe.delta else {
        return rows.to_vec();
    };
    let out = diff(delta, baselines.get(probe.name), at, rows);
    if advance || baselines.get(probe.name).is_none() {
        baselines.set(probe.name, Reading::new(delta, at, rows));
    }
    out
}

/// A delta probe's rows as read, with the columns derived from its counters.
fn counters(delta: &Delta, mut rows: Vec<Row>) -> Vec<Row> {
    if let Some(derive) = delta.derive {
        rows.iter_mut().for_each(derive);
    }
    rows
}

impl Actor for Collector {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The resolver may be slow: ask it off the actor's thread, before any run.
        if self.settings.names.hostname.is_empty() {
            let resolve = async {
                tokio::task::spawn_blocking(|| crate::host::name::hostname(None))
                    .await
                    .unwrap_or_else(|_| "localhost".to_string())
            };
            ctx.wait(resolve.into_actor(self).map(|hostname, act, _| {
                act.settings.names.hostname = hostname;
            }));
        }
        if self.settings.periodic {
            let probes: Vec<&str> = self.settings.scheduled.iter().map(|p| p.name).collect();
            slog::info!(self.log, "monitoring: collector started";
                "interval_s" => self.settings.interval.as_secs(),
                "probes" => probes.join(","));
            ctx.run_later(Duration::ZERO, |act, ctx| act.run(ctx));
            ctx.run_interval(self.settings.interval, |act, ctx| act.run(ctx));
        }
    }
}

/// Runs one probe now and answers its rows in the spec's shape.
#[derive(Message)]
#[rtype(result = "Result<Vec<Row>, Error>")]
pub struct RunProbe(pub &'static Probe);

impl Handler<RunProbe> for Collector {
    type Result = ResponseActFuture<Self, Result<Vec<Row>, Error>>;

    fn handle(&mut self, RunProbe(probe): RunProbe, _: &mut Self::Context) -> Self::Result {
        let runner = self.runner.clone();
        Box::pin(
            async move {
                let at = Utc::now();
                let started = Instant::now();
                (at, started, runner.run(probe).await)
            }
            .into_actor(self)
            .map(move |(at, started, (outcome, skipped)), act, _| {
                for (dbname, why) in skipped {
                    slog::debug!(act.log, "monitoring: database skipped";
                        "probe" => probe.name, "database" => dbname, "error" => why);
                }
                let rows = outcome?;
                let mut rows = match &probe.delta {
                    Some(delta) if delta.on_demand == OnDemand::Counters => counters(delta, rows),
                    _ => {
                        let scheduled = act.is_scheduled(probe);
                        let baselines = if scheduled {
                            &mut act.periodic
                        } else {
                            &mut act.on_demand
                        };
                        deltas(probe, baselines, started, &rows, !scheduled)
                    }
                };
                let datetime = Value::from(match probe.level {
                    Level::Host => host_datetime(at),
                    _ if HOST_DATETIME_SQL_PROBES.contains(&probe.name) => host_datetime(at),
                    _ => pg_datetime(at),
                });
                for r in &mut rows {
                    r.insert("datetime".into(), datetime.clone());
                }
                Ok(rows)
            }),
        )
    }
}

/// The latest periodic run, if one finished.
#[derive(Message)]
#[rtype(result = "Option<Arc<LatestRun>>")]
pub struct GetLatestRun;

impl Handler<GetLatestRun> for Collector {
    type Result = Option<Arc<LatestRun>>;

    fn handle(&mut self, _: GetLatestRun, _: &mut Self::Context) -> Self::Result {
        self.latest.clone()
    }
}
