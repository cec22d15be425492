//! The figures every benchmark prints, computed one way: percentiles (nearest rank,
//! so that p100 is the maximum and p50 of two values is the smaller one, a value
//! that was measured) and the agent's own readings of /proc/<pid> (resident memory,
//! CPU time). Included by each bench with `#[path]`, like tests/common.
#![allow(dead_code)]

use std::time::Duration;

/// The `p` quantile (0 to 1) of `values` by nearest rank; None when there is none.
pub fn percentile<T: Copy + PartialOrd>(values: &[T], p: f64) -> Option<T> {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied()
}

/// `percentile` of latencies, in milliseconds; NaN when there is none.
pub fn percentile_ms(latencies: &[Duration], p: f64) -> f64 {
    percentile(latencies, p).map_or(f64::NAN, ms)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A `kB` field of /proc/<pid>/status (`VmRSS:`, `VmHWM:`) or a count (`Threads:`);
/// 0 when unreadable.
pub fn status_field(pid: u32, name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmRSS:")
}

/// CPU seconds (user + system) of process `pid` so far.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the command: state is field 3, utime 14 and stime 15 (1-based).
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    ticks as f64 / actors::host::cpu::ticks_per_second() as f64
}
