//! The dashboard plugin's actors: MetricsSampler (takes a sample every
//! `scheduler_interval` seconds, answers live readings) and DashboardHistory (keeps
//! the last `history_length` samples in memory, answers /dashboard and
//! /dashboard/history). `sample` is what a sample is, `queries` how PostgreSQL is
//! read. Nothing here knows HTTP.

pub mod dashboard_history;
pub mod metrics_sampler;
pub mod queries;
pub mod sample;

use std::time::Duration;

use actix::prelude::*;
use serde::Serialize;

use crate::Common;
use dashboard_history::DashboardHistory;
use metrics_sampler::{MetricsSampler, SamplerSettings};

/// What the dashboard actors need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether the dashboard plugin is enabled: without it, no periodic sampling.
    pub enabled: bool,
    /// `[temboard] hostname`; the resolver is asked when it is not set.
    pub hostname: Option<String>,
    pub config: DashboardConfig,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: false,
            hostname: None,
            config: DashboardConfig {
                history_length: 150,
                scheduler_interval: 2,
            },
        }
    }
}

/// `[dashboard]`, as /dashboard/config answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DashboardConfig {
    pub history_length: usize,
    /// Seconds.
    pub scheduler_interval: u64,
}

/// Addresses of the dashboard actors, and the configuration they run with, for the
/// HTTP layer.
#[derive(Clone)]
pub struct Handles {
    pub sampler: Addr<MetricsSampler>,
    pub history: Addr<DashboardHistory>,
    pub config: DashboardConfig,
}

/// Starts the dashboard actors; called once by `start_all`.
pub fn start(settings: Settings, common: &Common) -> Handles {
    // Each actor needs the other's address: the history's context is made first.
    let history_ctx = Context::<DashboardHistory>::new();
    let history = history_ctx.address();
    let sampler = MetricsSampler::new(
        SamplerSettings {
            configured_hostname: settings
                .hostname
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty()),
            interval: Duration::from_secs(settings.config.scheduler_interval.max(1)),
            periodic: settings.enabled,
        },
        common.pg.clone(),
        history.clone(),
        common.log.clone(),
    )
    .start();
    history_ctx.run(DashboardHistory::new(
        settings.config.history_length,
        sampler.clone(),
    ));
    Handles {
        sampler,
        history,
        config: settings.config,
    }
}
