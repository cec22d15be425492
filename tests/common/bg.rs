//! Background psql sessions for tests that need PostgreSQL busy while they look:
//! a session idle in a transaction, a lock held or waited for, a long query. The
//! session ends when the value is dropped, also when a test fails.
#![allow(dead_code)]

use std::io::Write;
use std::process::Child;
use std::time::Duration;

use super::pg::{wait_until, PgCluster};

pub struct Bg(pub Child);

impl Bg {
    /// A session running `sql` in the background (e.g. waiting for a lock).
    pub fn run(pg: &PgCluster, db: &str, sql: &str) -> Bg {
        Bg(pg.spawn_psql(db, sql))
    }

    /// A session reading SQL from the test: it stays open between statements.
    pub fn open(pg: &PgCluster, db: &str) -> Bg {
        Bg(pg.spawn_psql_stdin(db))
    }

    /// Sends a statement to a session made by `open`.
    pub fn send(&mut self, sql: &str) {
        let stdin = self
            .0
            .stdin
            .as_mut()
            .expect("a session opened with Bg::open");
        writeln!(stdin, "{sql}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits until psql exits; answers whether it succeeded and its stderr.
    pub fn wait_exit(&mut self, deadline: Duration, what: &str) -> (bool, String) {
        let mut status = None;
        wait_until(deadline, what, || {
            status = self.0.try_wait().unwrap();
            status.is_some()
        });
        let mut stderr = String::new();
        if let Some(mut err) = self.0.stderr.take() {
            use std::io::Read;
            err.read_to_string(&mut stderr).ok();
        }
        (status.unwrap().success(), stderr)
    }

    pub fn running(&mut self) -> bool {
        self.0.try_wait().unwrap().is_none()
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}
