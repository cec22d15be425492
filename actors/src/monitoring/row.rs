//! A probe's output row: a JSON object, keys as the spec names them. PostgreSQL
//! rows become JSON by column type (the SQL casts what has no natural JSON type to
//! text or float8), and the timestamp formats every row carries are made here.

use chrono::{DateTime, Utc};
use serde_json::{Map, Number, Value};
use tokio_postgres::types::{FromSql, Type};

use crate::error::Error;

pub type Row = Map<String, Value>;

/// `datetime` of a host probe answered on demand: `2017-04-21 07:16:25 +0000`.
pub fn host_datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S +0000").to_string()
}

/// `datetime` of a PostgreSQL probe answered on demand, PostgreSQL's text form of
/// a timestamptz in UTC: `2017-04-21 06:24:45.003511+00`.
pub fn pg_datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

/// `datetime` of every row of a history record (ISO 8601, as 7.x writes it):
/// `2026-11-29T06:44:17.818063+00:00`.
pub fn record_row_datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

/// `datetime` of a history record: `2026-11-29 06:44:17 +0000`.
pub fn record_datetime(at: DateTime<Utc>) -> String {
    host_datetime(at)
}

/// A PostgreSQL row as JSON. Fails, naming the column, on a type the SQL should
/// have cast (a probe bug, caught by the probe sweep test).
pub fn from_pg(row: &tokio_postgres::Row) -> Result<Row, Error> {
    let mut out = Row::new();
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = if *ty == Type::BOOL {
            column_of::<bool>(row, i)?.map(Value::Bool)
        } else if *ty == Type::INT2 {
            column_of::<i16>(row, i)?.map(Value::from)
        } else if *ty == Type::INT4 {
            column_of::<i32>(row, i)?.map(Value::from)
        } else if *ty == Type::INT8 {
            column_of::<i64>(row, i)?.map(Value::from)
        } else if *ty == Type::OID {
            column_of::<u32>(row, i)?.map(Value::from)
        } else if *ty == Type::FLOAT4 {
            column_of::<f32>(row, i)?.map(|f| float(f as f64))
        } else if *ty == Type::FLOAT8 {
            column_of::<f64>(row, i)?.map(float)
        } else if [Type::TEXT, Type::NAME, Type::VARCHAR, Type::BPCHAR].contains(ty) {
            column_of::<String>(row, i)?.map(Value::String)
        } else {
            return Err(Error::query(
                format!("read column {}", column.name()),
                format!("type {ty} has no JSON form: cast it in the probe's SQL"),
            ));
        };
        out.insert(column.name().to_string(), value.unwrap_or(Value::Null));
    }
    Ok(out)
}

/// Column `i` of a row as a `T` (None for NULL), the error naming the column.
fn column_of<'a, T: FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    i: usize,
) -> Result<Option<T>, Error> {
    row.try_get(i)
        .map_err(|e| Error::query(format!("read column {}", row.columns()[i].name()), e))
}

/// A float as JSON; NaN and infinities (which JSON cannot carry) become null.
pub fn float(f: f64) -> Value {
    Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn datetimes_have_the_formats_of_the_spec_and_of_7x_records() {
        let at = Utc.timestamp_opt(1_492_755_885, 3_511_000).unwrap();
        assert_eq!(host_datetime(at), "2017-04-21 06:24:45 +0000");
        assert_eq!(pg_datetime(at), "2017-04-21 06:24:45.003511+00");
        assert_eq!(record_row_datetime(at), "2017-04-21T06:24:45.003511+00:00");
    }

    #[test]
    fn non_finite_floats_become_null() {
        assert_eq!(float(f64::NAN), Value::Null);
        assert_eq!(float(1.5), serde_json::json!(1.5));
    }
}
