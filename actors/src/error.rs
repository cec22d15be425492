//! The error type of every actor reply. It carries the context a DBA needs to act
//! (which database, which file, which statement) and stays free of HTTP: the HTTP
//! layer alone decides which status code each variant becomes.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// No connection to PostgreSQL could be had; the text says why.
    PgUnreachable(String),
    /// A query failed; `context` names what the agent was doing.
    Query { context: String, message: String },
    /// The durable store (SQLite in `home`) failed.
    Store(String),
    /// An actor did not answer (stopped or overloaded mailbox).
    Mailbox(String),
    /// The object the request names does not exist (database, table, task, setting).
    NotFound(String),
    /// The request's input is refused after checking it against the instance
    /// (e.g. a setting value out of range); the text says why.
    Invalid(String),
    /// The request conflicts with work in progress (e.g. a control action running).
    Conflict(String),
    /// Something the agent did not expect (e.g. a NULL in a column read from a
    /// catalog): the text is the detail for the log; the client gets a generic
    /// message.
    Internal(String),
    /// Every connection the agent may open is in use (`[postgresql]
    /// max_connections`): the request may be tried again shortly.
    Busy(String),
}

impl Error {
    pub fn query(context: impl Into<String>, err: impl fmt::Display) -> Error {
        Error::Query {
            context: context.into(),
            message: err.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::PgUnreachable(why) => write!(f, "PostgreSQL is unreachable: {why}"),
            Error::Query { context, message } => write!(f, "{context}: {message}"),
            Error::Store(why) => write!(f, "durable store: {why}"),
            Error::Mailbox(why) => write!(f, "internal: {why}"),
            Error::Internal(why) => write!(f, "internal: {why}"),
            Error::NotFound(what)
            | Error::Invalid(what)
            | Error::Conflict(what)
            | Error::Busy(what) => {
                write!(f, "{what}")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<actix::MailboxError> for Error {
    fn from(err: actix::MailboxError) -> Error {
        Error::Mailbox(format!("actor did not answer: {err}"))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Error {
        Error::Store(err.to_string())
    }
}
