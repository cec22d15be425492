//! Recurring maintenance: standard 5-field crontab expressions (`minute hour
//! day-of-month month day-of-week`, e.g. `30 2 * * 0`) evaluated in UTC with the
//! `cron` crate. That crate wants a seconds field first and numbers the days of the
//! week 1 (Sunday) to 7, where crontab uses 0 (or 7) for Sunday: the day-of-week
//! field is therefore expanded here into day names, which both read the same way.
//! Pure functions.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use cron::Schedule;

const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The `@` shorthands of crontab that the `cron` crate reads the same way.
const SHORTHANDS: [&str; 6] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@hourly",
];

/// A valid crontab expression with at least one future occurrence, as a schedule.
pub fn parse(expression: &str) -> Option<Schedule> {
    let trimmed = expression.trim();
    let schedule = if SHORTHANDS.contains(&trimmed) {
        Schedule::from_str(trimmed).ok()?
    } else {
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields.as_slice() else {
            return None;
        };
        let allowed = |f: &str| {
            f.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"*,-/".contains(&b))
        };
        if !fields.iter().all(|f| allowed(f)) {
            return None;
        }
        let dow = day_of_week(dow)?;
        Schedule::from_str(&format!("0 {minute} {hour} {dom} {month} {dow}")).ok()?
    };
    // A schedule that never fires (31 February) is refused like a malformed one.
    schedule.upcoming(Utc).next()?;
    Some(schedule)
}

/// The first occurrence strictly after `after`.
pub fn next_after(schedule: &Schedule, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    schedule.after(&after).next()
}

/// A crontab day-of-week field (0-7, names, lists, ranges, steps) as `*` or a list
/// of day names.
fn day_of_week(field: &str) -> Option<String> {
    let mut days = [false; 7];
    for item in field.split(',') {
        let (base, step) = match item.split_once('/') {
            Some((base, step)) => (base, Some(step.parse::<usize>().ok().filter(|s| *s > 0)?)),
            None => (item, None),
        };
        let (first, last) = if base == "*" {
            (0, 6)
        } else if let Some((a, b)) = base.split_once('-') {
            (day(a)?, day(b)?)
        } else {
            let d = day(base)?;
            // `5/2` means from 5 to the end of the week (7), as in crontab.
            (d, if step.is_some() { 7 } else { d })
        };
        if first > last {
            return None;
        }
        let mut d = first;
        while d <= last {
            days[d % 7] = true;
            d += step.unwrap_or(1);
        }
    }
    if days.iter().all(|d| *d) {
        return Some("*".to_string());
    }
    let names: Vec<&str> = (0..7).filter(|d| days[*d]).map(|d| DAY_NAMES[d]).collect();
    Some(names.join(","))
}

/// A day of the week: 0-7 (0 and 7 are Sunday, kept apart so that `5-7` is a
/// range) or a three-letter name.
fn day(text: &str) -> Option<usize> {
    if let Ok(n) = text.parse::<usize>() {
        return (n <= 7).then_some(n);
    }
    DAY_NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Weekday};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn sunday_at_half_past_two() {
        let s = parse("30 2 * * 0").unwrap();
        // 2026-11-29 is a Sunday.
        let next = next_after(&s, at(2026, 11, 28, 12, 0)).unwrap();
        assert_eq!(next, at(2026, 11, 29, 2, 30));
        assert_eq!(next.weekday(), Weekday::Sun);
        let after = next_after(&s, next).unwrap();
        assert_eq!(after, at(2026, 12, 6, 2, 30));
        assert_eq!(parse("30 2 * * 7").unwrap().to_string(), s.to_string());
        assert_eq!(parse("30 2 * * sun").unwrap().to_string(), s.to_string());
    }

    #[test]
    fn every_minute_and_steps() {
        let s = parse("* * * * *").unwrap();
        let next = next_after(&s, at(2026, 1, 1, 0, 0)).unwrap();
        assert_eq!(next, at(2026, 1, 1, 0, 1));
        let s = parse("*/15 * * * *").unwrap();
        assert_eq!(
            next_after(&s, at(2026, 1, 1, 0, 1)).unwrap(),
            at(2026, 1, 1, 0, 15)
        );
        assert_eq!(next_after(&s, at(2026, 1, 1, 0, 1)).unwrap().second(), 0);
        assert!(parse("@daily").is_some());
    }

    #[test]
    fn weekdays_ranges() {
        assert_eq!(day_of_week("1-5").unwrap(), "MON,TUE,WED,THU,FRI");
        assert_eq!(day_of_week("5-7").unwrap(), "SUN,FRI,SAT");
        assert_eq!(day_of_week("0-6").unwrap(), "*");
        assert_eq!(day_of_week("0-7").unwrap(), "*");
        assert_eq!(day_of_week("7").unwrap(), "SUN");
        assert_eq!(day_of_week("5/2").unwrap(), "SUN,FRI");
        assert_eq!(day_of_week("*/2").unwrap(), "SUN,TUE,THU,SAT");
        assert_eq!(day_of_week("mon,wed").unwrap(), "MON,WED");
        let s = parse("0 3 * * 1-5").unwrap();
        // 2026-11-27 is a Friday: the next weekday run is Monday.
        let next = next_after(&s, at(2026, 11, 27, 4, 0)).unwrap();
        assert_eq!(next, at(2026, 11, 30, 3, 0));
    }

    #[test]
    fn refuses_what_is_not_crontab() {
        for bad in [
            "",
            "* * * *",
            "0 * * * * *",
            "61 * * * *",
            "* 24 * * *",
            "* * * * 8",
            "* * 31 2 *",
            "* * * * 5-1",
            "*/0 * * * *",
            "0 0 * * ; DROP",
            "@reboot",
            "x y z w v",
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
