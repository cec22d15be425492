//! Process activity of the host: the kernel's counters of /proc/stat (forks and
//! context switches since boot, processes running and blocked now) and the number
//! of processes (numeric entries of /proc). Pure over the file text and the
//! directory listing; the counters stay cumulative, the caller makes them deltas.

use super::HostError;

/// What /proc/stat tells of processes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessStat {
    /// `processes`: forks since boot.
    pub forks: u64,
    /// `ctxt`: context switches since boot.
    pub context_switches: u64,
    /// `procs_running`: runnable now (kernels before 2.5.45 lack it: 0).
    pub procs_running: u64,
    /// `procs_blocked`: waiting for I/O now (same).
    pub procs_blocked: u64,
}

/// Parses /proc/stat (procfs). `processes` and `ctxt` are required: without them
/// the counters would read as zero and their deltas as nonsense.
pub fn parse_stat(text: &str) -> Result<ProcessStat, HostError> {
    let stats = super::kernel_stats(text)?;
    Ok(ProcessStat {
        forks: stats.processes,
        context_switches: stats.ctxt,
        procs_running: stats.procs_running.map_or(0, u64::from),
        procs_blocked: stats.procs_blocked.map_or(0, u64::from),
    })
}

pub fn read_stat() -> Result<ProcessStat, HostError> {
    parse_stat(&super::read("/proc/stat")?)
}

/// How many of `names` are process ids (all digits), as `ps -e` counts processes
/// (threads are not counted: they live under /proc/<pid>/task).
pub fn count_pids<I, S>(names: I) -> usize
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    names
        .into_iter()
        .filter(|n| {
            let n = n.as_ref();
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
        })
        .count()
}

/// The number of processes on the host. A process that ends while /proc is listed
/// may or may not count: it is a reading, not an inventory.
pub fn count() -> Result<usize, HostError> {
    let entries = std::fs::read_dir("/proc").map_err(|e| HostError::parse("/proc", e))?;
    Ok(count_pids(
        entries.filter_map(|e| e.ok()?.file_name().into_string().ok()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_of_proc_stat() {
        let s = parse_stat(include_str!("fixtures/stat-2cpu.txt")).unwrap();
        assert_eq!(
            s,
            ProcessStat {
                forks: 86577,
                context_switches: 2999783,
                procs_running: 1,
                procs_blocked: 0,
            }
        );
        let this = parse_stat(include_str!("fixtures/stat-this-host.txt")).unwrap();
        assert!(this.forks > 0 && this.context_switches > 0);
    }

    #[test]
    fn old_kernels_without_procs_lines() {
        let s = parse_stat("cpu  1 2 3 4\nctxt 10\nbtime 1\nprocesses 7\n").unwrap();
        assert_eq!((s.forks, s.context_switches), (7, 10));
        assert_eq!((s.procs_running, s.procs_blocked), (0, 0));
    }

    #[test]
    fn missing_or_garbled_counters_are_errors() {
        let stat = |lines: &str| parse_stat(&format!("cpu  1 2 3 4\nbtime 1\n{lines}"));
        assert!(stat("ctxt 10\nprocesses 7\n").is_ok());
        assert!(parse_stat("").is_err());
        assert!(stat("ctxt 10\n").is_err());
        assert!(stat("processes 7\n").is_err());
        assert!(stat("ctxt 10\nprocesses x\n").is_err());
        assert!(stat("ctxt 10\nprocesses 7\nprocs_running -1\n").is_err());
    }

    #[test]
    fn only_numeric_entries_are_processes() {
        let names = ["1", "42", "self", "thread-self", "sys", "", "12a", "007"];
        assert_eq!(count_pids(names), 3);
    }

    #[test]
    fn this_host_has_processes() {
        assert!(count().unwrap() >= 1);
        assert!(read_stat().unwrap().forks > 0);
    }
}
