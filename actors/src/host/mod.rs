//! Pure functions over /proc, statvfs and the resolver that describe the host: CPUs
//! (times total and per CPU, count, models, /proc/cpuinfo fields, usage between two
//! readings), memory (bytes), load average, processes, filesystems, IP addresses,
//! OS version and flavor, host name. The /proc files are parsed by the procfs crate
//! (/proc/stat, cpuinfo, meminfo, loadavg, mounts) from their text, so that parsers
//! are tested on captured fixtures (`fixtures/`); the `read` functions around them
//! only do the I/O. Only what procfs does not parse is parsed here (/proc/filesystems,
//! os-release). Nothing here knows of the dashboard or monitoring that use it, and nothing
//! keeps state, with one exception: `filesystems` remembers the mount points whose
//! statvfs is stuck (a dead network mount), so that each run does not leave one
//! more thread hanging on them. Per-process figures (/proc/<pid>) belong to their
//! users, not here.

pub mod cpu;
pub mod cpu_info;
pub mod filesystems;
pub mod load;
pub mod memory;
pub mod name;
pub mod net;
pub mod os;
pub mod platform;
pub mod process;

use std::fmt;

/// A /proc file that could not be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    pub file: &'static str,
    pub message: String,
}

impl HostError {
    fn parse(file: &'static str, err: impl fmt::Display) -> HostError {
        HostError {
            file,
            message: err.to_string(),
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for HostError {}

fn read(file: &'static str) -> Result<String, HostError> {
    std::fs::read_to_string(file).map_err(|e| HostError::parse(file, e))
}

/// /proc/stat as procfs parses it, for `cpu` (times) and `process` (counters). The
/// system facts procfs asks for only convert ticks to other units, which the
/// callers never use: they keep raw ticks.
fn kernel_stats(text: &str) -> Result<procfs::KernelStats, HostError> {
    use procfs::FromBufReadSI;
    let info = procfs::ExplicitSystemInfo {
        boot_time_secs: 0,
        ticks_per_second: 100,
        page_size: 4096,
        is_little_endian: cfg!(target_endian = "little"),
    };
    procfs::KernelStats::from_buf_read(text.as_bytes(), &info)
        .map_err(|e| HostError::parse("/proc/stat", e))
}

/// Rounds a percent to one decimal, as temBoard reports them.
pub(crate) fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// What /discover tells of the host; computed once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    pub hostname: String,
    pub cpu: usize,
    pub memory_size: u64,
}

impl HostFacts {
    pub fn read(configured_hostname: Option<&str>) -> HostFacts {
        HostFacts {
            hostname: name::hostname(configured_hostname),
            cpu: cpu::count(),
            memory_size: memory::total_bytes().unwrap_or(0),
        }
    }
}
