//! The monitoring plugin: probes as data (`registry` + `sql/monitoring/`), how
//! they run (`runner`, `host_probes`), counters as deltas (`delta`), the periodic
//! Collector actor, the durable MetricHistory actor, the 7.x history record
//! (`record`), and the `/metrics` text (`prometheus_text`, from each probe's
//! `export` lines). Nothing here knows HTTP.

pub mod collector;
pub mod delta;
pub mod export;
pub mod host_probes;
pub mod metric_history;
pub mod prometheus_text;
pub mod record;
pub mod registry;
pub mod row;
pub mod runner;

use std::time::Duration;

use actix::prelude::*;
use serde::Serialize;

use crate::Common;
use collector::{Collector, CollectorSettings};
use metric_history::MetricHistory;
use record::InstanceNames;
use registry::{Probe, PROBES};
use runner::{DbNames, Runner};

/// `[monitoring] probes`: `*` runs every probe that is on by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeNames {
    Default,
    Some(Vec<String>),
}

/// What the monitoring actors need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether the monitoring plugin is enabled: without it, no periodic runs.
    pub enabled: bool,
    /// `[temboard] hostname`; the resolver is asked when it is not set.
    pub hostname: Option<String>,
    /// `[postgresql] instance`.
    pub instance: String,
    pub dbnames: DbNames,
    pub probes: ProbeNames,
    /// Seconds between collector runs.
    pub scheduler_interval: u64,
    /// Seconds a history record is kept.
    pub history_window: u64,
    /// `[monitoring] metrics_token`: a bearer token /metrics accepts.
    pub metrics_token: Option<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: false,
            hostname: None,
            instance: "main".into(),
            dbnames: DbNames::All,
            probes: ProbeNames::Default,
            scheduler_interval: 60,
            history_window: 6 * 3600,
            metrics_token: None,
        }
    }
}

/// /monitoring/config's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitoringConfig {
    /// `*` or the configured names.
    pub dbnames: Vec<String>,
    pub scheduler_interval: u64,
}

#[derive(Clone)]
pub struct Handles {
    pub collector: Addr<Collector>,
    pub history: Addr<MetricHistory>,
    pub config: MonitoringConfig,
    pub metrics_token: Option<String>,
}

/// The probes a configuration schedules; unknown names were refused when the
/// configuration was read.
pub fn scheduled(probes: &ProbeNames) -> Vec<&'static Probe> {
    PROBES
        .iter()
        .filter(|p| match probes {
            ProbeNames::Default => p.default_on,
            ProbeNames::Some(names) => names.iter().any(|n| n == p.name),
        })
        .collect()
}

/// How long one probe may take: most of an interval, never under 5 s nor over
/// 5 minutes (the statement timeout bounds each query too).
fn probe_timeout(interval: u64) -> Duration {
    Duration::from_secs((interval * 9 / 10).clamp(5, 300))
}

fn sysuser() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_default()
}

/// Starts the monitoring actors; called once by `start_all`.
pub fn start(settings: Settings, common: &Common) -> Handles {
    let history = MetricHistory::start(
        common.store.clone(),
        settings.history_window,
        common.log.clone(),
    );
    let runner = Runner {
        pg: common.pg.clone(),
        dbnames: settings.dbnames.clone(),
        probe_timeout: probe_timeout(settings.scheduler_interval),
        log: common.log.clone(),
    };
    let collector = Collector::new(
        CollectorSettings {
            interval: Duration::from_secs(settings.scheduler_interval.max(1)),
            periodic: settings.enabled,
            scheduled: scheduled(&settings.probes),
            names: InstanceNames {
                hostname: settings
                    .hostname
                    .clone()
                    .map(|h| h.trim().to_string())
                    .unwrap_or_default(),
                instance: settings.instance.clone(),
                sysuser: sysuser(),
            },
        },
        runner,
        history.clone(),
        common.log.clone(),
    )
    .start();
    let dbnames = match &settings.dbnames {
        DbNames::All => vec!["*".to_string()],
        DbNames::Some(names) => names.clone(),
    };
    Handles {
        collector,
        history,
        config: MonitoringConfig {
            dbnames,
            scheduler_interval: settings.scheduler_interval,
        },
        metrics_token: settings.metrics_token,
    }
}
