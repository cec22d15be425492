//! The SQL side of activity: listing backends (all, waiting, blocking) with the
//! request's filters as bind parameters, naming the relations of locks held in other
//! databases, and signalling backends. Every statement is a file of
//! `sql/activity/`. It knows nothing of /proc: the actor adds the OS view.

use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::Row;

use crate::error::Error;
use crate::pg_access::PgAccess;

/// Default and maximum number of rows of a listing.
pub const DEFAULT_LIMIT: u32 = 300;
pub const MAX_LIMIT: u32 = 5000;

/// Which backends a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Every client backend.
    All,
    /// Those waiting for a lock.
    Waiting,
    /// Those holding a lock another backend waits for.
    Blocking,
}

impl Kind {
    /// The listing's statement: the backends and filters of `backends.sql` (and the
    /// locks of `locks.sql`) are written once, then what the kind selects from them.
    fn sql(self) -> &'static str {
        match self {
            Kind::All => concat!(
                include_str!("../../sql/activity/backends.sql"),
                include_str!("../../sql/activity/activity.sql"),
            ),
            Kind::Waiting => concat!(
                include_str!("../../sql/activity/backends.sql"),
                include_str!("../../sql/activity/locks.sql"),
                include_str!("../../sql/activity/waiting.sql"),
            ),
            Kind::Blocking => concat!(
                include_str!("../../sql/activity/backends.sql"),
                include_str!("../../sql/activity/locks.sql"),
                include_str!("../../sql/activity/blocking.sql"),
            ),
        }
    }

    fn context(self) -> &'static str {
        match self {
            Kind::All => "list the backends",
            Kind::Waiting => "list the backends waiting for a lock",
            Kind::Blocking => "list the backends blocking others",
        }
    }
}

/// The filters of a listing; the rows beyond `limit` are the shortest running ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    pub limit: u32,
    /// Seconds.
    pub min_duration: Option<f64>,
    pub dbname: Option<String>,
    pub user: Option<String>,
}

impl Default for Filters {
    fn default() -> Filters {
        Filters {
            limit: DEFAULT_LIMIT,
            min_duration: None,
            dbname: None,
            user: None,
        }
    }
}

/// What every listing says of a backend.
#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    pub pid: i32,
    pub database: Option<String>,
    pub user: Option<String>,
    /// Seconds, rounded to the millisecond.
    pub duration: f64,
    pub state: Option<String>,
    pub query: Option<String>,
}

/// What a listing adds to `Backend`, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Activity {
        client: Option<String>,
        /// Waiting for a lock.
        waiting: bool,
    },
    Lock {
        locktype: String,
        mode: String,
        /// Qualified name; None when the lock is not on a relation.
        relation: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BackendRow {
    pub backend: Backend,
    pub detail: Detail,
}

/// A lock on a relation of another database: named by a query run there.
struct Unnamed {
    row: usize,
    database: String,
    oid: u32,
}

fn backend(row: &Row) -> Result<Backend, tokio_postgres::Error> {
    let duration: f64 = row.try_get("duration")?;
    Ok(Backend {
        pid: row.try_get("pid")?,
        database: row.try_get("database")?,
        user: row.try_get("user")?,
        duration: (duration * 1000.0).round() / 1000.0,
        state: row.try_get("state")?,
        query: row.try_get("query")?,
    })
}

/// The backends of `kind` matching `filters`, longest running first.
pub async fn list(pg: &PgAccess, kind: Kind, filters: &Filters) -> Result<Vec<BackendRow>, Error> {
    let conn = pg.conn().await?;
    let limit = i64::from(filters.limit);
    // Read after the checkout: the connection just opened for it is in.
    let own = pg.own_backends().pids();
    let rows = conn
        .query(
            kind.sql(),
            &[
                &filters.min_duration,
                &filters.dbname,
                &filters.user,
                &limit,
                &own,
            ],
        )
        .await
        .map_err(|e| Error::query(kind.context(), e))?;
    drop(conn);
    let mut out = Vec::with_capacity(rows.len());
    let mut unnamed = Vec::new();
    for row in &rows {
        let (backend_row, missing) =
            map_row(kind, row).map_err(|e| Error::query(kind.context(), e))?;
        if let Some((database, oid)) = missing {
            unnamed.push(Unnamed {
                row: out.len(),
                database,
                oid,
            });
        }
        out.push(backend_row);
    }
    name_relations(pg, &mut out, unnamed).await;
    Ok(out)
}

type MissingName = Option<(String, u32)>;

fn map_row(kind: Kind, row: &Row) -> Result<(BackendRow, MissingName), tokio_postgres::Error> {
    let backend = backend(row)?;
    if kind == Kind::All {
        let detail = Detail::Activity {
            client: row.try_get("client")?,
            waiting: row.try_get("waiting")?,
        };
        return Ok((BackendRow { backend, detail }, None));
    }
    let oid: Option<u32> = row.try_get("relation_oid")?;
    let name: Option<String> = row.try_get("relation_name")?;
    let database: Option<String> = row.try_get("relation_database")?;
    let missing = match (oid, &name, database) {
        (Some(oid), None, Some(database)) => Some((database, oid)),
        _ => None,
    };
    // Until named in its database, a relation reads as its oid (as regclass does).
    let relation = name.or_else(|| oid.map(|o| o.to_string()));
    let detail = Detail::Lock {
        locktype: row.try_get("locktype")?,
        mode: row.try_get("mode")?,
        relation,
    };
    Ok((BackendRow { backend, detail }, missing))
}

/// Names relations locked in other databases than the agent's, with one query per
/// such database. A database that cannot be reached leaves the oids: the listing
/// matters more than the names.
async fn name_relations(pg: &PgAccess, rows: &mut [BackendRow], unnamed: Vec<Unnamed>) {
    let mut by_database: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for u in &unnamed {
        by_database.entry(&u.database).or_default().insert(u.oid);
    }
    let mut names: BTreeMap<(String, u32), String> = BTreeMap::new();
    for (database, oids) in by_database {
        let oids: Vec<u32> = oids.into_iter().collect();
        let Ok(client) = pg.connect_to(database).await else {
            continue;
        };
        let Ok(found) = client
            .query(
                include_str!("../../sql/activity/relation_names.sql"),
                &[&oids],
            )
            .await
        else {
            continue;
        };
        for row in found {
            if let (Ok(oid), Ok(name)) = (row.try_get::<_, u32>(0), row.try_get::<_, String>(1)) {
                names.insert((database.to_string(), oid), name);
            }
        }
    }
    for u in unnamed {
        // Several rows may name the same relation (one per backend locking it).
        if let Some(name) = names.get(&(u.database, u.oid)) {
            if let Detail::Lock { relation, .. } = &mut rows[u.row].detail {
                *relation = Some(name.clone());
            }
        }
    }
}

/// How to signal a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// pg_terminate_backend: ends the session.
    Terminate,
    /// pg_cancel_backend: cancels the running query, the session stays.
    Cancel,
}

impl Signal {
    /// The `$3` of `signal.sql`: terminate rather than cancel.
    fn terminates(self) -> bool {
        self == Signal::Terminate
    }

    /// The verb of logs and notifications.
    pub fn done(self) -> &'static str {
        match self {
            Signal::Terminate => "terminated",
            Signal::Cancel => "cancelled",
        }
    }
}

/// Whether each pid was signalled; a pid that is not a client backend of the
/// instance is never signalled. One statement per pid, so that a refusal (e.g. no
/// privilege over a superuser's backend) costs that pid only; its reason is logged.
pub async fn signal(
    pg: &PgAccess,
    signal: Signal,
    pids: &[i32],
    log: &slog::Logger,
) -> Result<Vec<(i32, bool)>, Error> {
    let context = match signal {
        Signal::Terminate => "terminate backends",
        Signal::Cancel => "cancel queries",
    };
    let conn = pg.conn().await?;
    let statement = conn
        .prepare(include_str!("../../sql/activity/signal.sql"))
        .await
        .map_err(|e| Error::query(context, e))?;
    let own = pg.own_backends().pids();
    let mut out = Vec::with_capacity(pids.len());
    for &pid in pids {
        let done = match conn
            .query_one(&statement, &[&pid, &own, &signal.terminates()])
            .await
        {
            Ok(row) => row.try_get::<_, bool>(0).unwrap_or(false),
            Err(err) => {
                slog::warn!(log, "backend not signalled"; "pid" => pid,
                    "signal" => signal.done(), "error" => %err);
                false
            }
        };
        out.push((pid, done));
    }
    Ok(out)
}
