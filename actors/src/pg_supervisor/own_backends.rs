//! The agent's own PostgreSQL backends: how many there may be, and which they are.
//!
//! How many: every connection the agent opens through `connect` (the pool's and the
//! dedicated ones of `PgAccess::connect_to`) holds one of `[postgresql]
//! max_connections` slots for its whole life. When none is free, `connect` waits
//! `connect_timeout` at most, then answers `Busy` (503 at the HTTP layer): the agent
//! never takes more of the server's slots than configured, superuser-reserved ones
//! included, whatever the load of its API.
//!
//! Which: each connection asks its server process's pid once, records it, and takes
//! it out when the connection ends. /activity hides these pids and kill/cancel refuse
//! them; `application_name = 'temboard-agent'` is only a label, that any client may
//! set.
//!
//! This is shared bookkeeping of connections, like the pool itself, not an actor's
//! state: the pid set is written when a connection opens or closes and read by a
//! listing, each holding the lock for a few instructions. Asking an actor by message
//! on every connect would cost more than the lock and add a mailbox on the path of
//! every query.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{oneshot, Semaphore};
use tokio_postgres::{Client, Config, NoTls};

/// The agent's live backends and the slots left; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct OwnBackends {
    pids: Arc<Mutex<BTreeSet<i32>>>,
    slots: Arc<Semaphore>,
    max: u32,
    wait: Duration,
}

/// Why `connect` gave no connection.
#[derive(Debug)]
pub enum ConnectError {
    /// Every slot is held by a connection in use.
    Busy {
        max: u32,
    },
    Pg(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for ConnectError {
    fn from(err: tokio_postgres::Error) -> ConnectError {
        ConnectError::Pg(err)
    }
}

impl OwnBackends {
    /// `max` connections at most; a connection waits `wait` at most for a slot.
    pub fn new(max: u32, wait: Duration) -> OwnBackends {
        let max = max.max(1);
        OwnBackends {
            pids: Arc::default(),
            slots: Arc::new(Semaphore::new(max as usize)),
            max,
            wait,
        }
    }

    /// The pids, sorted, to bind to a statement.
    pub fn pids(&self) -> Vec<i32> {
        self.lock().iter().copied().collect()
    }

    pub fn max(&self) -> u32 {
        self.max
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<i32>> {
        // The set stays consistent whatever panicked while holding it.
        self.pids.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Opens a connection with `config` once a slot is free (waiting `own.wait` at
/// most), and records its backend's pid in `own`; both are given back when the
/// connection ends (the client dropped, or the server gone).
pub async fn connect(config: &Config, own: &OwnBackends) -> Result<Client, ConnectError> {
    let busy = ConnectError::Busy { max: own.max };
    let slot = match tokio::time::timeout(own.wait, own.slots.clone().acquire_owned()).await {
        Ok(Ok(slot)) => slot,
        // Timed out, or (never: it is not closed) the semaphore closed.
        _ => return Err(busy),
    };
    let (client, connection) = config.connect(NoTls).await?;
    let (pid_tx, pid_rx) = oneshot::channel::<i32>();
    let forget = own.clone();
    tokio::spawn(async move {
        let _ = connection.await;
        // Sent once recorded; never sent when the pid could not be read.
        if let Ok(pid) = pid_rx.await {
            backend_gone(pid).await;
            forget.lock().remove(&pid);
        }
        drop(slot);
    });
    let row = client
        .query_one(include_str!("../../sql/backend_pid.sql"), &[])
        .await?;
    let pid: i32 = row.try_get("pid")?;
    own.lock().insert(pid);
    let _ = pid_tx.send(pid);
    Ok(client)
}

/// Waits (a little, at most) for the server process of a closed connection to exit:
/// it still holds its connection slot of the server until then, and the agent's slot
/// is given back only after it, so that the cap holds on the server's side too. The
/// agent runs next to its instance: when the pid is not visible from here (another
/// pid namespace), there is nothing to wait for.
async fn backend_gone(pid: i32) {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    let deadline = tokio::time::Instant::now() + BACKEND_EXIT_WAIT;
    // Signal 0 checks that the process exists (EPERM: it does, as another user).
    while !matches!(kill(Pid::from_raw(pid), None), Err(Errno::ESRCH)) {
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// How long a closed connection's server process is waited for.
const BACKEND_EXIT_WAIT: Duration = Duration::from_secs(1);

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
    type Error = ConnectError;

    fn connect<'a, 'b>(&'a self) -> BoxFuture<'b, Result<Client, ConnectError>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(connect(&self.config, &self.own))
    }

    fn is_valid<'a, 'c, 'b>(
        &'a self,
        conn: &'c mut Client,
    ) -> BoxFuture<'b, Result<(), ConnectError>>
    where
        'a: 'b,
        'c: 'b,
        Self: 'b,
    {
        Box::pin(async move {
            conn.simple_query("")
                .await
                .map(|_| ())
                .map_err(ConnectError::Pg)
        })
    }

    fn has_broken(&self, conn: &mut Client) -> bool {
        conn.is_closed()
    }
}
