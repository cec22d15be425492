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
        self.try_get(idx).map_err(|e| unexpected_value(&name, &e))
    }
}

/// The error of column `name` that could not be read: its name, tokio_postgres's
/// message (which has the column's position only) and its cause (the two types).
fn unexpected_value(name: &str, e: &dyn std::error::Error) -> Error {
    let detail = match e.source() {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    };
    Error::Internal(format!("unexpected value in column {name}: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_postgres::types::{Type, WasNull, WrongType};

    /// Wraps a cause as tokio_postgres does ("error deserializing column N").
    #[derive(Debug)]
    struct Deserializing(Box<dyn std::error::Error + Send + Sync>);

    impl fmt::Display for Deserializing {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("error deserializing column 6")
        }
    }

    impl std::error::Error for Deserializing {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }

    #[test]
    fn a_type_mismatch_names_the_column_and_both_types() {
        let e = Deserializing(Box::new(WrongType::new::<f64>(Type::TEXT)));
        let Error::Internal(message) = unexpected_value("min_time", &e) else {
            panic!("not an internal error");
        };
        assert!(
            message.starts_with("unexpected value in column min_time: "),
            "{message}"
        );
        assert!(message.contains("column 6"), "{message}");
        assert!(
            message.contains("f64") && message.contains("text"),
            "{message}"
        );
    }

    #[test]
    fn a_null_names_the_column() {
        let e = Deserializing(Box::new(WasNull));
        let Error::Internal(message) = unexpected_value("size", &e) else {
            panic!("not an internal error");
        };
        assert!(message.contains("column size"), "{message}");
        assert!(message.to_lowercase().contains("null"), "{message}");
    }
}
