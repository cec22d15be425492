//! The embedded durable store: one SQLite database in the agent's `home`. What the
//! agent must remember across a crash or a restart lives here. Opening it applies
//! the schema; writes are synchronous (WAL, synchronous=FULL) so that a row whose
//! write returned survives a `kill -9` and a power cut. It must not be shared
//! between threads: each actor that needs it opens its own connection.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::error::Error;

pub const FILE_NAME: &str = "temboard-agent.db";

/// Where the store lives, and how to open a connection to it.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// Creates `home` if needed and applies the schema, so that a bad `home` stops
    /// the start-up with a clear message instead of failing at the first write.
    pub fn init(home: &Path) -> Result<Store, Error> {
        std::fs::create_dir_all(home)
            .map_err(|e| Error::Store(format!("cannot create home {}: {e}", home.display())))?;
        let store = Store {
            path: home.join(FILE_NAME),
        };
        let conn = store.open()?;
        conn.execute_batch(include_str!("../sql/store_schema.sql"))
            .map_err(|e| Error::Store(format!("{}: {e}", store.path.display())))?;
        Ok(store)
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
}
