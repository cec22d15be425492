//! MetricsSampler: takes one dashboard sample every `scheduler_interval` seconds and
//! hands it to DashboardHistory; also answers live readings (/dashboard/live and the
//! single-value endpoints). It owns what sampling needs to remember: the previous
//! /proc/stat reading (CPU percentages are over the interval since it), the last good
//! PostgreSQL part, the host name resolved once at start, and whether a run is in
//! progress. A run never overlaps the previous one (a tick that finds it running is
//! skipped). A run whose PostgreSQL part fails still records the fresh host part with
//! the last good PostgreSQL part (its own `time` fields tell its age) and logs why,
//! once per outage. Live readings never move the sampler's CPU baseline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

use super::dashboard_history::{DashboardHistory, Record};
use super::queries;
use super::sample::{
    count_models, HostFacts, HostPart, Info, Measurement, Metric, PgPart, Sample, SharedSample,
};
use crate::error::Error;
use crate::host::cpu::{self, CpuStat, CpuUsage};
use crate::host::{load, memory, name, os, platform};
use crate::pg_access::PgAccess;

/// CPU percentages over less than this are mostly rounding noise (the kernel counts
/// in 10 ms ticks): a live reading waits until its baseline is this old.
const MIN_CPU_WINDOW: Duration = Duration::from_millis(100);

pub struct SamplerSettings {
    pub configured_hostname: Option<String>,
    pub interval: Duration,
    /// False when the dashboard plugin is disabled: no periodic sampling.
    pub periodic: bool,
}

pub struct MetricsSampler {
    settings: SamplerSettings,
    pg: PgAccess,
    history: Addr<DashboardHistory>,
    log: slog::Logger,
    /// The host name is resolved once the actor has started.
    facts: HostFacts,
    /// The /proc/stat reading of the previous periodic run, and when it was taken.
    baseline: Option<(Instant, CpuStat)>,
    last_good_pg: Option<PgPart>,
    pg_failing: bool,
    running: bool,
    /// Callers of `SampleNow` waiting for the run in progress.
    waiters: Vec<oneshot::Sender<Arc<Sample>>>,
    /// The last sample taken: the history may not have it yet (it is sent as a
    /// message), and a `SampleNow` in that window must not take another one.
    last_sample: Option<Arc<Sample>>,
}

impl MetricsSampler {
    pub fn new(
        settings: SamplerSettings,
        pg: PgAccess,
        history: Addr<DashboardHistory>,
        log: slog::Logger,
    ) -> MetricsSampler {
        let os_version = os::version().unwrap_or_else(|e| {
            slog::warn!(log, "dashboard: cannot read the OS version"; "error" => %e);
            String::new()
        });
        let cpu_models = cpu::read_models().unwrap_or_else(|e| {
            slog::warn!(log, "dashboard: cannot read the CPU models"; "error" => %e);
            Vec::new()
        });
        let facts = HostFacts {
            hostname: settings.configured_hostname.clone().unwrap_or_default(),
            os_version,
            cpu_models: count_models(&cpu_models),
            linux_distribution: platform::read_linux_distribution(),
        };
        MetricsSampler {
            settings,
            pg,
            history,
            log,
            facts,
            baseline: None,
            last_good_pg: None,
            pg_failing: false,
            running: false,
            waiters: Vec::new(),
            last_sample: None,
        }
    }

    /// The host part now, with CPU usage since `previous`; also answers this reading
    /// of /proc/stat. A /proc file that cannot be read gives zeros and a log line.
    fn read_host(&self, previous: Option<&CpuStat>) -> (HostPart, Option<CpuStat>) {
        let log_err = |what: &str, e: &dyn std::fmt::Display| {
            slog::warn!(self.log, "dashboard: cannot read {what}"; "error" => %e);
        };
        let stat = cpu::read_stat().map_err(|e| log_err("CPU times", &e)).ok();
        let load = load::read()
            .map_err(|e| log_err("the load average", &e))
            .unwrap_or_default();
        let mem = memory::read()
            .map_err(|e| log_err("memory", &e))
            .unwrap_or_default();
        let empty = CpuStat {
            total: Default::default(),
            per_cpu: Vec::new(),
        };
        let host = HostPart::from_readings(
            &self.facts,
            previous,
            stat.as_ref().unwrap_or(&empty),
            load.one,
            &mem,
        );
        (host, stat)
    }

    /// Starts a periodic run unless one is in progress.
    fn run(&mut self, ctx: &mut Context<Self>) {
        if self.running {
            slog::debug!(
                self.log,
                "dashboard: previous sample still running, tick skipped"
            );
            return;
        }
        self.running = true;
        let (host, stat) = self.read_host(self.baseline.as_ref().map(|(_, s)| s));
        if let Some(stat) = stat {
            self.baseline = Some((Instant::now(), stat));
        }
        let pg = self.pg.clone();
        let reading = async move { queries::pg_part(&pg).await };
        ctx.spawn(
            reading
                .into_actor(self)
                .map(move |result, act, _| act.finish_run(host, result)),
        );
    }

    fn finish_run(&mut self, host: HostPart, result: Result<PgPart, Error>) {
        self.running = false;
        match result {
            Ok(part) => {
                if self.pg_failing {
                    slog::info!(
                        self.log,
                        "dashboard: PostgreSQL answers again, samples are complete"
                    );
                }
                self.pg_failing = false;
                self.last_good_pg = Some(part);
            }
            Err(err) => {
                if !self.pg_failing {
                    slog::warn!(self.log, "dashboard: PostgreSQL part of the sample failed; samples keep the host part fresh and the last good PostgreSQL part until it answers";
                        "error" => %err);
                } else {
                    slog::debug!(self.log, "dashboard: PostgreSQL part of the sample failed"; "error" => %err);
                }
                self.pg_failing = true;
            }
        }
        let sample = Arc::new(Sample {
            host,
            pg: self
                .last_good_pg
                .clone()
                .map(Into::into)
                .unwrap_or_default(),
        });
        self.history.do_send(Record(sample.clone()));
        self.last_sample = Some(sample.clone());
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(sample.clone());
        }
    }

    /// A CPU usage reading for a live answer: over the interval since the baseline,
    /// waiting first if the baseline is too recent (or missing).
    fn live_cpu(&self) -> impl std::future::Future<Output = Result<CpuUsage, Error>> {
        let baseline = self.baseline.clone();
        async move {
            let (taken, before) = match baseline {
                Some(b) => b,
                None => (Instant::now(), cpu::read_stat().map_err(host_error)?),
            };
            let age = taken.elapsed();
            if age < MIN_CPU_WINDOW {
                tokio::time::sleep(MIN_CPU_WINDOW - age).await;
            }
            let now = cpu::read_stat().map_err(host_error)?;
            Ok(cpu::usage(&before.total, &now.total))
        }
    }
}

fn host_error(e: crate::host::HostError) -> Error {
    Error::query("dashboard: read the host", e)
}

impl Actor for MetricsSampler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The resolver may be slow: ask it off the actor's thread, before any sample.
        if self.settings.configured_hostname.is_none() {
            let resolve = async {
                tokio::task::spawn_blocking(|| name::hostname(None))
                    .await
                    .unwrap_or_else(|_| "localhost".to_string())
            };
            ctx.wait(resolve.into_actor(self).map(|hostname, act, _| {
                act.facts.hostname = hostname;
            }));
        }
        if self.settings.periodic {
            ctx.run_later(Duration::ZERO, |act, ctx| act.run(ctx));
            ctx.run_interval(self.settings.interval, |act, ctx| act.run(ctx));
        } else if let Ok(stat) = cpu::read_stat() {
            // A baseline for live CPU readings all the same.
            self.baseline = Some((Instant::now(), stat));
        }
    }
}

/// The latest sample of the periodic series: the last one taken, else the run in
/// progress, else one started now (recorded in the history like every periodic
/// sample).
#[derive(Message)]
#[rtype(result = "Result<Arc<Sample>, Error>")]
pub struct SampleNow;

impl Handler<SampleNow> for MetricsSampler {
    type Result = ResponseFuture<Result<Arc<Sample>, Error>>;

    fn handle(&mut self, _: SampleNow, ctx: &mut Self::Context) -> Self::Result {
        if let Some(sample) = self.last_sample.clone() {
            return Box::pin(async move { Ok(sample) });
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.push(tx);
        self.run(ctx);
        Box::pin(async move {
            rx.await
                .map_err(|_| Error::Mailbox("the dashboard sampler stopped".to_string()))
        })
    }
}

/// A sample taken now, not recorded. Fails when PostgreSQL does not answer: a live
/// reading is fresh or nothing.
#[derive(Message)]
#[rtype(result = "Result<SharedSample, Error>")]
pub struct TakeLive;

impl Handler<TakeLive> for MetricsSampler {
    type Result = ResponseFuture<Result<SharedSample, Error>>;

    fn handle(&mut self, _: TakeLive, _: &mut Self::Context) -> Self::Result {
        let (mut host, _) = self.read_host(None);
        let cpu = self.live_cpu();
        let pg = self.pg.clone();
        Box::pin(async move {
            let (cpu, part) = tokio::try_join!(cpu, async { queries::pg_part(&pg).await })?;
            host.cpu = cpu;
            let sample = Sample {
                host,
                pg: part.into(),
            };
            Ok(SharedSample(Arc::new(sample)))
        })
    }
}

/// One value read now, for the single-value endpoints.
#[derive(Message)]
#[rtype(result = "Result<Measurement, Error>")]
pub struct Measure(pub Metric);

impl Handler<Measure> for MetricsSampler {
    type Result = ResponseFuture<Result<Measurement, Error>>;

    fn handle(&mut self, Measure(metric): Measure, _: &mut Self::Context) -> Self::Result {
        let hostname = self.facts.hostname.clone();
        let os_version = self.facts.os_version.clone();
        if metric == Metric::Cpu {
            let cpu = self.live_cpu();
            return Box::pin(async move { Ok(Measurement::Cpu(cpu.await?)) });
        }
        if !metric.needs_postgresql() {
            let answer = match metric {
                Metric::Loadaverage => load::read()
                    .map(|l| Measurement::Loadaverage(l.one))
                    .map_err(host_error),
                Metric::Memory => memory::read()
                    .map(|m| Measurement::Memory((&m).into()))
                    .map_err(host_error),
                Metric::NCpu => Ok(Measurement::NCpu(cpu::count())),
                Metric::OsVersion => Ok(Measurement::OsVersion(os_version)),
                // Only Metric::Hostname is left: the others need PostgreSQL or are CPU.
                _ => Ok(Measurement::Hostname(hostname)),
            };
            return Box::pin(async move { answer });
        }
        let pg = self.pg.clone();
        Box::pin(async move {
            let conn = pg.conn().await?;
            let client: &tokio_postgres::Client = &conn;
            Ok(match metric {
                Metric::Buffers => Measurement::Buffers(queries::buffers(client).await?),
                Metric::Hitratio => Measurement::Hitratio(queries::hitratio(client).await?),
                Metric::ActiveBackends => {
                    Measurement::ActiveBackends(queries::active_backends(client).await?)
                }
                Metric::Databases => Measurement::Databases(queries::databases(client).await?),
                _ => {
                    let i = queries::instance(client).await?;
                    match metric {
                        Metric::PgVersion => Measurement::PgVersion(i.pg_version),
                        Metric::MaxConnections => Measurement::MaxConnections(i.max_connections),
                        _ => Measurement::Info(Info {
                            hostname,
                            os_version,
                            pg_port: i.pg_port,
                            pg_uptime: i.pg_uptime,
                            pg_version: i.pg_version,
                            pg_data: i.pg_data,
                        }),
                    }
                }
            })
        })
    }
}
