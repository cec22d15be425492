//! How actors other than `PgSupervisor` reach PostgreSQL: the shared pool to the
//! configured database, and dedicated connections to other databases of the same
//! instance with the same options (application_name, statement and lock timeouts,
//! search_path); both hold one of the agent's connection slots and record their
//! backends' pids (`own_backends`).
//! It holds no state of its own: the pool is bb8's handle, cheap to clone.

use std::sync::Arc;

use crate::error::Error;
use crate::pg_supervisor::own_backends;
use crate::pg_supervisor::{
    checkout, connect_error, ConnectError, Connection, OwnBackends, PgSettings, Pool,
};

#[derive(Clone)]
pub struct PgAccess {
    pool: Pool,
    settings: Arc<PgSettings>,
    own: OwnBackends,
}

impl PgAccess {
    pub fn new(settings: PgSettings) -> PgAccess {
        let own = OwnBackends::new(settings.max_connections, settings.connect_timeout);
        let pool = crate::pg_supervisor::build_pool(&settings, &own);
        PgAccess {
            pool,
            settings: Arc::new(settings),
            own,
        }
    }

    /// The pids of the agent's own backends (pooled and dedicated connections).
    pub fn own_backends(&self) -> &OwnBackends {
        &self.own
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn settings(&self) -> &PgSettings {
        &self.settings
    }

    /// A live pooled connection to the configured database; fails fast with the
    /// reason when PostgreSQL is unreachable.
    pub async fn conn(&self) -> Result<Connection<'_>, Error> {
        checkout(&self.pool).await
    }

    /// A dedicated connection to `dbname` on the same instance, closed when the
    /// client is dropped. The database name is passed as a connection parameter,
    /// never formatted into SQL.
    pub async fn connect_to(&self, dbname: &str) -> Result<tokio_postgres::Client, Error> {
        let mut config = self.settings.client_config();
        config.dbname(dbname);
        own_backends::connect(&config, &self.own)
            .await
            .map_err(|e| match e {
                // The server answered: e.g. no such database, or not allowed in it.
                ConnectError::Pg(e) if e.as_db_error().is_some() => Error::query(
                    format!("connect to database {dbname}"),
                    e.as_db_error().map(|db| db.message()).unwrap_or_default(),
                ),
                other => connect_error(other),
            })
    }
}
