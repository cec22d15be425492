//! The actors' settings (sessions, PostgreSQL, each plugin), mapped from the typed
//! [`Config`]: one function each, called at start-up by `serve` (sessions by SIGHUP too). Pure mappings: no I/O, no validation
//! (the configuration reader has validated every value), and nothing of HTTP.

use std::time::Duration;

use super::{Config, NameList};
use actors::monitoring::runner::DbNames;
use actors::monitoring::ProbeNames;

pub fn sessions(config: &Config) -> actors::session_registry::SessionSettings {
    let t = &config.temboard;
    actors::session_registry::SessionSettings {
        idle_timeout: Duration::from_secs(t.session_timeout),
        lifetime: Duration::from_secs(t.session_lifetime),
        max_sessions: t.max_sessions,
        max_user_sessions: t.max_user_sessions,
        free_failures: t.login_free_failures,
        lockout_failures: t.login_lockout_failures,
        lockout_window: Duration::from_secs(t.login_lockout_window),
    }
}

pub fn postgresql(config: &Config) -> actors::pg_supervisor::PgSettings {
    let pg = &config.postgresql;
    actors::pg_supervisor::PgSettings {
        host: pg.host.clone(),
        port: pg.port,
        user: pg.user.clone(),
        password: pg.password.clone(),
        dbname: pg.dbname.clone(),
        statement_timeout_ms: pg.statement_timeout,
        lock_timeout_ms: pg.lock_timeout,
        connect_timeout: Duration::from_secs(pg.connect_timeout),
        max_connections: pg.max_connections,
        health_interval: Duration::from_secs(5),
        pg_ctl: config.administration.pg_ctl.clone(),
        control_timeout: Duration::from_secs(config.administration.control_timeout),
    }
}

fn enabled(config: &Config, plugin: &str) -> bool {
    config.temboard.plugins.iter().any(|p| p == plugin)
}

pub fn dashboard(config: &Config) -> actors::dashboard::Settings {
    actors::dashboard::Settings {
        enabled: enabled(config, "dashboard"),
        hostname: config.temboard.hostname.clone(),
        config: actors::dashboard::DashboardConfig {
            history_length: config.dashboard.history_length,
            scheduler_interval: config.dashboard.scheduler_interval,
        },
    }
}

pub fn monitoring(config: &Config) -> actors::monitoring::Settings {
    let m = &config.monitoring;
    actors::monitoring::Settings {
        enabled: enabled(config, "monitoring"),
        hostname: config.temboard.hostname.clone(),
        instance: config.postgresql.instance.clone(),
        dbnames: match &m.dbnames {
            NameList::All => DbNames::All,
            NameList::Some(names) => DbNames::Some(names.clone()),
        },
        probes: match &m.probes {
            NameList::All => ProbeNames::Default,
            NameList::Some(names) => ProbeNames::Some(names.clone()),
        },
        scheduler_interval: m.scheduler_interval,
        history_window: m.history_window,
        metrics_token: m.metrics_token.clone(),
    }
}

pub fn activity(config: &Config) -> actors::activity::Settings {
    actors::activity::Settings {
        max_age: Duration::from_millis(config.activity.max_age_ms),
    }
}

/// The plugin has no configuration keys.
pub fn pgconf(_config: &Config) -> actors::pgconf::Settings {
    actors::pgconf::Settings::default()
}

pub fn maintenance(config: &Config) -> actors::maintenance::Settings {
    actors::maintenance::Settings {
        max_parallel: config.maintenance.max_parallel,
        max_pending_tasks: config.maintenance.max_pending_tasks,
    }
}

pub fn statements(config: &Config) -> actors::statements::Settings {
    actors::statements::Settings {
        dbname: config.statements.dbname.clone(),
        max_query_length: config.statements.max_query_length,
    }
}
