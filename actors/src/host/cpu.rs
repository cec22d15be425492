//! Number of CPUs of the host, as /proc/stat lists them (all online CPUs, not the
//! affinity mask of this process: the agent describes the machine).

/// Counts the `cpuN` lines of /proc/stat.
pub fn parse_cpu_count(proc_stat: &str) -> usize {
    proc_stat
        .lines()
        .filter(|l| {
            // "cpu0 ...", not the "cpu  ..." total line.
            l.strip_prefix("cpu")
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|n| !n.is_empty() && rest_is_index(l, n))
        })
        .count()
}

fn rest_is_index(line: &str, first: &str) -> bool {
    line.as_bytes().get(3).is_some_and(u8::is_ascii_digit)
        && first.bytes().all(|b| b.is_ascii_digit())
}

pub fn count() -> usize {
    let counted = std::fs::read_to_string("/proc/stat")
        .map(|t| parse_cpu_count(&t))
        .unwrap_or(0);
    if counted > 0 {
        counted
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_numbered_cpu_lines_only() {
        let text = "cpu  10 0 5 100 0 0 0 0 0 0\ncpu0 5 0 2 50 0 0 0 0 0 0\n\
                    cpu1 5 0 3 50 0 0 0 0 0 0\nintr 1 2\nctxt 42\n";
        assert_eq!(parse_cpu_count(text), 2);
        assert_eq!(parse_cpu_count(""), 0);
    }

    #[test]
    fn this_host_has_cpus() {
        assert!(count() >= 1);
    }
}
