//! The embedded durable store: one SQLite database in the agent's `home`. What the
//! agent must remember across a crash or a restart lives here. Opening it applies
//! the schema; writes are synchronous (WAL, synchronous=FULL) so that a row whose
//! write returned survives a `kill -9` and a power cut. It must not be shared
//! between threads: each actor that needs it opens its own connection.
//!
//! A file that SQLite cannot read as a database (corrupt, or not a database at all)
//! does not stop the agent: it is renamed aside with its WAL and a fresh store is
//! created; the caller logs `set_aside()`. Tables of an older layout are migrated by
//! their owners (see `maintenance/task_store.rs`), except the notification log's,
//! migrated here (`migrate_notifications`) before any actor opens it.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::error::Error;

pub const FILE_NAME: &str = "temboard-agent.db";

/// Where the store lives, and how to open a connection to it.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
    set_aside: Option<PathBuf>,
}

impl Store {
    /// Creates `home` if needed and applies the schema, so that a bad `home` stops
    /// the start-up with a clear message instead of failing at the first write.
    ///
    /// The store holds the audit trail and task history: `home` is created 0700 and
    /// the SQLite file 0600 (its WAL and shared-memory files take the file's mode),
    /// whatever the umask; an existing file is tightened to 0600.
    pub fn init(home: &Path) -> Result<Store, Error> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(home)
            .map_err(|e| Error::Store(format!("cannot create home {}: {e}", home.display())))?;
        let mut store = Store {
            path: home.join(FILE_NAME),
            set_aside: None,
        };
        store
            .private_files()
            .map_err(|e| Error::Store(format!("{}: {e}", store.path.display())))?;
        match store.apply_schema() {
            Err(e) if is_unreadable(&e) => {
                store.set_aside = Some(store.move_aside()?);
                store
                    .private_files()
                    .map_err(|e| Error::Store(format!("{}: {e}", store.path.display())))?;
                store.apply_schema()
            }
            other => other,
        }
        .map_err(|e| Error::Store(format!("{}: {e}", store.path.display())))?;
        Ok(store)
    }

    /// Creates the file 0600 if it is missing, and tightens it and its companions.
    fn private_files(&self) -> std::io::Result<()> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", self.path.display()));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(())
    }

    /// Where an unreadable store file was moved at start-up, if it was.
    pub fn set_aside(&self) -> Option<&Path> {
        self.set_aside.as_deref()
    }

    fn apply_schema(&self) -> rusqlite::Result<()> {
        let mut conn = Connection::open(&self.path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(include_str!("../sql/store_schema.sql"))?;
        migrate_notifications(&mut conn)
    }

    /// Renames the file (and its WAL and shared-memory files) to
    /// `temboard-agent.db.unreadable-<UTC time>`.
    fn move_aside(&self) -> Result<PathBuf, Error> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = self.path.with_extension(format!("db.unreadable-{stamp}"));
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", self.path.display()));
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            if from.exists() {
                std::fs::rename(&from, &to).map_err(|e| {
                    Error::Store(format!("cannot move {} aside: {e}", from.display()))
                })?;
            }
        }
        Ok(aside)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn open(&self) -> Result<Connection, Error> {
        let conn = Connection::open(&self.path)
            .map_err(|e| Error::Store(format!("cannot open {}: {e}", self.path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    }
}

/// Gives the notification log the columns of refused attempts (layout 2) if it has
/// not them yet; one transaction, so a crash half-way leaves layout 1 to migrate
/// again at the next start.
fn migrate_notifications(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let migrated: i64 = tx.query_row(
        include_str!("../sql/notification_has_refusals.sql"),
        [],
        |r| r.get(0),
    )?;
    if migrated == 0 {
        tx.execute_batch(include_str!("../sql/notification_migrate_refusals.sql"))?;
    }
    tx.commit()
}

/// SQLite cannot read the file as a database: nothing in it can be trusted.
fn is_unreadable(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_creates_home_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("a/b");
        let store = Store::init(&home).unwrap();
        assert!(store.path().exists());
        let conn = store.open().unwrap();
        let mut list = conn
            .prepare(include_str!("../sql/notification_list.sql"))
            .unwrap();
        assert!(list.query([10]).unwrap().next().unwrap().is_none());
        // A second init on the same home keeps working (idempotent schema).
        Store::init(&home).unwrap();
    }

    #[test]
    fn init_fails_clearly_on_unwritable_home() {
        let err = Store::init(Path::new("/proc/not-a-dir/home")).unwrap_err();
        assert!(err.to_string().contains("/proc/not-a-dir/home"), "{err}");
    }

    #[test]
    fn an_unreadable_file_is_set_aside_and_a_fresh_store_made() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let store = Store::init(dir.path()).unwrap();
        let aside = store.set_aside().expect("set aside").to_path_buf();
        assert_eq!(std::fs::read(&aside).unwrap(), vec![0x5a; 8192]);
        assert!(aside
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("temboard-agent.db.unreadable-"));
        let conn = store.open().unwrap();
        let mut list = conn
            .prepare(include_str!("../sql/notification_list.sql"))
            .unwrap();
        assert!(list.query([10]).unwrap().next().unwrap().is_none());
        // A healthy store is left where it is.
        assert!(Store::init(dir.path()).unwrap().set_aside().is_none());
    }

    #[test]
    fn a_notification_log_of_the_first_layout_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        {
            // The table as agents before refusal rows made it, with their rows.
            let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
            conn.execute_batch(
                "CREATE TABLE notifications (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     date TEXT NOT NULL, username TEXT NOT NULL, message TEXT NOT NULL);
                 INSERT INTO notifications (date, username, message) VALUES
                     ('2026-01-01T10:00:00', 'alice', 'Login'),
                     ('2026-01-01T10:00:01', 'eve', 'Failed login from 192.0.2.1'),
                     ('2026-01-01T10:00:02', 'bob', 'Refused POST /activity/kill: read-only user'),
                     ('2026-01-01T10:00:03', 'alice', 'PostgreSQL reload');",
            )
            .unwrap();
        }
        let store = Store::init(dir.path()).unwrap();
        // Idempotent: a second start finds the new layout and leaves it.
        let store = Store::init(store.path().parent().unwrap()).unwrap();
        let conn = store.open().unwrap();
        let mut stmt = conn
            .prepare("SELECT message, refusal_group IS NOT NULL, attempts FROM notifications ORDER BY id")
            .unwrap();
        let rows: Vec<(String, bool, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                ("Login".to_string(), false, 1),
                ("Failed login from 192.0.2.1".to_string(), true, 1),
                (
                    "Refused POST /activity/kill: read-only user".to_string(),
                    true,
                    1
                ),
                ("PostgreSQL reload".to_string(), false, 1),
            ]
        );
    }
}
