//! The PostgreSQL probes of the monitoring plugin against a real agent and a real
//! PostgreSQL: every registered SQL probe runs and answers the spec's shape (keys and
//! JSON types of each example), and each probe's values match ground truth read with
//! psql: sizes, sessions and locks the test holds, commits, rollbacks, temporary
//! bytes and WAL written between two runs, a tablespace the test creates (and loses),
//! bloat estimates, and the `[monitoring] dbnames` filter.
//!
//! The agents run with `[monitoring] probes = loadavg`: no SQL probe is scheduled, so
//! each on-demand call of a delta probe reports the change since the test's previous
//! call (see collector.rs), and the first call reports nothing.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use actors::monitoring::registry::{find, Level, OnDemand, PROBES};
use common::*;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

/// An agent whose collector schedules no SQL probe; `dbnames` as given.
fn agent(pg: &PgCluster, dbnames: &str) -> Agent {
    Agent::start_with(
        pg,
        AgentSetup {
            extra: format!("[monitoring]\nprobes = loadavg\ndbnames = {dbnames}\n"),
            ..AgentSetup::default()
        },
    )
}

/// The rows of `GET /monitoring/probe/<name>` (agent key), checked to be the only
/// member of the answer.
fn probe(agent: &Agent, name: &str) -> Vec<Value> {
    let res = agent.get(&format!("/monitoring/probe/{name}?key={KEY}"));
    assert_eq!(res.status, 200, "{name}: {}", res.text());
    let body = res.json();
    let object = body.as_object().expect("an object");
    assert_eq!(object.len(), 1, "{name}: {body}");
    object[name]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: not a list: {body}"))
        .clone()
}

/// The row of database `db`.
fn row_of<'a>(rows: &'a [Value], db: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["dbname"] == db)
        .unwrap_or_else(|| panic!("no row for {db} in {rows:?}"))
}

fn int(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} is not an integer: {v}"))
}

fn psql_int(pg: &PgCluster, db: &str, sql: &str) -> i64 {
    let out = pg.psql(db, sql);
    out.parse()
        .unwrap_or_else(|e| panic!("{sql}: {out:?} is not an integer: {e}"))
}

/// The databases that accept connections, from psql.
fn connectable(pg: &PgCluster) -> BTreeSet<String> {
    pg.psql(
        "postgres",
        "SELECT datname FROM pg_database WHERE datallowconn",
    )
    .lines()
    .map(str::to_string)
    .collect()
}

fn dbnames_of(rows: &[Value]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| r["dbname"].as_str().expect("dbname").to_string())
        .collect()
}

/// Expected JSON type of a column.
#[derive(Clone, Copy, Debug)]
enum T {
    Int,
    Float,
    Text,
    /// An integer, or null.
    IntOrNull,
    /// A float, or null.
    FloatOrNull,
}

fn has_type(v: &Value, t: T) -> bool {
    match t {
        T::Int => v.is_i64() || v.is_u64(),
        // serde_json reads `0.0` as a float: float columns always carry a fraction.
        T::Float => v.is_f64(),
        T::Text => v.is_string(),
        T::IntOrNull => v.is_null() || v.is_i64() || v.is_u64(),
        T::FloatOrNull => v.is_null() || v.is_f64(),
    }
}

/// The probes whose rows are per database (`dbname`).
const PER_DATABASE_ROWS: [&str; 8] = [
    "sessions",
    "xacts",
    "locks",
    "blocks",
    "db_size",
    "temp_files_size_delta",
    "heap_bloat",
    "btree_bloat",
];

const LOCK_MODES: [&str; 8] = [
    "access_share",
    "row_share",
    "row_exclusive",
    "share_update_exclusive",
    "share",
    "share_row_exclusive",
    "exclusive",
    "access_exclusive",
];

/// The columns of a probe's rows on demand, as the spec examples have them: the
/// delta probes that answer their counters as read (xacts, blocks, bgwriter,
/// temp_files_size_delta) have no `measure_interval`; wal_files, a change since
/// the previous reading, has it (seconds, float).
fn columns(name: &str) -> Vec<(String, T)> {
    let c = |cols: &[(&str, T)]| -> Vec<(String, T)> {
        cols.iter().map(|(k, t)| (k.to_string(), *t)).collect()
    };
    let mut cols = match name {
        "sessions" => c(&[
            ("dbname", T::Text),
            ("active", T::Int),
            ("idle", T::Int),
            ("idle_in_xact", T::Int),
            ("idle_in_xact_aborted", T::Int),
            ("fastpath", T::Int),
            ("disabled", T::Int),
            ("waiting", T::Int),
            ("no_priv", T::Int),
        ]),
        "xacts" => c(&[
            ("dbname", T::Text),
            ("n_commit", T::Int),
            ("n_rollback", T::Int),
        ]),
        "locks" => {
            let mut cols = c(&[("dbname", T::Text), ("siread", T::Int)]);
            for mode in LOCK_MODES {
                cols.push((mode.to_string(), T::Int));
                cols.push((format!("waiting_{mode}"), T::Int));
            }
            cols
        }
        "blocks" => c(&[
            ("dbname", T::Text),
            ("blks_read", T::Int),
            ("blks_hit", T::Int),
            ("hitmiss_ratio", T::Float),
        ]),
        "bgwriter" => c(&[
            ("checkpoints_timed", T::Int),
            ("checkpoints_req", T::Int),
            ("checkpoint_write_time", T::Float),
            ("checkpoint_sync_time", T::Float),
            ("buffers_checkpoint", T::Int),
            ("buffers_clean", T::Int),
            ("maxwritten_clean", T::Int),
            ("buffers_backend", T::Int),
            ("buffers_backend_fsync", T::Int),
            ("buffers_alloc", T::Int),
            ("stats_reset", T::Text),
        ]),
        "db_size" => c(&[("dbname", T::Text), ("size", T::Int)]),
        "tblspc_size" => c(&[("spcname", T::Text), ("size", T::IntOrNull)]),
        "wal_files" => c(&[
            ("total", T::Int),
            ("archive_ready", T::Int),
            ("total_size", T::Float),
            ("current_location", T::Text),
            ("written_size", T::Int),
            ("measure_interval", T::Float),
        ]),
        "replication_lag" => c(&[("lag", T::IntOrNull)]),
        "replication_connection" => c(&[("upstream", T::Text), ("connected", T::Int)]),
        "temp_files_size_delta" => c(&[("dbname", T::Text), ("size", T::Int)]),
        "heap_bloat" | "btree_bloat" => c(&[("dbname", T::Text), ("ratio", T::FloatOrNull)]),
        other => panic!("no expected shape for probe {other}: add it here"),
    };
    cols.push(("port".into(), T::Int));
    cols.push(("datetime".into(), T::Text));
    cols
}

/// Every row of `name` has exactly the expected keys, each of the expected type.
fn assert_shape(pg: &PgCluster, name: &str, rows: &[Value]) {
    let expected = columns(name);
    let keys: BTreeSet<&str> = expected.iter().map(|(k, _)| k.as_str()).collect();
    for row in rows {
        let got: BTreeSet<&str> = row
            .as_object()
            .unwrap_or_else(|| panic!("{name}: not an object: {row}"))
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(got, keys, "{name}: {row}");
        for (k, t) in &expected {
            assert!(has_type(&row[k], *t), "{name}.{k} is not {t:?}: {row}");
        }
        assert_eq!(row["port"], pg.port(), "{name}: {row}");
        let datetime = row["datetime"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_str(datetime, "%Y-%m-%d %H:%M:%S%.f%#z").is_ok(),
            "{name}: datetime {datetime:?}"
        );
    }
}

/// Whether an on-demand call answers a change since the previous call (the first
/// call then answers nothing), rather than counters as read.
fn answers_changes(name: &str) -> bool {
    PROBES
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.delta.as_ref())
        .is_some_and(|d| d.on_demand == OnDemand::Delta)
}

#[test]
fn every_sql_probe_runs_and_answers_the_spec_shape() {
    let pg = PgCluster::shared();
    pg.fresh_db("mp_sweep");
    let agent = agent(pg, "*");
    let sql_probes: Vec<&str> = PROBES
        .iter()
        .filter(|p| p.level != Level::Host)
        .map(|p| p.name)
        .collect();
    assert!(sql_probes.len() >= 13, "{sql_probes:?}");
    for name in &sql_probes {
        let first = probe(&agent, name);
        assert_shape(pg, name, &first);
        if answers_changes(name) {
            // The first call of an unscheduled delta probe sets its baseline.
            assert!(first.is_empty(), "{name}: {first:?}");
            let second = probe(&agent, name);
            assert!(!second.is_empty(), "{name}: no row on the second call");
            assert_shape(pg, name, &second);
        }
    }
    // Per-database probes cover the test's database.
    for name in PER_DATABASE_ROWS {
        let rows = probe(&agent, name);
        assert!(
            rows.iter().any(|r| r["dbname"] == "mp_sweep"),
            "{name}: {rows:?}"
        );
    }
    // A lone primary: the replication probes have nothing to say.
    assert!(probe(&agent, "replication_lag").is_empty());
    assert!(probe(&agent, "replication_connection").is_empty());
}

#[test]
fn db_size_is_pg_database_size_of_a_database_the_test_fills() {
    let pg = PgCluster::shared();
    pg.fresh_db("mp_size");
    pg.psql(
        "mp_size",
        "CREATE TABLE t (a int, b text) WITH (autovacuum_enabled = false); \
         INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g",
    );
    let agent = agent(pg, "*");
    let truth = || psql_int(pg, "postgres", "SELECT pg_database_size('mp_size')");
    let mut seen = (0, 0, 0);
    wait_until(WAIT, "a size equal to pg_database_size", || {
        let before = truth();
        let size = int(row_of(&probe(&agent, "db_size"), "mp_size"), "size");
        let after = truth();
        seen = (before, size, after);
        before == size && size == after
    });
    assert!(seen.1 > 20000 * 200, "{seen:?}");
    // Every database that accepts connections, none other.
    wait_until(WAIT, "db_size to list every database", || {
        let before = connectable(pg);
        let listed = dbnames_of(&probe(&agent, "db_size"));
        before == listed && listed == connectable(pg)
    });
}

#[test]
fn sessions_count_the_sessions_the_test_keeps_open() {
    let pg = PgCluster::shared();
    pg.fresh_db("mp_sessions");
    let agent = agent(pg, "*");
    // A database nobody uses has a row of zeros (an autovacuum worker may pass).
    wait_until(WAIT, "a row of zeros", || {
        let rows = probe(&agent, "sessions");
        let quiet = row_of(&rows, "mp_sessions");
        [
            "active",
            "idle",
            "idle_in_xact",
            "idle_in_xact_aborted",
            "fastpath",
            "disabled",
            "waiting",
            "no_priv",
        ]
        .iter()
        .all(|col| int(quiet, col) == 0)
    });

    let mut in_xact = Bg::open(pg, "mp_sessions");
    in_xact.send("BEGIN; SELECT 1;");
    let mut aborted = Bg::open(pg, "mp_sessions");
    aborted.send("BEGIN; SELECT 1/0;");
    let mut idle = Bg::open(pg, "mp_sessions");
    idle.send("SELECT 1;");
    let _busy = Bg::run(pg, "mp_sessions", "SELECT pg_sleep(60) /* mp busy */");
    let expected = |state: &str| {
        psql_int(
            pg,
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = 'mp_sessions' AND state = '{state}'"
            ),
        )
    };
    wait_until(WAIT, "the sessions to settle", || {
        expected("idle in transaction") == 1
            && expected("idle in transaction (aborted)") == 1
            && expected("idle") == 1
            && expected("active") == 1
    });
    // An autovacuum worker may visit the database for a moment: compare with
    // pg_stat_activity read just before and just after.
    let states = [
        (
            "active",
            "state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock'",
        ),
        ("idle", "state = 'idle'"),
        ("idle_in_xact", "state = 'idle in transaction'"),
        (
            "idle_in_xact_aborted",
            "state = 'idle in transaction (aborted)'",
        ),
        ("fastpath", "state = 'fastpath function call'"),
        ("disabled", "state = 'disabled'"),
        ("waiting", "state = 'active' AND wait_event_type = 'Lock'"),
        ("no_priv", "query = '<insufficient privilege>'"),
    ];
    let activity = || -> Vec<i64> {
        states
            .iter()
            .map(|(_, cond)| {
                psql_int(
                    pg,
                    "postgres",
                    &format!(
                        "SELECT count(*) FROM pg_stat_activity \
                         WHERE datname = 'mp_sessions' AND {cond}"
                    ),
                )
            })
            .collect()
    };
    let mut row = Value::Null;
    wait_until(WAIT, "sessions to match pg_stat_activity", || {
        let before = activity();
        row = row_of(&probe(&agent, "sessions"), "mp_sessions").clone();
        let got: Vec<i64> = states.iter().map(|(k, _)| int(&row, k)).collect();
        before == got && got == activity()
    });
    assert_eq!(int(&row, "idle_in_xact"), 1, "{row}");
    assert_eq!(int(&row, "idle_in_xact_aborted"), 1, "{row}");
    assert_eq!(int(&row, "idle"), 1, "{row}");
    assert_eq!(int(&row, "active"), 1, "{row}");
    assert_eq!(int(&row, "waiting"), 0, "{row}");
    assert_eq!(int(&row, "no_priv"), 0, "{row}");

    // Every database that accepts connections appears, with zeros if need be.
    wait_until(WAIT, "sessions to list every database", || {
        let before = connectable(pg);
        let listed = dbnames_of(&probe(&agent, "sessions"));
        before == listed && listed == connectable(pg)
    });

    drop(in_xact);
    wait_until(WAIT, "the idle in transaction session to end", || {
        let rows = probe(&agent, "sessions");
        int(row_of(&rows, "mp_sessions"), "idle_in_xact") == 0
    });
}

#[test]
fn locks_count_a_held_access_exclusive_lock_and_a_waiter() {
    let pg = PgCluster::shared();
    pg.fresh_db("mp_locks");
    pg.psql("mp_locks", "CREATE TABLE t (a int)");
    let agent = agent(pg, "*");
    let mut holder = Bg::open(pg, "mp_locks");
    holder.send("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE;");
    let truth = |mode: &str, granted: bool| {
        psql_int(
            pg,
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
                 WHERE d.datname = 'mp_locks' AND l.mode = '{mode}' AND l.granted = {granted}"
            ),
        )
    };
    wait_until(WAIT, "the lock to be held", || {
        truth("AccessExclusiveLock", true) == 1
    });
    let _waiter = Bg::run(pg, "mp_locks", "SELECT * FROM t /* mp waiter */");
    wait_until(WAIT, "the reader to wait", || {
        truth("AccessShareLock", false) == 1
    });

    // Other backends (autovacuum, a connecting psql) may take catalog locks for a
    // moment: compare with pg_locks read just before and just after.
    let every_mode = |row: &Value| -> Vec<i64> {
        LOCK_MODES
            .iter()
            .flat_map(|m| [int(row, m), int(row, &format!("waiting_{m}"))])
            .chain([int(row, "siread")])
            .collect()
    };
    let pg_locks = || -> Vec<i64> {
        let modes = [
            "AccessShareLock",
            "RowShareLock",
            "RowExclusiveLock",
            "ShareUpdateExclusiveLock",
            "ShareLock",
            "ShareRowExclusiveLock",
            "ExclusiveLock",
            "AccessExclusiveLock",
        ];
        let mut counts: Vec<i64> = modes
            .iter()
            .flat_map(|m| [truth(m, true), truth(m, false)])
            .collect();
        counts.push(truth("SIReadLock", true) + truth("SIReadLock", false));
        counts
    };
    let mut row = Value::Null;
    wait_until(WAIT, "locks to match pg_locks", || {
        let before = pg_locks();
        row = row_of(&probe(&agent, "locks"), "mp_locks").clone();
        let after = pg_locks();
        before == every_mode(&row) && every_mode(&row) == after
    });
    assert_eq!(int(&row, "access_exclusive"), 1, "{row}");
    assert_eq!(int(&row, "waiting_access_share"), 1, "{row}");
    // The reader is a session waiting for a lock, not counted as active too
    // (active and waiting split the active sessions, as 7.x counts them).
    let sessions = probe(&agent, "sessions");
    let s = row_of(&sessions, "mp_locks");
    assert_eq!(int(s, "waiting"), 1, "{s}");
    assert_eq!(int(s, "active"), 0, "{s}");
    assert_eq!(int(s, "idle_in_xact"), 1, "{s}");

    // Zeros for a database nobody locks anything in.
    pg.fresh_db("mp_locks_none");
    wait_until(WAIT, "a row of zeros", || {
        let rows = probe(&agent, "locks");
        let none = row_of(&rows, "mp_locks_none");
        LOCK_MODES
            .iter()
            .all(|m| int(none, m) == 0 && int(none, &format!("waiting_{m}")) == 0)
    });

    drop(holder);
    wait_until(WAIT, "the locks to go", || {
        let rows = probe(&agent, "locks");
        let row = row_of(&rows, "mp_locks");
        int(row, "access_exclusive") == 0 && int(row, "waiting_access_share") == 0
    });
}

/// `pg_stat_database.<column>` of `db`, read from another database.
fn stat_database(pg: &PgCluster, db: &str, column: &str) -> i64 {
    psql_int(
        pg,
        "postgres",
        &format!("SELECT {column} FROM pg_stat_database WHERE datname = '{db}'"),
    )
}

/// Calls a counter probe (counters as read on demand) before and after `work`:
/// answers the probe's rows for `db` of both calls, each checked to lie between
/// the ground truth read with psql just before and just after the call (counters
/// only grow).
fn counters_around(
    pg: &PgCluster,
    agent: &Agent,
    name: &str,
    db: &str,
    (column, stat_column): (&str, &str),
    work: impl FnOnce(),
) -> (Value, Value) {
    let call = || {
        let low = stat_database(pg, db, stat_column);
        let rows = probe(agent, name);
        let high = stat_database(pg, db, stat_column);
        let row = row_of(&rows, db).clone();
        let value = int(&row, column);
        assert!((low..=high).contains(&value), "{low} <= {row} <= {high}");
        row
    };
    let before = call();
    work();
    (before, call())
}

#[test]
fn xacts_count_the_commits_and_rollbacks_made_between_two_calls() {
    let pg = PgCluster::shared();
    pg.fresh_db("mp_xacts");
    let agent = agent(pg, "*");
    let commits = 5;
    let rollbacks = 3;
    let (before, after) = counters_around(
        pg,
        &agent,
        "xacts",
        "mp_xacts",
        ("n_commit", "xact_commit"),
        || {
            let commits_base = stat_database(pg, "mp_xacts", "xact_commit");
            let rollbacks_base = stat_database(pg, "mp_xacts", "xact_rollback");
            for _ in 0..commits {
                pg.psql("mp_xacts", "SELECT 1");
            }
            for _ in 0..rollbacks {
                pg.psql("mp_xacts", "BEGIN; SELECT 1; ROLLBACK");
            }
            // A backend reports its counters when it exits, a moment after psql does.
            wait_until(WAIT, "the transactions to reach the statistics", || {
                stat_database(pg, "mp_xacts", "xact_commit") >= commits_base + commits
                    && stat_database(pg, "mp_xacts", "xact_rollback") >= rollbacks_base + rollbacks
            });
        },
    );
    assert!(
        int(&after, "n_commit") - int(&before, "n_commit") >= commits,
        "{before} then {after}"
    );
    let rolled_back = int(&after, "n_rollback") - int(&before, "n_rollback");
    assert!(rolled_back >= rollbacks, "{before} then {after}");
    assert!(
        int(&after, "n_rollback") <= stat_database(pg, "mp_xacts", "xact_rollback"),
        "{after}"
    );
}

#[test]
fn blocks_report_reads_and_hits_between_two_calls_and_their_ratio() {
    let pg = PgCluster::shared();
    pg.fresh_db("mp_blocks");
    pg.psql(
        "mp_blocks",
        "CREATE TABLE t AS SELECT g AS a FROM generate_series(1, 50000) g",
    );
    let agent = agent(pg, "*");
    let (before, row) = counters_around(
        pg,
        &agent,
        "blocks",
        "mp_blocks",
        ("blks_hit", "blks_hit"),
        || {
            let base = stat_database(pg, "mp_blocks", "blks_hit");
            pg.psql("mp_blocks", "SELECT count(*) FROM t");
            wait_until(WAIT, "the hits to reach the statistics", || {
                stat_database(pg, "mp_blocks", "blks_hit") > base
            });
        },
    );
    let hit = int(&row, "blks_hit");
    let read = int(&row, "blks_read");
    assert!(hit > int(&before, "blks_hit"), "{before} then {row}");
    assert!(read >= int(&before, "blks_read"), "{before} then {row}");
    // The ratio of the counters as read (the history's is over each interval).
    let ratio = row["hitmiss_ratio"].as_f64().unwrap();
    let expected = hit as f64 / (hit + read) as f64 * 100.0;
    assert!((ratio - expected).abs() < 1e-9, "{row}");
    assert!((0.0..=100.0).contains(&ratio), "{row}");
}

#[test]
fn temp_files_size_delta_counts_the_bytes_a_sort_spilled() {
    let pg = PgCluster::shared();
    pg.fresh_db("mp_temp");
    let agent = agent(pg, "*");
    let (before, after) = counters_around(
        pg,
        &agent,
        "temp_files_size_delta",
        "mp_temp",
        ("size", "temp_bytes"),
        || {
            let base = stat_database(pg, "mp_temp", "temp_bytes");
            pg.psql(
                "mp_temp",
                "SET work_mem = '64kB'; \
                 SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) g \
                 ORDER BY g DESC) s",
            );
            wait_until(WAIT, "the temporary bytes to reach the statistics", || {
                stat_database(pg, "mp_temp", "temp_bytes") > base
            });
        },
    );
    assert!(
        int(&after, "size") > int(&before, "size"),
        "{before} then {after}"
    );
}

#[test]
fn bgwriter_answers_the_counters_of_pg_stat_bgwriter() {
    let pg = PgCluster::shared();
    let agent = agent(pg, "*");
    let alloc = || psql_int(pg, "postgres", "SELECT buffers_alloc FROM pg_stat_bgwriter");
    // On demand, the counters as read (the spec's example): between the values
    // psql reads just before and just after.
    let before = alloc();
    let rows = probe(&agent, "bgwriter");
    let after = alloc();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_shape(pg, "bgwriter", &rows);
    let allocated = int(row, "buffers_alloc");
    assert!(
        (before..=after).contains(&allocated),
        "{before} <= {row} <= {after}"
    );
    let reset = pg.psql("postgres", "SELECT stats_reset::text FROM pg_stat_bgwriter");
    assert_eq!(row["stats_reset"], reset.as_str(), "{row}");
    for (k, v) in row.as_object().unwrap() {
        if let Some(n) = v.as_f64() {
            assert!(n >= 0.0, "{k}: {row}");
        }
    }
}

/// checkpoints_req of the bgwriter probe (counters as read).
fn requested_checkpoints(agent: &Agent) -> i64 {
    int(&probe(agent, "bgwriter")[0], "checkpoints_req")
}

/// A CHECKPOINT is a requested checkpoint on every version: PostgreSQL 17 moved the
/// counter to pg_stat_checkpointer (num_requested). 13 and 14 report it to their
/// statistics collector a moment later.
#[test]
fn bgwriter_counts_a_checkpoint_the_test_requests() {
    let pg = PgCluster::shared();
    let agent = agent(pg, "*");
    let before = requested_checkpoints(&agent);
    pg.psql("postgres", "CHECKPOINT");
    wait_until(WAIT, "the checkpoint in the bgwriter probe", || {
        requested_checkpoints(&agent) > before
    });
}

#[test]
fn tblspc_size_lists_every_tablespace_and_null_for_a_lost_one() {
    let pg = PgCluster::shared();
    let dir = tempfile::Builder::new()
        .prefix("tba-mp-tbs-")
        .tempdir()
        .unwrap();
    let location = dir.path().join("tbs");
    std::fs::create_dir(&location).unwrap();
    let status = std::process::Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    pg.fresh_db("mp_tbs");
    pg.psql("postgres", "DROP TABLESPACE IF EXISTS mp_tbs");
    pg.psql(
        "postgres",
        &format!("CREATE TABLESPACE mp_tbs LOCATION '{}'", location.display()),
    );
    pg.psql(
        "mp_tbs",
        "CREATE TABLE t WITH (autovacuum_enabled = off) TABLESPACE mp_tbs \
         AS SELECT g FROM generate_series(1, 10000) g",
    );
    let agent = agent(pg, "*");
    let rows = probe(&agent, "tblspc_size");
    assert_shape(pg, "tblspc_size", &rows);
    let size_of = |rows: &[Value], name: &str| -> Value {
        rows.iter()
            .find(|r| r["spcname"] == name)
            .unwrap_or_else(|| panic!("no {name} in {rows:?}"))["size"]
            .clone()
    };
    let truth = |name: &str| {
        psql_int(
            pg,
            "postgres",
            &format!("SELECT pg_tablespace_size('{name}')"),
        )
    };
    assert!(size_of(&rows, "pg_default").as_i64().unwrap() > 0);
    assert_eq!(size_of(&rows, "pg_global"), truth("pg_global"));
    assert_eq!(size_of(&rows, "mp_tbs"), truth("mp_tbs"));
    assert!(
        truth("mp_tbs") >= 8192 * 40,
        "the table's pages are in the tablespace"
    );

    // The location is gone: the size is null, the other tablespaces still answer.
    // Nothing may be left for a checkpoint to write or fsync there first: the shared
    // cluster's other tests request checkpoints (CREATE DATABASE), and one that finds
    // the location gone fails theirs. Frozen and checkpointed, with autovacuum off,
    // the table's files are not touched again while they are away.
    pg.psql("mp_tbs", "VACUUM (FREEZE) t");
    pg.psql("postgres", "CHECKPOINT");
    let moved = dir.path().join("moved");
    std::fs::rename(&location, &moved).unwrap();
    let rows = probe(&agent, "tblspc_size");
    assert_eq!(size_of(&rows, "mp_tbs"), Value::Null, "{rows:?}");
    assert_eq!(size_of(&rows, "pg_global"), truth("pg_global"));
    std::fs::rename(&moved, &location).unwrap();

    pg.psql("postgres", "DROP DATABASE mp_tbs WITH (FORCE)");
    pg.psql("postgres", "DROP TABLESPACE mp_tbs");
    let rows = probe(&agent, "tblspc_size");
    assert!(rows.iter().all(|r| r["spcname"] != "mp_tbs"), "{rows:?}");
}

#[test]
fn wal_files_reports_the_segments_and_the_wal_written_between_two_calls() {
    let pg = PgCluster::shared();
    pg.fresh_db("mp_wal");
    let agent = agent(pg, "*");
    let lsn = || {
        psql_int(
            pg,
            "postgres",
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint",
        )
    };
    let l0 = lsn();
    assert!(
        probe(&agent, "wal_files").is_empty(),
        "the first call sets the baseline"
    );
    let l1 = lsn();
    pg.psql(
        "mp_wal",
        "CREATE TABLE t AS SELECT g, repeat('w', 100) AS x FROM generate_series(1, 20000) g",
    );
    let l2 = lsn();
    let rows = probe(&agent, "wal_files");
    let l3 = lsn();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_shape(pg, "wal_files", &rows);
    let row = &rows[0];
    let written = int(row, "written_size");
    assert!(l2 - l1 > 2_000_000, "the test wrote WAL");
    assert!(
        (l2 - l1..=l3 - l0).contains(&written),
        "{} <= {row} <= {}",
        l2 - l1,
        l3 - l0
    );
    // The position is the one PostgreSQL reports, in its text form.
    let location = row["current_location"].as_str().unwrap();
    let at = psql_int(
        pg,
        "postgres",
        &format!("SELECT pg_wal_lsn_diff('{location}', '0/0')::bigint"),
    );
    assert!((l2..=l3).contains(&at), "{l2} <= {location} <= {l3}");
    // Segments: their number and bytes, as pg_ls_waldir lists them.
    let segment = psql_int(
        pg,
        "postgres",
        "SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'",
    );
    let total = int(row, "total");
    assert!(total >= 1, "{row}");
    assert_eq!(
        row["total_size"].as_f64().unwrap(),
        (total * segment) as f64,
        "{row}"
    );
    wait_until(WAIT, "total to match pg_ls_waldir", || {
        let listed = |pg: &PgCluster| {
            psql_int(
                pg,
                "postgres",
                "SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'",
            )
        };
        let before = listed(pg);
        let rows = probe(&agent, "wal_files");
        let total = int(&rows[0], "total");
        before == total && total == listed(pg)
    });
    assert_eq!(int(row, "archive_ready"), 0, "archiving is off: {row}");
    // The variant for PostgreSQL 10 and 11 (pg_ls_dir on archive_status) runs too.
    let old = pg.psql("postgres", find("wal_files").unwrap().sql[0].text);
    assert_eq!(old.split('|').count(), 5, "{old}");
}

/// The probe's ratio against the same SQL run with psql in that database.
fn assert_bloat_ratio(pg: &PgCluster, agent: &Agent, name: &str, sql: &str, db: &str) -> f64 {
    let mut seen = (Value::Null, String::new());
    wait_until(WAIT, &format!("{name} of {db} to match psql"), || {
        let rows = probe(agent, name);
        let ratio = row_of(&rows, db)["ratio"].clone();
        let truth = pg.psql(db, sql);
        let matches = match (ratio.as_f64(), truth.parse::<f64>()) {
            (Some(r), Ok(t)) => (r - t).abs() < 1e-6 * t.abs().max(1.0),
            _ => false,
        };
        seen = (ratio, truth);
        matches
    });
    let ratio = seen.0.as_f64().unwrap();
    assert!((0.0..=100.0).contains(&ratio), "{name}: {seen:?}");
    ratio
}

#[test]
fn bloat_probes_estimate_each_database_from_its_statistics() {
    let pg = PgCluster::shared();
    pg.fresh_db("mp_bloat");
    pg.psql(
        "mp_bloat",
        "CREATE TABLE t (id int PRIMARY KEY, x text) WITH (autovacuum_enabled = false); \
         INSERT INTO t SELECT g, repeat('b', 50) FROM generate_series(1, 50000) g; \
         DELETE FROM t WHERE id % 2 = 0; ANALYZE t",
    );
    let agent = agent(pg, "*");
    for name in ["heap_bloat", "btree_bloat"] {
        // The probe's whole SQL: the shared estimate and the probe's aggregate.
        let sql = find(name).unwrap().sql[0].text;
        let rows = probe(&agent, name);
        assert_shape(pg, name, &rows);
        // One row per database that accepts connections.
        let listed = dbnames_of(&rows);
        assert_eq!(listed.len(), rows.len(), "{rows:?}");
        assert!(listed.contains("mp_bloat") && listed.contains("postgres"));
        assert!(listed.contains("template1") && !listed.contains("template0"));
        let ratio = assert_bloat_ratio(pg, &agent, name, sql, "mp_bloat");
        // Half the rows are dead and the table's pages are still there.
        assert!(ratio > 10.0, "{name}: {ratio}");
        assert_bloat_ratio(pg, &agent, name, sql, "template1");
    }
}

#[test]
fn dbnames_restricts_the_rows_to_the_configured_databases() {
    let pg = PgCluster::shared();
    pg.fresh_db("mp_only");
    pg.fresh_db("mp_other");
    let agent = agent(pg, "mp_only");
    for name in PER_DATABASE_ROWS {
        let rows = probe(&agent, name);
        assert_eq!(
            dbnames_of(&rows),
            BTreeSet::from(["mp_only".to_string()]),
            "{name}: {rows:?}"
        );
        assert_eq!(rows.len(), 1, "{name}: {rows:?}");
    }
    // Instance-wide probes are not filtered.
    assert!(probe(&agent, "tblspc_size").len() >= 2);
    assert_eq!(probe(&agent, "bgwriter").len(), 1);
}

#[test]
fn on_a_standby_the_replication_probes_answer_and_wal_files_is_skipped() {
    // A private primary: a standby on the same host cannot follow one where other
    // tests create tablespaces (their locations would clash).
    let primary = &PgCluster::start();
    let standby = primary.start_standby();
    let on_standby = agent(&standby, "*");
    let on_primary = agent(primary, "*");
    assert!(probe(&on_standby, "wal_files").is_empty());
    assert!(
        probe(&on_standby, "wal_files").is_empty(),
        "no row, not even a delta"
    );
    // Lone primary or primary with a standby: the probes watch the standby side.
    assert!(probe(&on_primary, "replication_lag").is_empty());
    assert!(probe(&on_primary, "replication_connection").is_empty());

    let mut connection = Vec::new();
    wait_until(WAIT, "the standby to stream", || {
        connection = probe(&on_standby, "replication_connection");
        connection.len() == 1 && connection[0]["connected"] == 1
    });
    assert_shape(&standby, "replication_connection", &connection);
    let upstream = connection[0]["upstream"].as_str().unwrap();
    assert_eq!(upstream, primary.socket_dir().display().to_string());

    // Replay paused: the standby receives WAL it does not replay.
    standby.psql("postgres", "SELECT pg_wal_replay_pause()");
    primary.psql(
        "postgres",
        "CREATE TABLE mp_standby_lag AS SELECT g FROM generate_series(1, 10000) g; \
         DROP TABLE mp_standby_lag",
    );
    let mut lag = Vec::new();
    wait_until(WAIT, "a replay lag", || {
        lag = probe(&on_standby, "replication_lag");
        lag.len() == 1 && lag[0]["lag"].as_i64().is_some_and(|l| l > 100_000)
    });
    assert_shape(&standby, "replication_lag", &lag);
    standby.psql("postgres", "SELECT pg_wal_replay_resume()");
    wait_until(WAIT, "the standby to catch up", || {
        probe(&on_standby, "replication_lag")[0]["lag"] == 0
    });

    // A CHECKPOINT on a standby is a restartpoint: counted as a requested
    // checkpoint, as before 17 (17 counts restartpoints apart; added back).
    let before = requested_checkpoints(&on_standby);
    standby.psql("postgres", "CHECKPOINT");
    wait_until(WAIT, "the restartpoint in the bgwriter probe", || {
        requested_checkpoints(&on_standby) > before
    });

    // Every SQL probe runs on a standby too.
    for p in PROBES.iter().filter(|p| p.level != Level::Host) {
        let rows = probe(&on_standby, p.name);
        assert_shape(&standby, p.name, &rows);
    }
}
