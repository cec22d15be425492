//! The `snapshot_datetime` of a statements snapshot: written as PostgreSQL writes a
//! timestamptz (`2020-03-17 17:31:25.0929+01`, as in the spec's example), and read
//! back from `?since=`. Pure functions; the keeper actor decides the times.

use chrono::{DateTime, FixedOffset, Local, Offset, SubsecRound};

/// Now, in the agent's time zone, to the microsecond (what the text keeps).
pub fn now() -> DateTime<FixedOffset> {
    let now = Local::now().trunc_subsecs(6);
    now.with_timezone(&now.offset().fix())
}

/// PostgreSQL's text of a timestamptz: microseconds without trailing zeros, the
/// offset in hours, with minutes only when there are some.
pub fn format(at: &DateTime<FixedOffset>) -> String {
    let mut text = at.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    let offset = at.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let (hours, minutes) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
    text.push_str(&format!("{sign}{hours:02}"));
    if minutes != 0 {
        text.push_str(&format!(":{minutes:02}"));
    }
    text
}

/// Reads a `snapshot_datetime` back. A `+` sent unencoded in a query string arrives
/// as a space: that form is accepted too.
pub fn parse(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(at);
    }
    // "2020-03-17 17:31:25.0929 01" (or " 05:30"): the offset's '+' became a space.
    let (stamp, offset) = text.rsplit_once(' ')?;
    if offset.starts_with(|c: char| c.is_ascii_digit()) && stamp.contains(' ') {
        return DateTime::parse_from_str(&format!("{stamp}+{offset}"), "%Y-%m-%d %H:%M:%S%.f%#z")
            .ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A fixed time, for tests.
    pub fn at(offset_seconds: i32, rfc3339: &str) -> DateTime<FixedOffset> {
        let utc = DateTime::parse_from_rfc3339(rfc3339).expect("a valid RFC 3339 time");
        FixedOffset::east_opt(offset_seconds)
            .expect("a valid offset")
            .from_utc_datetime(&utc.naive_utc())
    }

    #[test]
    fn formats_as_postgresql() {
        let t = at(3600, "2020-03-17T16:31:25.0929Z");
        assert_eq!(format(&t), "2020-03-17 17:31:25.0929+01");
        let t = at(-(5 * 3600 + 30 * 60), "2020-03-17T16:31:25Z");
        assert_eq!(format(&t), "2020-03-17 11:01:25-05:30");
        let t = at(0, "2020-03-17T16:31:25.000001Z");
        assert_eq!(format(&t), "2020-03-17 16:31:25.000001+00");
    }

    #[test]
    fn parses_what_it_formats() {
        for t in [
            at(3600, "2020-03-17T16:31:25.0929Z"),
            at(-(5 * 3600 + 30 * 60), "2020-03-17T16:31:25Z"),
            now(),
        ] {
            assert_eq!(parse(&format(&t)), Some(t));
        }
    }

    #[test]
    fn accepts_a_plus_turned_into_a_space() {
        let t = at(3600, "2020-03-17T16:31:25.0929Z");
        assert_eq!(parse("2020-03-17 17:31:25.0929 01"), Some(t));
        let t = at(5 * 3600 + 30 * 60, "2020-03-17T16:31:25Z");
        assert_eq!(parse("2020-03-17 22:01:25 05:30"), Some(t));
    }

    #[test]
    fn refuses_other_texts() {
        for text in [
            "",
            "yesterday",
            "2020-03-17",
            "2020-02-30 10:00:00+00",
            "2020-03-17 17:31:25",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
