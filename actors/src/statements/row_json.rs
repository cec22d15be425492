//! One row of `GET /statements`: decoded from the snapshot statement's row and
//! written as JSON with the spec's keys (without the example's stray spaces in
//! `"datname "` and `"temp_blks_read "`), followed by the server's own names where
//! they differ (`total_exec_time`, ..., `shared_blk_read_time`, ...). Writes into a
//! caller's buffer: the stream task sends it in chunks.

use serde::Serialize;
use tokio_postgres::Row;

use super::columns::Naming;
use super::counters::{Counters, Key, BLOCK_COUNTERS, IO_TIMES};
use crate::error::Error;
use crate::pg_row::Column;

/// A row of the snapshot statement (actors/sql/statements/snapshot.sql).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Key,
    pub rolname: String,
    pub datname: String,
    /// None when the text was not asked for, or the row is beyond the limit.
    pub query: Option<String>,
    pub min_time: f64,
    pub max_time: f64,
    /// pg_stat_statements' own values, answered as they are without `since`.
    pub mean_time: f64,
    pub stddev_time: f64,
    pub counters: Counters,
}

impl Entry {
    /// A column of another type than expected is an internal error naming it.
    pub fn from_row(row: &Row) -> Result<Entry, Error> {
        let calls: i64 = row.col("calls")?;
        let mean: f64 = row.col("mean_time")?;
        let stddev: f64 = row.col("stddev_time")?;
        let mut blocks = [0i64; 10];
        for (value, name) in blocks.iter_mut().zip(BLOCK_COUNTERS) {
            *value = row.col(name)?;
        }
        let mut io_times = [0f64; 6];
        for (value, name) in io_times.iter_mut().zip(IO_TIMES) {
            *value = row.col(name)?;
        }
        Ok(Entry {
            key: Key {
                userid: row.col("userid")?,
                dbid: row.col("dbid")?,
                queryid: row.col("queryid")?,
            },
            rolname: row.col("rolname")?,
            datname: row.col("datname")?,
            query: row.col("query")?,
            min_time: row.col("min_time")?,
            max_time: row.col("max_time")?,
            mean_time: mean,
            stddev_time: stddev,
            counters: Counters {
                calls,
                rows: row.col("rows")?,
                blocks,
                total_time: row.col("total_time")?,
                sum_squares: Counters::sum_squares_of(calls, mean, stddev),
                io_times,
            },
        })
    }
}

/// Appends `entry` as a JSON object: with its own counters, or with `difference`,
/// what ran since an earlier snapshot (min and max times stay the entry's: they
/// cannot be taken apart).
pub fn write_entry(
    buf: &mut Vec<u8>,
    entry: &Entry,
    difference: Option<&Counters>,
    naming: Naming,
) {
    let (counters, mean, stddev) = match difference {
        Some(d) => (d, d.mean_time(), d.stddev_time()),
        None => (&entry.counters, entry.mean_time, entry.stddev_time),
    };
    let mut object = Object::new(buf);
    object.field("rolname", &entry.rolname);
    object.field("datname", &entry.datname);
    object.field("userid", &entry.key.userid);
    object.field("dbid", &entry.key.dbid);
    object.field("queryid", &entry.key.queryid);
    object.field("query", &entry.query);
    object.field("calls", &counters.calls);
    let times = [
        ("total_time", "total_exec_time", counters.total_time),
        ("min_time", "min_exec_time", entry.min_time),
        ("max_time", "max_exec_time", entry.max_time),
        ("mean_time", "mean_exec_time", mean),
        ("stddev_time", "stddev_exec_time", stddev),
    ];
    for (name, _, value) in times {
        object.field(name, &value);
    }
    object.field("rows", &counters.rows);
    for (name, value) in BLOCK_COUNTERS.iter().zip(counters.blocks) {
        object.field(name, &value);
    }
    object.field(IO_TIMES[0], &counters.io_times[0]);
    object.field(IO_TIMES[1], &counters.io_times[1]);
    if naming.answers_exec_names() {
        for (_, server_name, value) in times {
            object.field(server_name, &value);
        }
    }
    if naming.answers_split_io_times() {
        for (name, value) in IO_TIMES.iter().zip(counters.io_times).skip(2) {
            object.field(name, &value);
        }
    }
    object.end();
}

/// A JSON object written key by key.
struct Object<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    fn new(buf: &'a mut Vec<u8>) -> Object<'a> {
        buf.push(b'{');
        Object { buf, first: true }
    }

    fn field(&mut self, name: &str, value: &impl Serialize) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        // Writing to a Vec cannot fail, and every value here serializes.
        let _ = serde_json::to_writer(&mut *self.buf, name);
        self.buf.push(b':');
        let _ = serde_json::to_writer(&mut *self.buf, value);
    }

    fn end(self) {
        self.buf.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn entry() -> Entry {
        Entry {
            key: Key {
                userid: 10,
                dbid: 5,
                queryid: Some(-42),
            },
            rolname: "postgres".into(),
            datname: "bench".into(),
            query: Some("SELECT \"x\"\n".into()),
            min_time: 1.0,
            max_time: 3.0,
            mean_time: 2.0,
            stddev_time: 1.0,
            counters: Counters {
                calls: 2,
                rows: 2,
                blocks: [7; 10],
                total_time: 4.0,
                sum_squares: 10.0,
                io_times: [0.5, 0.25, 0.3, 0.2, 0.2, 0.05],
            },
        }
    }

    fn encode(naming: Naming) -> Value {
        let mut buf = Vec::new();
        let e = entry();
        write_entry(&mut buf, &e, None, naming);
        serde_json::from_slice(&buf).expect("valid JSON")
    }

    const SPEC_KEYS: [&str; 25] = [
        "rolname",
        "datname",
        "userid",
        "dbid",
        "queryid",
        "query",
        "calls",
        "total_time",
        "min_time",
        "max_time",
        "mean_time",
        "stddev_time",
        "rows",
        "shared_blks_hit",
        "shared_blks_read",
        "shared_blks_dirtied",
        "shared_blks_written",
        "local_blks_hit",
        "local_blks_read",
        "local_blks_dirtied",
        "local_blks_written",
        "temp_blks_read",
        "temp_blks_written",
        "blk_read_time",
        "blk_write_time",
    ];

    #[test]
    fn legacy_servers_get_the_spec_keys_only() {
        let row = encode(Naming::Legacy);
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = SPEC_KEYS.to_vec();
        expected.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, expected);
        assert_eq!(row["query"], "SELECT \"x\"\n");
        assert_eq!(row["queryid"], -42);
        assert_eq!(row["calls"], 2);
        assert_eq!(row["mean_time"], 2.0);
        assert_eq!(row["stddev_time"], 1.0);
        assert_eq!(row["temp_blks_read"], 7);
    }

    #[test]
    fn newer_servers_also_get_their_own_names() {
        let row = encode(Naming::Exec);
        for key in SPEC_KEYS {
            assert!(row.get(key).is_some(), "{key}");
        }
        assert_eq!(row["total_exec_time"], row["total_time"]);
        assert_eq!(row["stddev_exec_time"], row["stddev_time"]);
        assert!(row.get("shared_blk_read_time").is_none());

        let row = encode(Naming::SharedBlk);
        assert_eq!(row["mean_exec_time"], 2.0);
        assert_eq!(row["blk_read_time"], 0.5);
        assert_eq!(row["shared_blk_read_time"], 0.3);
        assert_eq!(row["local_blk_write_time"], 0.05);
    }

    #[test]
    fn a_difference_replaces_the_counters() {
        let mut buf = Vec::new();
        let e = entry();
        let d = Counters {
            calls: 1,
            total_time: 3.0,
            sum_squares: 9.0,
            ..e.counters
        };
        write_entry(&mut buf, &e, Some(&d), Naming::Exec);
        let row: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(row["calls"], 1);
        assert_eq!(row["total_time"], 3.0);
        assert_eq!(row["mean_time"], 3.0);
        assert_eq!(row["stddev_time"], 0.0);
        assert_eq!(row["max_time"], 3.0);
    }

    #[test]
    fn keys_come_in_the_spec_order() {
        let mut buf = Vec::new();
        let e = entry();
        write_entry(&mut buf, &e, None, Naming::Exec);
        let text = String::from_utf8(buf).unwrap();
        let positions: Vec<usize> = SPEC_KEYS
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }
}
