//! Every monitoring probe, one line each: its name, where it runs (host, instance,
//! or inside each selected database), the oldest server it supports, its SQL
//! variants (`sql/monitoring/<name>.sql`, and `<name>.<server_version_num>.sql` for
//! servers at or above that version), which columns are counters reported as the
//! difference since the previous run (and the columns that key a row), and whether
//! `probes = *` schedules it. Adding a probe is one `.sql` file and one line here;
//! the unit tests below fail when a file has no line or a line names no file.

use super::row::Row;

/// Where a probe runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Reads the host (/proc, statvfs); no PostgreSQL.
    Host,
    /// One query on the configured database; rows carrying `dbname` are kept for the
    /// selected databases only.
    Instance,
    /// The query runs in each selected database, one connection at a time; the
    /// runner adds `dbname` to each row.
    Database,
}

/// One SQL text, used on servers at or above `since` (server_version_num) until
/// a later variant takes over.
#[derive(Debug)]
pub struct Variant {
    pub since: u32,
    pub file: &'static str,
    pub text: &'static str,
}

/// Counters reported as the change since the probe's previous run.
#[derive(Debug)]
pub struct Delta {
    /// Columns that identify a row between runs (e.g. `dbname`, `cpu`).
    pub key: &'static [&'static str],
    /// Counter columns: the row reports `now - previous`, plus `measure_interval`.
    pub columns: &'static [&'static str],
    /// Columns computed from the deltas (e.g. a ratio), after subtraction.
    pub derive: Option<fn(&mut Row)>,
}

#[derive(Debug)]
pub struct Probe {
    pub name: &'static str,
    pub level: Level,
    /// Oldest server_version_num the probe supports (0: any, or a host probe).
    pub min_version: u32,
    /// SQL variants, oldest first; empty for host probes.
    pub sql: &'static [Variant],
    pub delta: Option<Delta>,
    /// Whether `[monitoring] probes = *` runs it periodically. Expensive probes
    /// run periodically only when named in `probes`.
    pub default_on: bool,
}

impl Probe {
    /// The SQL for a server: the highest variant at or below its version.
    pub fn sql_for(&self, server_version_num: u32) -> Option<&'static Variant> {
        if server_version_num < self.min_version {
            return None;
        }
        self.sql
            .iter()
            .filter(|v| v.since <= server_version_num)
            .max_by_key(|v| v.since)
    }
}

macro_rules! sql {
    ($since:expr, $file:literal) => {
        Variant {
            since: $since,
            file: $file,
            text: include_str!(concat!("../../sql/monitoring/", $file)),
        }
    };
}

const fn host(name: &'static str, delta: Option<Delta>) -> Probe {
    Probe {
        name,
        level: Level::Host,
        min_version: 0,
        sql: &[],
        delta,
        default_on: true,
    }
}

/// Every probe, in the order of the history record's `data`.
pub static PROBES: &[Probe] = &[
    Probe {
        name: "db_size",
        level: Level::Instance,
        min_version: 0,
        sql: &[sql!(0, "db_size.sql")],
        delta: None,
        default_on: true,
    },
    host(
        "cpu",
        Some(Delta {
            key: &["cpu"],
            columns: &[
                "time_user",
                "time_system",
                "time_idle",
                "time_iowait",
                "time_steal",
            ],
            derive: None,
        }),
    ),
    host(
        "process",
        Some(Delta {
            key: &[],
            columns: &["forks", "context_switches"],
            derive: None,
        }),
    ),
    host("memory", None),
    host("loadavg", None),
    host("filesystems_size", None),
];

pub fn find(name: &str) -> Option<&'static Probe> {
    PROBES.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant_name(file: &str) -> (&str, u32) {
        let stem = file.strip_suffix(".sql").expect("a .sql file");
        match stem.split_once('.') {
            Some((name, since)) => (name, since.parse().expect("a server_version_num")),
            None => (stem, 0),
        }
    }

    #[test]
    fn every_sql_file_has_a_registry_line() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/sql/monitoring");
        for entry in std::fs::read_dir(dir).unwrap() {
            let file = entry.unwrap().file_name().into_string().unwrap();
            if !file.ends_with(".sql") {
                continue;
            }
            let (name, since) = variant_name(&file);
            let probe = find(name).unwrap_or_else(|| panic!("{file}: no probe named {name}"));
            assert!(
                probe.sql.iter().any(|v| v.file == file && v.since == since),
                "{file}: probe {name} does not list it"
            );
        }
    }

    #[test]
    fn every_registry_line_is_consistent() {
        let mut names = std::collections::HashSet::new();
        for p in PROBES {
            assert!(names.insert(p.name), "{} registered twice", p.name);
            match p.level {
                Level::Host => assert!(p.sql.is_empty(), "{}: host probe with SQL", p.name),
                _ => assert!(!p.sql.is_empty(), "{}: SQL probe without a file", p.name),
            }
            for v in p.sql {
                assert_eq!(variant_name(v.file), (p.name, v.since), "{}", v.file);
            }
            let mut sinces: Vec<u32> = p.sql.iter().map(|v| v.since).collect();
            sinces.dedup();
            assert_eq!(sinces.len(), p.sql.len(), "{}: two variants", p.name);
        }
    }

    #[test]
    fn the_highest_variant_at_or_below_the_server_wins() {
        static P: Probe = Probe {
            name: "x",
            level: Level::Instance,
            min_version: 100000,
            sql: &[
                Variant {
                    since: 0,
                    file: "x.sql",
                    text: "a",
                },
                Variant {
                    since: 170000,
                    file: "x.170000.sql",
                    text: "b",
                },
            ],
            delta: None,
            default_on: true,
        };
        assert!(P.sql_for(90600).is_none());
        assert_eq!(P.sql_for(150018).unwrap().text, "a");
        assert_eq!(P.sql_for(170000).unwrap().text, "b");
        assert_eq!(P.sql_for(180001).unwrap().text, "b");
    }
}
