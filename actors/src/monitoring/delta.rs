//! Counters reported as the change since a probe's previous reading. `Baselines`
//! keeps, per probe, the last raw reading (rows keyed by the probe's delta key) and
//! when it was taken; `diff` turns a new reading into delta rows with
//! `measure_interval` (seconds, float). A row with no previous reading (the first
//! run, a new database) or whose counters went backwards (statistics reset, server
//! restart) reports nothing this time: a negative or made-up rate would mislead.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::Value;

use super::registry::Delta;
use super::row::{float, Row};

/// One probe's previous raw reading.
#[derive(Debug, Clone)]
pub struct Reading {
    pub at: Instant,
    pub rows: HashMap<String, Row>,
}

impl Reading {
    pub fn new(delta: &Delta, at: Instant, rows: &[Row]) -> Reading {
        Reading {
            at,
            rows: rows.iter().map(|r| (key_of(delta, r), r.clone())).collect(),
        }
    }
}

/// The previous reading of every delta probe, by probe name.
#[derive(Debug, Default)]
pub struct Baselines {
    readings: HashMap<&'static str, Reading>,
}

impl Baselines {
    pub fn get(&self, probe: &str) -> Option<&Reading> {
        self.readings.get(probe)
    }

    pub fn set(&mut self, probe: &'static str, reading: Reading) {
        self.readings.insert(probe, reading);
    }
}

fn key_of(delta: &Delta, row: &Row) -> String {
    delta
        .key
        .iter()
        .map(|k| row.get(*k).map(Value::to_string).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// The delta rows of `rows` (read at `at`) against `previous`, in `rows` order.
pub fn diff(delta: &Delta, previous: Option<&Reading>, at: Instant, rows: &[Row]) -> Vec<Row> {
    let Some(previous) = previous else {
        return Vec::new();
    };
    let interval = at.saturating_duration_since(previous.at).as_secs_f64();
    rows.iter()
        .filter_map(|row| {
            let before = previous.rows.get(&key_of(delta, row))?;
            let mut out = row.clone();
            for column in delta.columns {
                let value = subtract(row.get(*column)?, before.get(*column)?)?;
                out.insert(column.to_string(), value);
            }
            if let Some(derive) = delta.derive {
                derive(&mut out);
            }
            out.insert("measure_interval".to_string(), float(interval));
            Some(out)
        })
        .collect()
}

/// `now - before`, integer when both are; None when either is not a number or the
/// counter went backwards.
fn subtract(now: &Value, before: &Value) -> Option<Value> {
    if let (Some(n), Some(b)) = (now.as_i64(), before.as_i64()) {
        return (n >= b).then(|| Value::from(n - b));
    }
    let (n, b) = (now.as_f64()?, before.as_f64()?);
    (n >= b).then(|| float(n - b))
}

#[cfg(test)]
mod tests {
    use super::super::registry::OnDemand;
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    static XACTS: Delta = Delta {
        key: &["dbname"],
        columns: &["n_commit", "n_rollback"],
        derive: None,
        on_demand: OnDemand::Counters,
    };

    fn row(v: Value) -> Row {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_first_reading_reports_nothing() {
        let rows = [row(json!({"dbname": "a", "n_commit": 5, "n_rollback": 0}))];
        assert!(diff(&XACTS, None, Instant::now(), &rows).is_empty());
    }

    #[test]
    fn counters_are_differences_over_the_measure_interval() {
        let t0 = Instant::now();
        let before = [
            row(json!({"dbname": "a", "n_commit": 5, "n_rollback": 1})),
            row(json!({"dbname": "b", "n_commit": 7, "n_rollback": 0})),
        ];
        let reading = Reading::new(&XACTS, t0, &before);
        let now = [
            row(json!({"dbname": "b", "n_commit": 9, "n_rollback": 0, "port": 5432})),
            row(json!({"dbname": "a", "n_commit": 15, "n_rollback": 1})),
            row(json!({"dbname": "new", "n_commit": 1, "n_rollback": 0})),
        ];
        let out = diff(
            &XACTS,
            Some(&reading),
            t0 + Duration::from_millis(2500),
            &now,
        );
        assert_eq!(
            out,
            vec![
                row(
                    json!({"dbname": "b", "n_commit": 2, "n_rollback": 0, "port": 5432,
                           "measure_interval": 2.5})
                ),
                row(json!({"dbname": "a", "n_commit": 10, "n_rollback": 0,
                           "measure_interval": 2.5})),
            ]
        );
    }

    #[test]
    fn a_counter_that_went_backwards_reports_nothing() {
        let t0 = Instant::now();
        let reading = Reading::new(
            &XACTS,
            t0,
            &[row(
                json!({"dbname": "a", "n_commit": 50.0, "n_rollback": 0}),
            )],
        );
        let now = [row(
            json!({"dbname": "a", "n_commit": 3.0, "n_rollback": 0}),
        )];
        assert!(diff(&XACTS, Some(&reading), t0, &now).is_empty());
    }

    #[test]
    fn floats_subtract_as_floats_and_derived_columns_see_the_deltas() {
        static BLOCKS: Delta = Delta {
            key: &[],
            columns: &["hit"],
            derive: Some(|r: &mut Row| {
                let hit = r["hit"].as_f64().unwrap();
                r.insert("double".into(), float(hit * 2.0));
            }),
            on_demand: OnDemand::Counters,
        };
        let t0 = Instant::now();
        let reading = Reading::new(&BLOCKS, t0, &[row(json!({"hit": 1.5}))]);
        let out = diff(&BLOCKS, Some(&reading), t0, &[row(json!({"hit": 4.0}))]);
        assert_eq!(out[0]["hit"], json!(2.5));
        assert_eq!(out[0]["double"], json!(5.0));
    }
}
