//! What a dashboard sample is: the host part (always fresh) and the PostgreSQL part
//! (fresh, or the last good one when PostgreSQL did not answer, or nulls before any),
//! with the spec's JSON keys plus the two 7.x keys the temBoard web UI reads
//! (`cpu_models`, `linux_distribution`). Also the one-value measurements of the
//! single-value endpoints. Pure data and pure functions: no I/O, no actor.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::host::cpu::{self, CpuStat, CpuUsage};
use crate::host::memory::{Memory, MemoryUsage};

/// Seconds since the epoch with microseconds, as the spec's `time` fields.
pub fn epoch_now() -> f64 {
    chrono::Utc::now().timestamp_micros() as f64 / 1e6
}

/// A counter read at a time: `buffers` and `active_backends`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Counter {
    pub nb: i64,
    pub time: f64,
}

/// The `databases` object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Databases {
    pub databases: i64,
    /// As pg_size_pretty writes it: "1242 MB".
    pub total_size: String,
    /// The server's local time, HH:MM.
    pub time: String,
    pub total_commit: i64,
    pub total_rollback: i64,
    pub timestamp: f64,
}

/// Settings and facts of the instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub pg_version: String,
    pub max_connections: i32,
    pub pg_data: String,
    pub pg_port: String,
    pub pg_uptime: String,
}

/// One complete reading of PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub struct PgPart {
    pub buffers: Counter,
    pub hitratio: Option<f64>,
    pub active_backends: Counter,
    pub databases: Databases,
    pub instance: Instance,
}

/// The PostgreSQL keys of a sample; all null before PostgreSQL ever answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PgFields {
    pub buffers: Option<Counter>,
    pub hitratio: Option<f64>,
    pub active_backends: Option<Counter>,
    pub max_connections: Option<i32>,
    pub databases: Option<Databases>,
    pub pg_uptime: Option<String>,
    pub pg_version: Option<String>,
    pub pg_data: Option<String>,
    pub pg_port: Option<String>,
}

impl From<PgPart> for PgFields {
    fn from(p: PgPart) -> PgFields {
        PgFields {
            buffers: Some(p.buffers),
            hitratio: p.hitratio,
            active_backends: Some(p.active_backends),
            max_connections: Some(p.instance.max_connections),
            databases: Some(p.databases),
            pg_uptime: Some(p.instance.pg_uptime),
            pg_version: Some(p.instance.pg_version),
            pg_data: Some(p.instance.pg_data),
            pg_port: Some(p.instance.pg_port),
        }
    }
}

/// What is read of the host once, at start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFacts {
    pub hostname: String,
    pub os_version: String,
    pub cpu_models: BTreeMap<String, usize>,
    pub linux_distribution: String,
}

/// CPU model name (as /proc/cpuinfo writes it) -> number of CPUs of that model, as
/// temboard-agent 7.x's `cpu_models`.
pub fn count_models(models: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for model in models {
        *counts.entry(model.clone()).or_insert(0) += 1;
    }
    counts
}

/// The host keys of a sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostPart {
    pub hostname: String,
    pub os_version: String,
    pub n_cpu: usize,
    pub cpu: CpuUsage,
    pub loadaverage: f64,
    pub memory: MemoryUsage,
    /// Beyond the spec: the temBoard web UI 7.x's dashboard page reads it.
    pub cpu_models: BTreeMap<String, usize>,
    /// Beyond the spec: the temBoard web UI 7.x's dashboard page reads it.
    pub linux_distribution: String,
}

impl HostPart {
    /// The host part from readings already made; CPU usage is over the interval since
    /// `previous` (all zeros without one).
    pub fn from_readings(
        facts: &HostFacts,
        previous: Option<&CpuStat>,
        now: &CpuStat,
        loadaverage: f64,
        memory: &Memory,
    ) -> HostPart {
        HostPart {
            hostname: facts.hostname.clone(),
            os_version: facts.os_version.clone(),
            cpu_models: facts.cpu_models.clone(),
            linux_distribution: facts.linux_distribution.clone(),
            n_cpu: now.count(),
            cpu: previous.map_or_else(CpuUsage::default, |p| cpu::usage(&p.total, &now.total)),
            loadaverage,
            memory: MemoryUsage::from(memory),
        }
    }
}

/// One dashboard sample, serialized with the keys of the spec's /dashboard/history
/// example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    #[serde(flatten)]
    pub host: HostPart,
    #[serde(flatten)]
    pub pg: PgFields,
}

/// A sample shared between the history, the sampler and replies without copying.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedSample(pub Arc<Sample>);

impl Serialize for SharedSample {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// What a single-value endpoint asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Buffers,
    Hitratio,
    ActiveBackends,
    Cpu,
    Loadaverage,
    Memory,
    Hostname,
    OsVersion,
    PgVersion,
    NCpu,
    Databases,
    Info,
    MaxConnections,
}

impl Metric {
    pub fn needs_postgresql(self) -> bool {
        matches!(
            self,
            Metric::Buffers
                | Metric::Hitratio
                | Metric::ActiveBackends
                | Metric::PgVersion
                | Metric::Databases
                | Metric::Info
                | Metric::MaxConnections
        )
    }
}

/// `/dashboard/info`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Info {
    pub hostname: String,
    pub os_version: String,
    pub pg_port: String,
    pub pg_uptime: String,
    pub pg_version: String,
    pub pg_data: String,
}

/// The answer of a single-value endpoint: `{"<name>": value}`, or the flat object of
/// /dashboard/info.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measurement {
    Buffers(Counter),
    Hitratio(Option<f64>),
    ActiveBackends(Counter),
    Cpu(CpuUsage),
    Loadaverage(f64),
    Memory(MemoryUsage),
    Hostname(String),
    OsVersion(String),
    PgVersion(String),
    NCpu(usize),
    Databases(Databases),
    MaxConnections(i32),
    #[serde(untagged)]
    Info(Info),
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// A host part as the spec's example has it (also the renderer's fixture).
    pub(crate) fn host() -> HostPart {
        HostPart {
            hostname: "neptune".to_string(),
            os_version: "Linux 6.1.0".to_string(),
            n_cpu: 4,
            cpu: CpuUsage {
                user: 2.5,
                system: 0.0,
                idle: 97.5,
                iowait: 0.0,
                steal: 0.0,
            },
            loadaverage: 0.28,
            memory: MemoryUsage {
                total: 3950660,
                active: 46.9,
                cached: 20.2,
                free: 32.9,
            },
            cpu_models: count_models(&vec![
                "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz".to_string();
                4
            ]),
            linux_distribution: "Debian GNU/Linux 12 (bookworm)".to_string(),
        }
    }

    fn pg() -> PgPart {
        PgPart {
            buffers: Counter {
                nb: 348247,
                time: 1429617751.276508,
            },
            hitratio: Some(98.0),
            active_backends: Counter {
                nb: 1,
                time: 1429617751.29224,
            },
            databases: Databases {
                databases: 4,
                total_size: "1242 MB".to_string(),
                time: "14:02".to_string(),
                total_commit: 16728291,
                total_rollback: 873,
                timestamp: 1429617751.3,
            },
            instance: Instance {
                pg_version: "PostgreSQL 15.18 on x86_64".to_string(),
                max_connections: 100,
                pg_data: "/var/lib/postgresql/15/main".to_string(),
                pg_port: "5432".to_string(),
                pg_uptime: "01:50:31.573788".to_string(),
            },
        }
    }

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    const SAMPLE_KEYS: [&str; 17] = [
        "active_backends",
        "buffers",
        "cpu",
        "cpu_models",
        "databases",
        "hitratio",
        "hostname",
        "linux_distribution",
        "loadaverage",
        "max_connections",
        "memory",
        "n_cpu",
        "os_version",
        "pg_data",
        "pg_port",
        "pg_uptime",
        "pg_version",
    ];

    #[test]
    fn a_sample_has_the_history_example_keys_and_types() {
        let s = Sample {
            host: host(),
            pg: pg().into(),
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(keys(&v), SAMPLE_KEYS);
        assert_eq!(v["n_cpu"], json!(4));
        assert_eq!(v["pg_port"], json!("5432"));
        assert_eq!(v["hitratio"], json!(98.0));
        assert_eq!(v["memory"]["total"], json!(3950660));
        assert_eq!(
            v["buffers"],
            json!({"nb": 348247, "time": 1429617751.276508})
        );
        assert_eq!(v["databases"]["total_size"], json!("1242 MB"));
        assert_eq!(
            v["cpu_models"],
            json!({"Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz": 4})
        );
        assert_eq!(
            v["linux_distribution"],
            json!("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            keys(&v["cpu"]),
            ["idle", "iowait", "steal", "system", "user"]
        );
        assert_eq!(
            keys(&v["databases"]),
            [
                "databases",
                "time",
                "timestamp",
                "total_commit",
                "total_rollback",
                "total_size"
            ]
        );
    }

    #[test]
    fn without_postgresql_the_pg_keys_are_null() {
        let s = Sample {
            host: host(),
            pg: PgFields::default(),
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(keys(&v), SAMPLE_KEYS);
        assert!(v["buffers"].is_null() && v["pg_version"].is_null());
        assert_eq!(v["hostname"], json!("neptune"));
    }

    #[test]
    fn cpu_models_count_the_cpus_of_each_model() {
        let models: Vec<String> = ["A", "B", "A", "A"].iter().map(|m| m.to_string()).collect();
        assert_eq!(
            serde_json::to_value(count_models(&models)).unwrap(),
            json!({"A": 3, "B": 1})
        );
        assert_eq!(serde_json::to_value(count_models(&[])).unwrap(), json!({}));
    }

    #[test]
    fn measurements_are_single_key_objects_but_info() {
        let v = |m: Measurement| serde_json::to_value(m).unwrap();
        assert_eq!(v(Measurement::NCpu(4)), json!({"n_cpu": 4}));
        assert_eq!(v(Measurement::Hitratio(None)), json!({"hitratio": null}));
        assert_eq!(
            v(Measurement::MaxConnections(100)),
            json!({"max_connections": 100})
        );
        assert_eq!(
            v(Measurement::ActiveBackends(pg().active_backends)),
            json!({"active_backends": {"nb": 1, "time": 1429617751.29224}})
        );
        assert_eq!(
            v(Measurement::OsVersion("Linux 4.9".to_string())),
            json!({"os_version": "Linux 4.9"})
        );
        let p = pg();
        let info = v(Measurement::Info(Info {
            hostname: "h".to_string(),
            os_version: "Linux 4.9".to_string(),
            pg_port: p.instance.pg_port,
            pg_uptime: p.instance.pg_uptime,
            pg_version: p.instance.pg_version,
            pg_data: p.instance.pg_data,
        }));
        assert_eq!(
            keys(&info),
            [
                "hostname",
                "os_version",
                "pg_data",
                "pg_port",
                "pg_uptime",
                "pg_version"
            ]
        );
    }
}
