//! The configuration reload, written once: the control action `reload` (`control`)
//! and pgconf after `ALTER SYSTEM` both read `pg_conf_load_time()`, ask for the
//! reload, and wait until that time moves, within a deadline. The postmaster handles
//! SIGHUP asynchronously: without the wait, "done" could be answered before a
//! changed setting is in effect.
//!
//! Where the time is read is the caller's choice: a fresh connection shows the
//! postmaster's (a new backend inherits it), an open session its own, which moves
//! once that session has processed the signal the postmaster sends after its own
//! reload. This file holds no state and knows no actor.

use std::future::Future;
use std::time::Duration;

use tokio::time::{sleep, Instant};
use tokio_postgres::types::FromSql;
use tokio_postgres::Client;

use super::describe_pg_error;
use crate::error::Error;
use crate::pg_row::Column;

/// Why one of the reload's statements failed.
#[derive(Debug)]
pub enum SqlFailure {
    /// PostgreSQL (or the connection to it) refused the statement.
    Pg(tokio_postgres::Error),
    /// The answer was not what the statement promises (e.g. a NULL).
    Answer(Error),
}

impl SqlFailure {
    /// PostgreSQL's own message, or the detail of the unexpected answer.
    pub fn describe(&self) -> String {
        match self {
            SqlFailure::Pg(err) => describe_pg_error(err),
            SqlFailure::Answer(err) => err.to_string(),
        }
    }
}

/// When the configuration was last loaded, as seen by `client`'s session, as
/// PostgreSQL prints it (text: it is only compared for change).
pub async fn load_time(client: &Client) -> Result<String, SqlFailure> {
    one_value(client, include_str!("../../sql/conf_load_time.sql")).await
}

/// `pg_reload_conf()`: whether the postmaster could be signalled.
pub async fn signal(client: &Client) -> Result<bool, SqlFailure> {
    one_value(client, include_str!("../../sql/reload_conf.sql")).await
}

/// The first column of the one row `statement` answers.
async fn one_value<T>(client: &Client, statement: &str) -> Result<T, SqlFailure>
where
    T: for<'a> FromSql<'a>,
{
    let row = client
        .query_one(statement, &[])
        .await
        .map_err(SqlFailure::Pg)?;
    row.col(0).map_err(SqlFailure::Answer)
}

/// How long and how to wait for the load time to move.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    /// From the end of the reload request to the deadline.
    pub within: Duration,
    /// Between two reads.
    pub poll_every: Duration,
    /// Whether a failed read is tried again until the deadline (a fresh connection
    /// may fail for a moment) or ends the wait (an open session that failed will not
    /// recover).
    pub retry_failed_reads: bool,
}

/// What became of a reload that was asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Reloaded<E> {
    /// The load time moved: the new configuration is in effect where it was read.
    InEffect,
    /// The load time could not be read before the request: nothing to compare with.
    Unknown(E),
    /// The load time did not move; with the failure of the last read, if it failed.
    NotSeen(Option<E>),
}

/// Reads the load time with `read`, runs `request` (which asks for the reload), then
/// reads again until the time differs or `patience` runs out. The reload is asked
/// for even when the first read fails: the caller wants it either way.
pub async fn reload_and_wait<E, F, Read, ReadFut, Request>(
    mut read: Read,
    request: Request,
    patience: Patience,
) -> Result<Reloaded<E>, F>
where
    Read: FnMut() -> ReadFut,
    ReadFut: Future<Output = Result<String, E>>,
    Request: Future<Output = Result<(), F>>,
{
    let before = read().await;
    request.await?;
    let before = match before {
        Ok(before) => before,
        Err(err) => return Ok(Reloaded::Unknown(err)),
    };
    let deadline = Instant::now() + patience.within;
    loop {
        let last_failure = match read().await {
            Ok(now) if now != before => return Ok(Reloaded::InEffect),
            Ok(_) => None,
            Err(err) if !patience.retry_failed_reads => return Ok(Reloaded::NotSeen(Some(err))),
            Err(err) => Some(err),
        };
        if Instant::now() >= deadline {
            return Ok(Reloaded::NotSeen(last_failure));
        }
        sleep(patience.poll_every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    const QUICK: Patience = Patience {
        within: Duration::from_millis(50),
        poll_every: Duration::from_millis(1),
        retry_failed_reads: true,
    };

    /// A reader answering `answers` in turn, then the last one forever.
    fn reader(
        answers: Vec<Result<&'static str, &'static str>>,
    ) -> impl FnMut() -> std::future::Ready<Result<String, &'static str>> {
        let answers = RefCell::new(answers.into_iter().peekable());
        move || {
            let mut answers = answers.borrow_mut();
            let next = match answers.next() {
                Some(answer) if answers.peek().is_some() => answer,
                Some(last) => {
                    *answers = vec![last].into_iter().peekable();
                    last
                }
                None => unreachable!("a reader has at least one answer"),
            };
            std::future::ready(next.map(str::to_string))
        }
    }

    async fn asked() -> Result<(), &'static str> {
        Ok(())
    }

    #[tokio::test]
    async fn a_moved_time_is_in_effect_even_after_failed_reads() {
        let read = reader(vec![Ok("t0"), Ok("t0"), Err("busy"), Ok("t1")]);
        let got = reload_and_wait(read, asked(), QUICK).await;
        assert_eq!(got, Ok(Reloaded::InEffect));
    }

    #[tokio::test]
    async fn an_unmoved_time_is_not_seen_with_the_last_failure_only() {
        let read = reader(vec![Ok("t0"), Err("busy"), Ok("t0")]);
        assert_eq!(
            reload_and_wait(read, asked(), QUICK).await,
            Ok(Reloaded::NotSeen(None))
        );
        let read = reader(vec![Ok("t0"), Err("busy")]);
        assert_eq!(
            reload_and_wait(read, asked(), QUICK).await,
            Ok(Reloaded::NotSeen(Some("busy")))
        );
    }

    #[tokio::test]
    async fn a_failed_read_ends_the_wait_when_not_retried() {
        let once = Patience {
            within: Duration::from_secs(3600),
            retry_failed_reads: false,
            ..QUICK
        };
        let read = reader(vec![Ok("t0"), Err("closed"), Ok("t1")]);
        assert_eq!(
            reload_and_wait(read, asked(), once).await,
            Ok(Reloaded::NotSeen(Some("closed")))
        );
    }

    #[tokio::test]
    async fn the_reload_is_asked_even_without_a_first_time_and_its_failure_wins() {
        let requested = RefCell::new(false);
        let request = async {
            *requested.borrow_mut() = true;
            Ok::<(), &str>(())
        };
        let got = reload_and_wait(reader(vec![Err("no")]), request, QUICK).await;
        assert_eq!(got, Ok(Reloaded::Unknown("no")));
        assert!(*requested.borrow());
        let refused = async { Err::<(), _>("denied") };
        let got = reload_and_wait(reader(vec![Ok("t0")]), refused, QUICK).await;
        assert_eq!(got, Err("denied"));
    }
}
