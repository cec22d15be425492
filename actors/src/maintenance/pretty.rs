//! `pg_size_pretty` in Rust: the sizes the maintenance pages sum up themselves
//! (per schema, per database) are printed exactly as PostgreSQL would print them,
//! so that a client sees one format whatever computed the number. Pure function.

/// PostgreSQL 15's `pg_size_pretty(bigint)`: bytes below 10 kB, then kB, MB, GB, TB
/// and PB, each unit used below 20480 of it, rounded half away from zero.
pub fn size_pretty(bytes: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    const LIMIT2: i64 = LIMIT * 2 - 1;
    if bytes.abs() < LIMIT {
        return format!("{bytes} bytes");
    }
    // One extra bit is kept for the rounding.
    let mut size = bytes >> 9;
    for unit in ["kB", "MB", "GB", "TB"] {
        if size.abs() < LIMIT2 {
            return format!("{} {unit}", half_rounded(size));
        }
        size >>= 10;
    }
    format!("{} PB", half_rounded(size))
}

/// A size estimate (a float) printed like a size.
pub fn size_pretty_f(bytes: f64) -> String {
    size_pretty(bytes.round() as i64)
}

fn half_rounded(x: i64) -> i64 {
    (x + if x < 0 { -1 } else { 1 }) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_pg_size_pretty() {
        // Values and texts from the spec's examples and from PostgreSQL 15.
        for (bytes, text) in [
            (0, "0 bytes"),
            (8192, "8192 bytes"),
            (10239, "10239 bytes"),
            (10240, "10 kB"),
            (16384, "16 kB"),
            (114688, "112 kB"),
            (7788007, "7605 kB"),
            (8492519, "8293 kB"),
            (20971520, "20 MB"),
            (10737418240, "10 GB"),
            (-16384, "-16 kB"),
        ] {
            assert_eq!(size_pretty(bytes), text, "{bytes}");
        }
        assert_eq!(size_pretty_f(335872.0), "328 kB");
    }
}
