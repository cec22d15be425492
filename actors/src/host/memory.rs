//! Memory of the host from /proc/meminfo. Values there are in KiB (the kernel writes
//! "kB" but means 1024 bytes).

/// The value of one /proc/meminfo field, in bytes.
pub fn parse_meminfo_field(meminfo: &str, field: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        if name.trim() != field {
            return None;
        }
        let mut parts = rest.split_whitespace();
        let value: u64 = parts.next()?.parse().ok()?;
        match parts.next() {
            Some("kB") => value.checked_mul(1024),
            None => Some(value),
            Some(_) => None,
        }
    })
}

pub fn total_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo_field(&text, "MemTotal")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &str = "MemTotal:        8048352 kB\nMemFree:          250000 kB\n\
                           HugePages_Total:       0\n";

    #[test]
    fn kilobytes_are_kibibytes() {
        assert_eq!(
            parse_meminfo_field(MEMINFO, "MemTotal"),
            Some(8048352 * 1024)
        );
        assert_eq!(parse_meminfo_field(MEMINFO, "HugePages_Total"), Some(0));
        assert_eq!(parse_meminfo_field(MEMINFO, "SwapTotal"), None);
    }

    #[test]
    fn this_host_has_memory() {
        assert!(total_bytes().unwrap() > 0);
    }
}
