//! Reading a column of a PostgreSQL row without panicking. `Row::get` panics when
//! the value is NULL or of another type than the agent expects, which a catalog
//! changing under a query (a relation or database dropped meanwhile, a server
//! version that changed a column's type) can cause: in a release build, a panic
//! aborts the agent. `col` answers `Error::Internal` naming the column instead,
//! which the HTTP layer answers as a generic 500 and logs with the detail.
//! (clippy.toml forbids `Row::get` everywhere.)

use std::fmt;

use tokio_postgres::row::RowIndex;
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use crate::error::Error;

pub trait Column {
    /// The value of column `idx` (a name or a position), or an error naming it.
    fn col<'a, I, T>(&'a self, idx: I) -> Result<T, Error>
    where
        I: RowIndex + fmt::Display,
        T: FromSql<'a>;
}

impl Column for Row {
    fn col<'a, I, T>(&'a self, idx: I) -> Result<T, Error>
    where
        I: RowIndex + fmt::Display,
        T: FromSql<'a>,
    {
        let name = idx.to_string();
        self.try_get(idx).map_err(|e| {
            let detail = match std::error::Error::source(&e) {
                Some(source) => format!("{e}: {source}"),
                None => e.to_string(),
            };
            Error::Internal(format!("unexpected value in column {name}: {detail}"))
        })
    }
}
