//! The host probes' raw rows, from the pure readers of `crate::host`: counters as
//! read (the registry's delta columns are subtracted by the caller), no `datetime`
//! (added by the caller). Blocking: the runner calls it on a blocking thread.

use serde_json::Value;

use super::row::Row;
use crate::host::{load, memory, HostError};

/// The raw rows of the host probe `name`.
pub fn read(name: &str) -> Result<Vec<Row>, HostError> {
    match name {
        "memory" => memory_rows(),
        "loadavg" => loadavg_rows(),
        // TODO(issue 5, host helper): cpu, process, filesystems_size.
        "cpu" | "process" | "filesystems_size" => Ok(Vec::new()),
        other => Err(HostError {
            file: "host probes",
            message: format!("no host probe named {other}"),
        }),
    }
}

fn memory_rows() -> Result<Vec<Row>, HostError> {
    let m = memory::read()?;
    let mut row = Row::new();
    // 7.x: used is everything not free (buffers and cache included).
    row.insert("mem_total".into(), Value::from(m.total));
    row.insert(
        "mem_used".into(),
        Value::from(m.total.saturating_sub(m.free)),
    );
    row.insert("mem_free".into(), Value::from(m.free));
    row.insert("mem_buffers".into(), Value::from(m.buffers));
    row.insert("mem_cached".into(), Value::from(m.cached));
    row.insert("swap_total".into(), Value::from(m.swap_total));
    row.insert("swap_used".into(), Value::from(m.swap_used()));
    Ok(vec![row])
}

fn loadavg_rows() -> Result<Vec<Row>, HostError> {
    let l = load::read()?;
    let mut row = Row::new();
    // The spec's example gives them as text with two decimals.
    for (key, v) in [("load1", l.one), ("load5", l.five), ("load15", l.fifteen)] {
        row.insert(key.into(), Value::from(format!("{v:.2}")));
    }
    Ok(vec![row])
}

/// The record's `hostinfo`: hostname, os, os_version, cpu_arch, cpus, cpu_count,
/// memory_size, ip_addresses, filesystems, os_flavor.
// TODO(issue 5, host helper): every field of the 7.x record.
pub fn hostinfo(hostname: &str) -> Value {
    serde_json::json!({
        "hostname": hostname,
        "cpu_count": crate::host::cpu::count(),
        "memory_size": memory::total_bytes(),
    })
}
