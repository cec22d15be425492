//! CPUs of the host from /proc/stat and /proc/cpuinfo: cumulated times (total and per
//! CPU by kernel name, in clock ticks, and their conversion to milliseconds), the
//! number of CPUs, their models, and the usage percentages between two readings. It
//! counts all online CPUs as /proc/stat lists them, not the affinity mask of this
//! process: the agent describes the machine. Parsers take the file text so they are
//! tested on captured fixtures; nothing here keeps state between readings: the
//! caller keeps the previous one.

use procfs::{CpuInfo, FromBufRead};
use serde::Serialize;

use super::HostError;

/// Cumulated time one CPU (or all of them) spent in each state since boot, in clock
/// ticks (USER_HZ). Fields a kernel does not report are 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
    pub guest: u64,
    pub guest_nice: u64,
}

impl From<&procfs::CpuTime> for CpuTimes {
    fn from(t: &procfs::CpuTime) -> CpuTimes {
        CpuTimes {
            user: t.user,
            nice: t.nice,
            system: t.system,
            idle: t.idle,
            iowait: t.iowait.unwrap_or(0),
            irq: t.irq.unwrap_or(0),
            softirq: t.softirq.unwrap_or(0),
            steal: t.steal.unwrap_or(0),
            guest: t.guest.unwrap_or(0),
            guest_nice: t.guest_nice.unwrap_or(0),
        }
    }
}

/// One reading of /proc/stat's CPU lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuStat {
    /// The `cpu` line: all CPUs together.
    pub total: CpuTimes,
    /// The `cpuN` lines, in order.
    pub per_cpu: Vec<CpuTimes>,
}

impl CpuStat {
    /// Number of online CPUs.
    pub fn count(&self) -> usize {
        self.per_cpu.len()
    }
}

/// Parses /proc/stat.
pub fn parse_stat(text: &str) -> Result<CpuStat, HostError> {
    let stats = super::kernel_stats(text)?;
    Ok(CpuStat {
        total: CpuTimes::from(&stats.total),
        per_cpu: stats.cpu_time.iter().map(CpuTimes::from).collect(),
    })
}

pub fn read_stat() -> Result<CpuStat, HostError> {
    parse_stat(&super::read("/proc/stat")?)
}

/// Each `cpuN` line of /proc/stat with its name, in file order. The names are the
/// kernel's: an offline CPU has no line, so `cpu3` may follow `cpu1`; keeping the
/// name (rather than an index) keeps a CPU's counters apart from its neighbours'.
/// Columns a kernel does not write are 0; a line with fewer than the four oldest
/// columns is an error.
pub fn parse_named(text: &str) -> Result<Vec<(String, CpuTimes)>, HostError> {
    let stats = super::kernel_stats(text)?;
    if stats.cpu_time.is_empty() {
        return Err(HostError::parse("/proc/stat", "no cpuN line"));
    }
    // procfs keeps the per-CPU lines in file order but drops their names: take them
    // from the lines it read (every line starting with "cpu" but the total's "cpu ").
    let names = text
        .lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .filter_map(|l| l.split_ascii_whitespace().next());
    Ok(names
        .zip(&stats.cpu_time)
        .map(|(name, times)| (name.to_string(), CpuTimes::from(times)))
        .collect())
}

pub fn read_named() -> Result<Vec<(String, CpuTimes)>, HostError> {
    parse_named(&super::read("/proc/stat")?)
}

/// Clock ticks per second (USER_HZ, `getconf CLK_TCK`), the unit of /proc/stat's
/// times. 100 on every Linux the agent targets; asked to the system all the same.
pub fn ticks_per_second() -> u64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(n)) if n > 0 => n as u64,
        _ => 100,
    }
}

/// `ticks` in milliseconds, rounded down.
pub fn ticks_to_ms(ticks: u64, ticks_per_second: u64) -> u64 {
    (u128::from(ticks) * 1000 / u128::from(ticks_per_second.max(1))) as u64
}

/// The number of CPUs; falls back on what the scheduler tells when /proc is unreadable.
pub fn count() -> usize {
    match read_stat() {
        Ok(stat) if stat.count() > 0 => stat.count(),
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

/// The model name of each CPU, in /proc/cpuinfo order (x86: `model name`; other
/// architectures: `Processor`, `cpu model` or `cpu`). Empty when the kernel names none.
pub fn parse_models(cpuinfo: &str) -> Result<Vec<String>, HostError> {
    if !cpuinfo.lines().any(|l| l.starts_with("processor")) {
        return Ok(Vec::new());
    }
    let info = CpuInfo::from_buf_read(cpuinfo.as_bytes())
        .map_err(|e| HostError::parse("/proc/cpuinfo", e))?;
    const KEYS: [&str; 4] = ["model name", "Processor", "cpu model", "cpu"];
    Ok((0..info.num_cores())
        .filter_map(|i| {
            KEYS.iter()
                .find_map(|k| info.get_field(i, k))
                .map(str::to_string)
        })
        .collect())
}

pub fn read_models() -> Result<Vec<String>, HostError> {
    parse_models(&super::read("/proc/cpuinfo")?)
}

/// CPU usage over an interval, in percent of the time elapsed on all CPUs, rounded to
/// one decimal. Grouped as temBoard does: `user` includes nice, `system` includes
/// irq and softirq; the five sum to ~100.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CpuUsage {
    pub user: f64,
    pub system: f64,
    pub idle: f64,
    pub iowait: f64,
    pub steal: f64,
}

/// The usage between two readings of the same CPU (or of the total). All zeros when
/// no tick elapsed (readings too close) rather than a division by zero. A counter that
/// went back (iowait may) counts as no time.
pub fn usage(before: &CpuTimes, after: &CpuTimes) -> CpuUsage {
    let d = |a: u64, b: u64| b.saturating_sub(a) as f64;
    let user = d(before.user, after.user) + d(before.nice, after.nice);
    let system = d(before.system, after.system)
        + d(before.irq, after.irq)
        + d(before.softirq, after.softirq);
    let idle = d(before.idle, after.idle);
    let iowait = d(before.iowait, after.iowait);
    let steal = d(before.steal, after.steal);
    let total = user + system + idle + iowait + steal;
    if total <= 0.0 {
        return CpuUsage::default();
    }
    let pct = |v: f64| super::round1(v / total * 100.0);
    CpuUsage {
        user: pct(user),
        system: pct(system),
        idle: pct(idle),
        iowait: pct(iowait),
        steal: pct(steal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = include_str!("fixtures/stat-2cpu.txt");
    const STAT_LATER: &str = include_str!("fixtures/stat-2cpu-later.txt");

    /// A minimal /proc/stat around `cpu_lines`, with the lines every kernel writes.
    fn stat_with(cpu_lines: &str) -> String {
        format!("cpu  10 1 5 100\n{cpu_lines}ctxt 5\nbtime 2\nprocesses 3\n")
    }

    #[test]
    fn parses_total_and_per_cpu_lines() {
        let stat = parse_stat(STAT).unwrap();
        assert_eq!(stat.count(), 2);
        assert_eq!(stat.total.user, 263364);
        assert_eq!(stat.total.idle, 194263);
        assert_eq!(stat.total.steal, 4361);
        assert_eq!(stat.per_cpu[1].system, 45598);
    }

    #[test]
    fn old_kernels_without_optional_columns() {
        let text = stat_with("cpu0 10 1 5 100\n");
        let stat = parse_stat(&text).unwrap();
        assert_eq!(stat.count(), 1);
        assert_eq!(stat.total.iowait, 0);
        assert_eq!(stat.total.steal, 0);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_stat("").is_err());
        assert!(parse_stat("cpu  x y z\n").is_err());
    }

    #[test]
    fn usage_between_two_readings() {
        let before = parse_stat(STAT).unwrap();
        let after = parse_stat(STAT_LATER).unwrap();
        // +100 user, +50 system, +350 idle over 500 ticks.
        let u = usage(&before.total, &after.total);
        assert_eq!(
            u,
            CpuUsage {
                user: 20.0,
                system: 10.0,
                idle: 70.0,
                iowait: 0.0,
                steal: 0.0
            }
        );
        let cpu0 = usage(&before.per_cpu[0], &after.per_cpu[0]);
        assert!((cpu0.user + cpu0.system + cpu0.idle - 100.0).abs() < 0.2);
    }

    #[test]
    fn no_elapsed_tick_is_all_zeros() {
        let stat = parse_stat(STAT).unwrap();
        assert_eq!(usage(&stat.total, &stat.total), CpuUsage::default());
        // Counters going back (iowait may) never make negative percents.
        let after = parse_stat(STAT_LATER).unwrap();
        let back = usage(&after.total, &stat.total);
        assert_eq!(back, CpuUsage::default());
    }

    #[test]
    fn models_from_cpuinfo() {
        let models = parse_models(include_str!("fixtures/cpuinfo-epyc.txt")).unwrap();
        assert_eq!(models, ["AMD EPYC", "AMD EPYC"]);
        assert_eq!(parse_models("").unwrap(), Vec::<String>::new());
        let arm = "processor\t: 0\nBogoMIPS\t: 48.00\n\nprocessor\t: 1\nBogoMIPS\t: 48.00\n\n\
                   Hardware\t: BCM2835\n";
        assert_eq!(parse_models(arm).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn named_lines_keep_the_kernel_names() {
        let named = parse_named(STAT).unwrap();
        let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["cpu0", "cpu1"]);
        assert_eq!(named[1].1.system, 45598);
        assert_eq!(named[0].1.steal, 2131);
        // cpu2 offline: cpu3 keeps its name.
        let named = parse_named(&stat_with("cpu0 1 0 2 3\ncpu3 3 0 2 1 9\n")).unwrap();
        assert_eq!(named.len(), 2);
        assert_eq!(named[1].0, "cpu3");
        assert_eq!(named[1].1.iowait, 9);
        assert_eq!(named[1].1.steal, 0);
        let this = parse_named(include_str!("fixtures/stat-this-host.txt")).unwrap();
        assert_eq!(this.len(), 2);
    }

    #[test]
    fn named_lines_reject_garbage() {
        assert!(parse_named("").is_err());
        assert!(parse_named(&stat_with("")).is_err(), "no cpuN line");
        assert!(parse_named(&stat_with("cpu0 1 2 x 4\n")).is_err());
        assert!(parse_named(&stat_with("cpu0 1 2 3\n")).is_err());
    }

    #[test]
    fn ticks_in_milliseconds() {
        assert_eq!(ticks_to_ms(27, 100), 270);
        assert_eq!(ticks_to_ms(27, 250), 108);
        assert_eq!(ticks_to_ms(u64::MAX / 10, 100), u64::MAX / 10 * 10);
        assert_eq!(ticks_to_ms(5, 0), 5000);
        assert!(ticks_per_second() >= 1);
    }

    #[test]
    fn this_host_has_cpus() {
        assert!(count() >= 1);
        assert!(read_stat().unwrap().total.idle > 0);
    }
}
