//! The agent's own PostgreSQL backends, known by their pids: every connection the
//! agent opens through `connect` (the pool's and the dedicated ones of `PgAccess::
//! connect_to`) asks its server process's pid once, records it, and takes it out
//! when the connection ends. /activity hides these pids and kill/cancel refuse them;
//! `application_name = 'temboard-agent'` is only a label, that any client may set.
//!
//! The set is shared bookkeeping of connections, like the pool itself, not an
//! actor's state: it is written when a connection opens or closes and read by a
//! listing, each holding the lock for a few instructions. Asking an actor by
//! message on every connect would cost more than the lock and add a mailbox on the
//! path of every query.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;
use tokio_postgres::{Client, Config, NoTls};

/// The pids of the agent's live backends; cheap to clone (one shared set).
#[derive(Debug, Clone, Default)]
pub struct OwnBackends(Arc<Mutex<BTreeSet<i32>>>);

impl OwnBackends {
    /// The pids, sorted, to bind to a statement.
    pub fn pids(&self) -> Vec<i32> {
        self.lock().iter().copied().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<i32>> {
        // The set stays consistent whatever panicked while holding it.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Opens a connection with `config`, records its backend's pid in `own` until the
/// connection ends (the client dropped, or the server gone).
pub async fn connect(config: &Config, own: &OwnBackends) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    let (pid_tx, pid_rx) = oneshot::channel::<i32>();
    let forget = own.clone();
    tokio::spawn(async move {
        let _ = connection.await;
        // Sent once recorded; never sent when the pid could not be read.
        if let Ok(pid) = pid_rx.await {
            forget.lock().remove(&pid);
        }
    });
    let row = client
        .query_one(include_str!("../../sql/backend_pid.sql"), &[])
        .await?;
    let pid: i32 = row.try_get("pid")?;
    own.lock().insert(pid);
    let _ = pid_tx.send(pid);
    Ok(client)
}

/// bb8's connection manager for the shared pool: tokio-postgres clients opened by
/// `connect`, so that pooled backends are known too.
#[derive(Debug, Clone)]
pub struct Manager {
    pub config: Config,
    pub own: OwnBackends,
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

// bb8's trait is declared with async_trait: its methods are written here in the
// boxed form that macro produces.
impl bb8::ManageConnection for Manager {
    type Connection = Client;
    type Error = tokio_postgres::Error;

    fn connect<'a, 'b>(&'a self) -> BoxFuture<'b, Result<Client, tokio_postgres::Error>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(connect(&self.config, &self.own))
    }

    fn is_valid<'a, 'c, 'b>(
        &'a self,
        conn: &'c mut Client,
    ) -> BoxFuture<'b, Result<(), tokio_postgres::Error>>
    where
        'a: 'b,
        'c: 'b,
        Self: 'b,
    {
        Box::pin(async move { conn.simple_query("").await.map(|_| ()) })
    }

    fn has_broken(&self, conn: &mut Client) -> bool {
        conn.is_closed()
    }
}
