//! Memory of the host from /proc/meminfo, in bytes (the kernel writes "kB" and means
//! KiB; procfs converts), and the dashboard's view of it. Pure over the file text.

use procfs::{FromBufRead, Meminfo};
use serde::Serialize;

use super::HostError;

/// What the agent reports of /proc/meminfo, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    pub total: u64,
    pub free: u64,
    /// Kernels before 3.14 do not report it.
    pub available: Option<u64>,
    pub buffers: u64,
    pub cached: u64,
    pub swap_total: u64,
    pub swap_free: u64,
}

impl Memory {
    pub fn swap_used(&self) -> u64 {
        self.swap_total.saturating_sub(self.swap_free)
    }

    /// Percent of swap in use; 0 on a machine without swap.
    pub fn swap_used_percent(&self) -> f64 {
        percent(self.swap_used(), self.swap_total)
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64 * 100.0
    }
}

pub fn parse_meminfo(text: &str) -> Result<Memory, HostError> {
    let m = Meminfo::from_buf_read(text.as_bytes())
        .map_err(|e| HostError::parse("/proc/meminfo", e))?;
    Ok(Memory {
        total: m.mem_total,
        free: m.mem_free,
        available: m.mem_available,
        buffers: m.buffers,
        cached: m.cached,
        swap_total: m.swap_total,
        swap_free: m.swap_free,
    })
}

pub fn read() -> Result<Memory, HostError> {
    parse_meminfo(&super::read("/proc/meminfo")?)
}

pub fn total_bytes() -> Option<u64> {
    read().ok().map(|m| m.total)
}

/// The dashboard's memory: `total` in kB (KiB, as /proc/meminfo writes it), the others
/// in percent of total rounded to one decimal, `active = total - free - cached` as
/// temBoard computes it (so buffers count as active).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MemoryUsage {
    pub total: u64,
    pub active: f64,
    pub cached: f64,
    pub free: f64,
}

impl From<&Memory> for MemoryUsage {
    fn from(m: &Memory) -> MemoryUsage {
        let active = m.total.saturating_sub(m.free).saturating_sub(m.cached);
        let pct = |v: u64| super::round1(percent(v, m.total));
        MemoryUsage {
            total: m.total / 1024,
            active: pct(active),
            cached: pct(m.cached),
            free: pct(m.free),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_SWAP: &str = include_str!("fixtures/meminfo-noswap.txt");
    const SWAP: &str = include_str!("fixtures/meminfo-swap.txt");

    #[test]
    fn kilobytes_are_kibibytes() {
        let m = parse_meminfo(NO_SWAP).unwrap();
        assert_eq!(m.total, 24684096 * 1024);
        assert_eq!(m.free, 4054004 * 1024);
        assert_eq!(m.buffers, 89256 * 1024);
        assert_eq!(m.cached, 19592752 * 1024);
        assert_eq!(m.available, Some(24060780 * 1024));
    }

    #[test]
    fn no_swap_is_zero_percent_not_a_division_by_zero() {
        let m = parse_meminfo(NO_SWAP).unwrap();
        assert_eq!(m.swap_total, 0);
        assert_eq!(m.swap_used(), 0);
        assert_eq!(m.swap_used_percent(), 0.0);
    }

    #[test]
    fn swap_in_use() {
        let m = parse_meminfo(SWAP).unwrap();
        assert_eq!(m.swap_total, 2097148 * 1024);
        assert_eq!(m.swap_used(), (2097148 - 1048574) * 1024);
        assert!((m.swap_used_percent() - 50.0).abs() < 0.01);
    }

    #[test]
    fn dashboard_view_in_kb_and_percents() {
        let u = MemoryUsage::from(&parse_meminfo(NO_SWAP).unwrap());
        assert_eq!(u.total, 24684096);
        // free 4054004, cached 19592752, active = the rest = 1037340.
        assert_eq!(u.free, 16.4);
        assert_eq!(u.cached, 79.4);
        assert_eq!(u.active, 4.2);
        assert!((u.active + u.cached + u.free - 100.0).abs() <= 0.2);
    }

    #[test]
    fn empty_memory_is_zeros() {
        assert_eq!(
            MemoryUsage::from(&Memory::default()),
            MemoryUsage::default()
        );
        assert!(parse_meminfo("").is_err());
    }

    #[test]
    fn this_host_has_memory() {
        assert!(total_bytes().unwrap() > 0);
    }
}
