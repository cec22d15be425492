//! PgSupervisor: owns the connection pool to the PostgreSQL instance, the instance's
//! state (up, down, starting, stopping, and since when) and the control actions
//! (start, stop, restart, reload; one at a time). Every connection carries
//! `application_name = 'temboard-agent'`, a statement timeout, a lock timeout and
//! `search_path = pg_catalog, pg_temp` (nothing a user creates is found unqualified).
//! When the instance is down, a request fails at once with the reason (no retry
//! loop, no hang), and the pool recovers by itself when the instance comes back
//! (after a restart too): connections the server closed are dropped when found,
//! never handed out. It runs on its own arbiter so that PostgreSQL I/O never
//! competes with the other actors; a control action runs as a spawned future, so
//! that the mailbox keeps being served while PostgreSQL restarts.
//!
//! Files: `control` (the `Control` message and what an action does), `command`
//! (running the pg_ctl template, no shell), `readiness` (waiting for the instance
//! after a command), `conf_reload` (the reload and its wait, shared with pgconf).

mod command;
pub(crate) mod conf_reload;
pub mod control;
pub mod own_backends;
mod readiness;

pub use control::{Action, Control};

use std::time::Duration;

use crate::error::Error;
use crate::notification_log::Notify;
use crate::pg_row::Column;
use actix::prelude::*;
use chrono::{DateTime, Local};

pub use own_backends::{ConnectError, OwnBackends};

/// bb8's pool, with the size it was built with (bb8 does not tell it).
#[derive(Clone)]
pub struct Pool {
    inner: bb8::Pool<own_backends::Manager>,
    max: u32,
}

/// How to reach the instance.
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// A directory (unix socket) or a host name / address.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    pub statement_timeout_ms: u64,
    pub lock_timeout_ms: u64,
    pub connect_timeout: Duration,
    /// `[postgresql] max_connections`: the agent's connections at most, pooled and
    /// dedicated together; the pool keeps half of them at most, so that dedicated
    /// connections (other databases) always find room.
    pub max_connections: u32,
    pub health_interval: Duration,
    /// `[administration] pg_ctl`: the control command template (`%s` = action).
    pub pg_ctl: Option<String>,
    /// `[administration] control_timeout`: the bound of one control action.
    pub control_timeout: Duration,
}

impl PgSettings {
    pub fn client_config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name("temboard-agent")
            .connect_timeout(self.connect_timeout)
            // search_path pinned to the catalog (pg_temp last, so that a temporary
            // object never shadows it): the agent runs as a superuser in databases
            // where other roles may create operators and functions in public, and an
            // unqualified operator on mixed types would pick theirs (CVE-2018-1058).
            .options(format!(
                "-c statement_timeout={} -c lock_timeout={} -c search_path=pg_catalog,pg_temp",
                self.statement_timeout_ms, self.lock_timeout_ms
            ));
        if let Some(password) = &self.password {
            config.password(password);
        }
        config
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceState {
    /// Before the first check.
    Unknown,
    Up,
    Down,
    /// Started (by the agent or another hand) and not yet accepting connections.
    Starting,
    /// Being stopped (by the agent or another hand).
    Stopping,
}

impl InstanceState {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Unknown => "unknown",
            InstanceState::Up => "up",
            InstanceState::Down => "down",
            InstanceState::Starting => "starting",
            InstanceState::Stopping => "stopping",
        }
    }

    /// The state a failed connection attempt shows: the server itself says when it
    /// is starting up or shutting down (SQLSTATE 57P03); anything else is down.
    fn from_failure(reason: &str) -> InstanceState {
        if reason.contains("is starting up") || reason.contains("not yet accepting connections") {
            InstanceState::Starting
        } else if reason.contains("is shutting down") {
            InstanceState::Stopping
        } else {
            InstanceState::Down
        }
    }
}

pub struct PgSupervisor {
    pool: Pool,
    settings: PgSettings,
    state: InstanceState,
    since: DateTime<Local>,
    checking: bool,
    /// The control action running, if any: a second one is refused meanwhile.
    control: Option<control::Action>,
    /// Bumped when a control action starts or ends: what a check or a query saw
    /// before that is stale and is not applied.
    epoch: u64,
    /// The notification log: every control action and its outcome go there.
    audit: Recipient<Notify>,
    log: slog::Logger,
}

impl PgSupervisor {
    pub fn new(
        settings: PgSettings,
        pool: Pool,
        audit: Recipient<Notify>,
        log: slog::Logger,
    ) -> PgSupervisor {
        PgSupervisor {
            pool,
            settings,
            audit,
            state: InstanceState::Unknown,
            since: Local::now(),
            checking: false,
            control: None,
            epoch: 0,
            log,
        }
    }

    pub fn start_in_own_arbiter(
        settings: PgSettings,
        pool: Pool,
        audit: Recipient<Notify>,
        log: slog::Logger,
    ) -> Addr<PgSupervisor> {
        let arbiter = Arbiter::new();
        PgSupervisor::start_in_arbiter(&arbiter.handle(), move |_| {
            PgSupervisor::new(settings, pool, audit, log)
        })
    }

    fn set_state(&mut self, state: InstanceState, reason: Option<&str>) {
        if state == self.state {
            return;
        }
        let (host, port, was) = (&self.settings.host, self.settings.port, self.state.as_str());
        match state {
            InstanceState::Up => slog::info!(self.log, "PostgreSQL is up";
                "host" => host, "port" => port, "was" => was),
            InstanceState::Starting => slog::info!(self.log, "PostgreSQL is starting";
                "host" => host, "port" => port, "was" => was),
            InstanceState::Stopping => slog::info!(self.log, "PostgreSQL is stopping";
                "host" => host, "port" => port, "was" => was),
            // No reason: the agent stopped it on request.
            InstanceState::Down if reason.is_none() => slog::info!(self.log, "PostgreSQL is down";
                "host" => host, "port" => port, "was" => was),
            InstanceState::Down | InstanceState::Unknown => {
                slog::warn!(self.log, "PostgreSQL is unreachable";
                "host" => host, "port" => port, "was" => was,
                "reason" => reason.unwrap_or(""))
            }
        }
        self.state = state;
        self.since = Local::now();
    }

    /// What a check or a query saw of the instance. While a control action runs,
    /// the action owns the state (it knows more), except that a restart seen down
    /// is starting again.
    fn observe(&mut self, epoch: u64, seen: Result<(), &str>) {
        if epoch != self.epoch {
            return;
        }
        match (self.control, seen) {
            (Some(control::Action::Restart), Err(_)) => {
                if self.state == InstanceState::Stopping {
                    self.set_state(InstanceState::Starting, None)
                }
            }
            (Some(_), _) => {}
            (None, Ok(())) => self.set_state(InstanceState::Up, None),
            (None, Err(why)) => self.set_state(InstanceState::from_failure(why), Some(why)),
        }
    }

    fn check_health(&mut self, ctx: &mut Context<Self>) {
        // A check never overlaps the previous one.
        if self.checking {
            return;
        }
        self.checking = true;
        let pool = self.pool.clone();
        let epoch = self.epoch;
        let check = async move {
            let conn = checkout(&pool).await?;
            conn.simple_query(include_str!("../../sql/health_check.sql"))
                .await
                .map_err(|e| Error::query("health check", e))?;
            Ok::<(), Error>(())
        };
        ctx.spawn(check.into_actor(self).map(move |result, act, _| {
            act.checking = false;
            match result {
                Ok(()) => act.observe(epoch, Ok(())),
                Err(Error::PgUnreachable(why)) => act.observe(epoch, Err(&why)),
                Err(err) => act.observe(epoch, Err(&err.to_string())),
            }
        }));
    }
}

/// The pool every actor shares (through `PgAccess`): connections are made on demand
/// and dropped after five idle minutes. Their backends' pids are recorded in `own`.
pub fn build_pool(settings: &PgSettings, own: &OwnBackends) -> Pool {
    let manager = own_backends::Manager {
        config: settings.client_config(),
        own: own.clone(),
    };
    let max = pool_size(settings);
    let inner = bb8::Pool::builder()
        .max_size(max)
        .min_idle(None)
        .connection_timeout(settings.connect_timeout)
        .idle_timeout(Some(Duration::from_secs(300)))
        .retry_connection(false)
        // `checkout` drops connections that died with a restart.
        .test_on_check_out(false)
        .build_unchecked(manager);
    Pool { inner, max }
}

/// Connections the pool keeps at most: half the agent's.
pub fn pool_size(settings: &PgSettings) -> u32 {
    (settings.max_connections / 2).max(1)
}

pub type Connection<'a> = bb8::PooledConnection<'a, own_backends::Manager>;

/// A live connection from the pool. bb8 alone would wait for its whole timeout when the
/// instance is down and then report a bare "timed out"; connecting ourselves when no
/// connection is idle fails at once with the real reason (no such socket, refused,
/// authentication failed). A connection whose server went away (restart) is dropped
/// instead of being handed out.
///
/// With the pool full and every connection in use, it waits for one to come back
/// (`connect_timeout` at most, then `Busy`): a connection made then would not fit in
/// the pool and would only take one of the agent's slots for nothing.
pub async fn checkout(pool: &Pool) -> Result<Connection<'_>, Error> {
    let (max, pool) = (pool.max, &pool.inner);
    // Each closed connection found is dropped, so this many tries always suffice.
    let attempts = pool.state().connections + 1;
    for _ in 0..attempts {
        let state = pool.state();
        if state.idle_connections == 0 && state.connections < max {
            let fresh = pool.dedicated_connection().await.map_err(connect_error)?;
            // A full pool refuses it: another request just returned one.
            let _ = pool.add(fresh);
        }
        let conn = pool.get().await.map_err(unreachable)?;
        if !conn.is_closed() {
            return Ok(conn);
        }
        // Dropping a closed connection takes it out of the pool.
    }
    Err(Error::PgUnreachable(
        "every pooled connection was closed by the server".to_string(),
    ))
}

fn unreachable(err: bb8::RunError<ConnectError>) -> Error {
    match err {
        bb8::RunError::User(e) => connect_error(e),
        // Every pooled connection stayed in use while the pool was full.
        bb8::RunError::TimedOut => busy(None),
    }
}

/// A connection that could not be had: PostgreSQL's reason, or the cap reached.
pub(crate) fn connect_error(err: ConnectError) -> Error {
    match err {
        ConnectError::Pg(e) => Error::PgUnreachable(describe_pg_error(&e)),
        ConnectError::Busy { max } => busy(Some(max)),
    }
}

fn busy(max: Option<u32>) -> Error {
    let count = max.map(|m| format!("{m} ")).unwrap_or_default();
    Error::Busy(format!(
        "All {count}PostgreSQL connections of the agent are in use ([postgresql] \
         max_connections); try again shortly."
    ))
}

/// tokio-postgres puts the useful part (the OS error, the server message) in the source.
pub(crate) fn describe_pg_error(err: &tokio_postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return db.message().to_string();
    }
    match std::error::Error::source(err) {
        Some(source) => format!("{err}: {source}"),
        None => err.to_string(),
    }
}

impl Actor for PgSupervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.check_health(ctx);
        ctx.run_interval(self.settings.health_interval, |act, ctx| {
            act.check_health(ctx)
        });
    }
}

/// What /discover tells of the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceFacts {
    pub version: String,
    pub server_version: String,
    pub server_version_num: i32,
    pub data_directory: String,
    pub port: i32,
}

#[derive(Message)]
#[rtype(result = "Result<InstanceFacts, Error>")]
pub struct DiscoverInstance;

impl Handler<DiscoverInstance> for PgSupervisor {
    type Result = ResponseActFuture<Self, Result<InstanceFacts, Error>>;

    fn handle(&mut self, _: DiscoverInstance, _: &mut Self::Context) -> Self::Result {
        let pool = self.pool.clone();
        let epoch = self.epoch;
        let query = async move {
            let conn = checkout(&pool).await?;
            let row = conn
                .query_one(include_str!("../../sql/discover.sql"), &[])
                .await
                .map_err(|e| Error::query("discover", describe_pg_error(&e)))?;
            Ok(InstanceFacts {
                version: row.col("version")?,
                server_version: row.col("server_version")?,
                server_version_num: row.col("server_version_num")?,
                data_directory: row.col("data_directory")?,
                port: row.col("port")?,
            })
        };
        Box::pin(query.into_actor(self).map(move |result, act, _| {
            // A request is a fresher health check than the timer.
            match &result {
                Ok(_) => act.observe(epoch, Ok(())),
                Err(Error::PgUnreachable(why)) => act.observe(epoch, Err(why)),
                Err(_) => {}
            }
            result
        }))
    }
}

/// The instance state and since when it holds.
#[derive(Debug, Clone, MessageResponse)]
pub struct InstanceStatus {
    pub state: InstanceState,
    pub since: DateTime<Local>,
}

#[derive(Message)]
#[rtype(result = "InstanceStatus")]
pub struct GetInstanceState;

impl Handler<GetInstanceState> for PgSupervisor {
    type Result = InstanceStatus;

    fn handle(&mut self, _: GetInstanceState, _: &mut Self::Context) -> Self::Result {
        InstanceStatus {
            state: self.state,
            since: self.since,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connection_carries_name_timeouts_and_search_path() {
        let settings = PgSettings {
            host: "/run/postgresql".to_string(),
            port: 5433,
            user: "postgres".to_string(),
            password: Some("pw".to_string()),
            dbname: "postgres".to_string(),
            statement_timeout_ms: 1234,
            lock_timeout_ms: 567,
            connect_timeout: Duration::from_secs(3),
            max_connections: 4,
            health_interval: Duration::from_secs(5),
            pg_ctl: None,
            control_timeout: Duration::from_secs(300),
        };
        let config = settings.client_config();
        assert_eq!(config.get_application_name(), Some("temboard-agent"));
        assert_eq!(
            config.get_options(),
            Some("-c statement_timeout=1234 -c lock_timeout=567 -c search_path=pg_catalog,pg_temp")
        );
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(config.get_password(), Some(&b"pw"[..]));
    }

    #[test]
    fn failed_connections_tell_starting_and_stopping() {
        let state = InstanceState::from_failure;
        assert_eq!(
            state("the database system is starting up"),
            InstanceState::Starting
        );
        assert_eq!(
            state("the database system is shutting down"),
            InstanceState::Stopping
        );
        assert_eq!(
            state("error connecting to server: No such file or directory (os error 2)"),
            InstanceState::Down
        );
    }
}
