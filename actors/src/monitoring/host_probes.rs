//! The host probes' raw rows, from the pure readers of `crate::host`: counters as
//! read (the registry's delta columns are subtracted by the caller), no `datetime`
//! (added by the caller), and the record's `hostinfo`. Blocking (files of /proc,
//! statvfs time-boxed by `host::filesystems`): callers run it on a blocking thread.
//! Units: bytes for sizes, milliseconds for CPU times.

use serde_json::{json, Value};

use super::row::Row;
use crate::host::{cpu, cpu_info, filesystems, load, memory, net, platform, process, HostError};

/// The raw rows of the host probe `name`; `log` hears of the filesystems skipped.
pub fn read(name: &str, log: &slog::Logger) -> Result<Vec<Row>, HostError> {
    match name {
        "memory" => memory_rows(),
        "loadavg" => loadavg_rows(),
        "cpu" => cpu_rows(),
        "process" => process_rows(),
        "filesystems_size" => filesystems_rows(log),
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

/// One row per CPU (`cpu0`, `cpu1`, ... as /proc/stat names them): cumulated
/// milliseconds since boot, grouped as the dashboard groups them so that the five
/// add up to the time elapsed: `time_user` counts nice time too (guest time is
/// already in user), `time_system` counts irq and softirq.
fn cpu_rows() -> Result<Vec<Row>, HostError> {
    let ticks = cpu::ticks_per_second();
    let ms = |t: u64| Value::from(cpu::ticks_to_ms(t, ticks));
    Ok(cpu::read_named()?
        .into_iter()
        .map(|(name, t)| {
            let mut row = Row::new();
            row.insert("cpu".into(), Value::from(name));
            row.insert("time_user".into(), ms(t.user + t.nice));
            row.insert("time_system".into(), ms(t.system + t.irq + t.softirq));
            row.insert("time_idle".into(), ms(t.idle));
            row.insert("time_iowait".into(), ms(t.iowait));
            row.insert("time_steal".into(), ms(t.steal));
            row
        })
        .collect())
}

/// One row: forks and context switches cumulated since boot, processes running
/// and blocked now, and the number of processes, as text like the spec's example
/// (`"procs_total": "486"`).
fn process_rows() -> Result<Vec<Row>, HostError> {
    let stat = process::read_stat()?;
    let total = process::count()?;
    let mut row = Row::new();
    row.insert("forks".into(), Value::from(stat.forks));
    row.insert(
        "context_switches".into(),
        Value::from(stat.context_switches),
    );
    row.insert("procs_running".into(), Value::from(stat.procs_running));
    row.insert("procs_blocked".into(), Value::from(stat.procs_blocked));
    row.insert("procs_total".into(), Value::from(total.to_string()));
    Ok(vec![row])
}

/// One row per real filesystem (see `host::filesystems` for which): device,
/// mount_point, total and used bytes. A filesystem whose statvfs failed or did not
/// answer in time has no row this time.
fn filesystems_rows(log: &slog::Logger) -> Result<Vec<Row>, HostError> {
    let read = filesystems::read()?;
    for skipped in &read.skipped {
        // A mount still stuck since an earlier run was already told of.
        if skipped.reason == filesystems::SkipReason::StillStuck {
            slog::debug!(log, "monitoring: filesystem skipped, statvfs still stuck";
                "mount_point" => &skipped.mount_point);
        } else {
            slog::warn!(log, "monitoring: filesystem skipped";
                "mount_point" => &skipped.mount_point, "reason" => ?skipped.reason);
        }
    }
    Ok(read
        .sizes
        .into_iter()
        .map(|fs| {
            let mut row = Row::new();
            row.insert("device".into(), Value::from(fs.device));
            row.insert("mount_point".into(), Value::from(fs.mount_point));
            row.insert("total".into(), Value::from(fs.total));
            row.insert("used".into(), Value::from(fs.used));
            row
        })
        .collect())
}

/// The record's `hostinfo`, with the keys and types of the 7.x record: hostname,
/// os (`Linux`), os_version (kernel release), cpu_arch, cpus (text fields of
/// /proc/cpuinfo), cpu_count, memory_size (bytes), ip_addresses, filesystems (the
/// `filesystems_size` rows without `datetime`) and os_flavor (e.g. `Debian 12.11`).
/// Never fails: what cannot be read is null (an empty list for lists), so one
/// unreadable file does not cost the record the rest.
pub fn hostinfo(hostname: &str, log: &slog::Logger) -> Value {
    let uname = platform::uname().ok();
    let os = uname.as_ref().map_or("Linux", |u| u.os.as_str());
    json!({
        "hostname": hostname,
        "os": os,
        "os_version": uname.as_ref().map(|u| u.release.clone()),
        "cpu_arch": uname.as_ref().map(|u| u.machine.clone()),
        "cpus": cpu_info::read().unwrap_or_default(),
        "cpu_count": cpu::count(),
        "memory_size": memory::total_bytes(),
        "ip_addresses": net::ip_addresses().unwrap_or_default(),
        "filesystems": filesystems_rows(log).unwrap_or_default(),
        "os_flavor": platform::read_os_flavor().unwrap_or_else(|| os.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discard() -> slog::Logger {
        slog::Logger::root(slog::Discard, slog::o!())
    }

    fn keys(row: &Row) -> Vec<&str> {
        let mut k: Vec<&str> = row.keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    #[test]
    fn host_cpu_rows_are_cumulative_integer_milliseconds() {
        let rows = read("cpu", &discard()).unwrap();
        assert_eq!(rows.len(), cpu::count());
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(
                keys(row),
                [
                    "cpu",
                    "time_idle",
                    "time_iowait",
                    "time_steal",
                    "time_system",
                    "time_user"
                ]
            );
            assert!(
                row["cpu"].as_str().unwrap().starts_with("cpu"),
                "{i}: {row:?}"
            );
            assert!(row["time_idle"].as_u64().unwrap() > 0);
        }
    }

    #[test]
    fn host_process_row_as_the_spec_example() {
        let rows = read("process", &discard()).unwrap();
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(
            keys(row),
            [
                "context_switches",
                "forks",
                "procs_blocked",
                "procs_running",
                "procs_total"
            ]
        );
        assert!(row["forks"].as_u64().unwrap() > 0);
        let total: u64 = row["procs_total"].as_str().unwrap().parse().unwrap();
        assert!(total >= 1);
        assert!(row["procs_running"].is_u64() && row["procs_blocked"].is_u64());
    }

    #[test]
    fn host_filesystems_rows() {
        for row in read("filesystems_size", &discard()).unwrap() {
            assert_eq!(keys(&row), ["device", "mount_point", "total", "used"]);
            assert!(row["total"].as_u64().unwrap() >= row["used"].as_u64().unwrap());
        }
    }

    #[test]
    fn host_hostinfo_has_exactly_the_record_keys() {
        // The keys of shared/spec/samples/monitoring-history.json's hostinfo.
        let info = hostinfo(
            "db1.example.com",
            &slog::Logger::root(slog::Discard, slog::o!()),
        );
        let obj = info.as_object().unwrap();
        let mut k: Vec<&str> = obj.keys().map(String::as_str).collect();
        k.sort_unstable();
        assert_eq!(
            k,
            [
                "cpu_arch",
                "cpu_count",
                "cpus",
                "filesystems",
                "hostname",
                "ip_addresses",
                "memory_size",
                "os",
                "os_flavor",
                "os_version"
            ]
        );
        assert_eq!(info["os"], "Linux");
        assert!(info["cpu_count"].as_u64().unwrap() >= 1);
        assert!(info["memory_size"].as_u64().unwrap() > 0);
        assert!(info["os_flavor"].as_str().is_some_and(|f| !f.is_empty()));
        assert!(info["ip_addresses"]
            .as_array()
            .unwrap()
            .contains(&json!("127.0.0.1")));
        let cpu0 = info["cpus"][0].as_object().unwrap();
        assert_eq!(
            keys(cpu0),
            [
                "cache_size",
                "core_id",
                "cpu_mhz",
                "model_name",
                "processor"
            ]
        );
        assert!(cpu0.values().all(Value::is_string));
    }

    #[test]
    fn host_unknown_probe_is_an_error() {
        assert!(read("nope", &discard()).is_err());
    }
}
