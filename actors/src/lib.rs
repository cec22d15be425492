//! The actors of temboard-agent and what they run. This crate knows nothing of HTTP:
//! the binary's `src/http` maps replies to status codes and JSON.
//!
//! Code map:
//! - `session_registry`: users, login sessions, brute-force guard.
//! - `notification_log`: the audit trail, in the durable store.
//! - `pg_supervisor`: the connection pool to the instance and its state.
//! - `agent_status`: start and reload times of the agent.
//! - `store`: the embedded SQLite database in `home` (what survives a restart).
//! - `users`: the users file and password hashes (pure functions).
//! - `host`: pure functions over /proc (memory, CPUs, host name).
//! - `error`: the error of every actor reply, with context.
//!
//! Invariants: an actor owns its state, nobody else holds it; SQL lives in `sql/`;
//! every PostgreSQL query runs with a statement and a lock timeout.

pub mod agent_status;
pub mod error;
pub mod host;
pub mod notification_log;
pub mod pg_supervisor;
pub mod session_registry;
pub mod store;
pub mod users;

pub use error::Error;
