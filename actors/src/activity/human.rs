//! Human-readable byte amounts, as the temBoard agent 7.x prints disk rates in
//! activity rows: two decimals and a binary-multiple suffix (`"0.00B"`, `"512.00B"`,
//! `"1.25M"`). Pure formatting; it knows nothing of /proc or of rates.

const SUFFIXES: [&str; 8] = ["K", "M", "G", "T", "P", "E", "Z", "Y"];

/// Formats `bytes` (possibly fractional, e.g. a rate) with the largest suffix it
/// reaches: 1 K = 1024 B. Negative or non-finite amounts read as zero.
pub fn bytes2human(bytes: f64) -> String {
    let bytes = if bytes.is_finite() && bytes > 0.0 {
        bytes
    } else {
        0.0
    };
    for (i, suffix) in SUFFIXES.iter().enumerate().rev() {
        let unit = 1024f64.powi(i as i32 + 1);
        if bytes >= unit {
            return format!("{:.2}{suffix}", bytes / unit);
        }
    }
    format!("{bytes:.2}B")
}

#[cfg(test)]
mod tests {
    use super::bytes2human;

    #[test]
    fn bytes_below_one_kib() {
        assert_eq!(bytes2human(0.0), "0.00B");
        assert_eq!(bytes2human(0.5), "0.50B");
        assert_eq!(bytes2human(1023.0), "1023.00B");
    }

    #[test]
    fn binary_multiples() {
        assert_eq!(bytes2human(1024.0), "1.00K");
        assert_eq!(bytes2human(1.25 * 1024.0 * 1024.0), "1.25M");
        assert_eq!(bytes2human(3.0 * 1024f64.powi(3)), "3.00G");
        assert_eq!(bytes2human(1024f64.powi(8)), "1.00Y");
        assert_eq!(bytes2human(2048.0 * 1024f64.powi(8)), "2048.00Y");
    }

    #[test]
    fn nonsense_reads_as_zero() {
        assert_eq!(bytes2human(-5.0), "0.00B");
        assert_eq!(bytes2human(f64::NAN), "0.00B");
        assert_eq!(bytes2human(f64::INFINITY), "0.00B");
    }
}
