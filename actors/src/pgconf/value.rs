//! Checks a setting value the way PostgreSQL parses it (guc.c: `parse_bool`,
//! `parse_int`, `parse_real`, `convert_to_base_unit`, enum lookup), against the
//! setting's row of `pg_settings` (vartype, unit, min_val, max_val, enumvals).
//!
//! PostgreSQL only validates a value without applying it (`set_config`) for the
//! settings a session may change; for `sighup` and `postmaster` settings this module
//! is what refuses a bad value before any `ALTER SYSTEM` runs. Pure functions only:
//! no I/O, no SQL. Check hooks (a time zone name, a library list) are left to
//! PostgreSQL, which runs them in `ALTER SYSTEM`.

/// What `pg_settings` tells of a setting, as far as its value's validity goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub name: String,
    /// bool, integer, real, string or enum.
    pub vartype: String,
    /// The base unit, e.g. `8kB`, `kB`, `ms`, `s`, `min`; none for plain numbers.
    pub unit: Option<String>,
    pub min_val: Option<String>,
    pub max_val: Option<String>,
    pub enumvals: Option<Vec<String>>,
}

/// Refuses the characters no setting value may hold: PostgreSQL strings cannot
/// hold NUL, and `ALTER SYSTEM` refuses line breaks (they would break the file).
pub fn check_characters(value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err("a setting value cannot contain a NUL character".to_string());
    }
    if value.contains('\n') || value.contains('\r') {
        return Err("a setting value cannot contain a line break".to_string());
    }
    Ok(())
}

/// Whether `value` is valid for the setting; the error says why, in PostgreSQL's words.
pub fn check(def: &Definition, value: &str) -> Result<(), String> {
    check_characters(value)
        .map_err(|why| format!("invalid value for parameter \"{}\": {why}", def.name))?;
    match def.vartype.as_str() {
        "bool" => parse_bool(value)
            .map(|_| ())
            .ok_or_else(|| format!("parameter \"{}\" requires a Boolean value", def.name)),
        "integer" => check_integer(def, value),
        "real" => check_real(def, value),
        "enum" => check_enum(def, value),
        // Any text is a string; check hooks are PostgreSQL's job.
        _ => Ok(()),
    }
}

/// PostgreSQL's `parse_bool`: on/off, true/false, yes/no, 1/0, case-insensitive,
/// and any unique prefix of them ("t", "of"; "o" alone is ambiguous).
pub fn parse_bool(value: &str) -> Option<bool> {
    let lower = value.to_ascii_lowercase();
    let v = lower.as_str();
    let prefix_of = |word: &str, min_len: usize| v.len() >= min_len && word.starts_with(v);
    match v.as_bytes().first()? {
        b't' if prefix_of("true", 1) => Some(true),
        b'f' if prefix_of("false", 1) => Some(false),
        b'y' if prefix_of("yes", 1) => Some(true),
        b'n' if prefix_of("no", 1) => Some(false),
        b'o' if prefix_of("on", 2) => Some(true),
        b'o' if prefix_of("off", 2) => Some(false),
        b'1' if v.len() == 1 => Some(true),
        b'0' if v.len() == 1 => Some(false),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dimension {
    /// Amounts in bytes.
    Memory,
    /// Amounts in microseconds.
    Time,
}

/// A unit word of a value or of pg_settings, in bytes or microseconds.
fn unit_factor(word: &str) -> Option<(Dimension, f64)> {
    const K: f64 = 1024.0;
    Some(match word {
        "B" => (Dimension::Memory, 1.0),
        "kB" => (Dimension::Memory, K),
        "MB" => (Dimension::Memory, K * K),
        "GB" => (Dimension::Memory, K * K * K),
        "TB" => (Dimension::Memory, K * K * K * K),
        "us" => (Dimension::Time, 1.0),
        "ms" => (Dimension::Time, 1e3),
        "s" => (Dimension::Time, 1e6),
        "min" => (Dimension::Time, 60e6),
        "h" => (Dimension::Time, 3600e6),
        "d" => (Dimension::Time, 86400e6),
        _ => return None,
    })
}

/// The base unit of a setting as pg_settings writes it ("8kB", "kB", "ms").
fn base_unit(unit: &str) -> Option<(Dimension, f64)> {
    let digits = unit.bytes().take_while(u8::is_ascii_digit).count();
    let multiplier: f64 = if digits == 0 {
        1.0
    } else {
        unit[..digits].parse().ok()?
    };
    let (dimension, factor) = unit_factor(&unit[digits..])?;
    Some((dimension, multiplier * factor))
}

fn valid_units_hint(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Memory => {
            "Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\"."
        }
        Dimension::Time => {
            "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\"."
        }
    }
}

/// Converts `number` followed by `rest` (a unit and blanks, or blanks) to the
/// setting's base unit, as `convert_to_base_unit` does.
fn to_base_unit(def: &Definition, number: f64, rest: &str, value: &str) -> Result<f64, String> {
    let unit_word = rest.trim_matches(is_c_space);
    if unit_word.is_empty() {
        return Ok(number);
    }
    let invalid = format!("invalid value for parameter \"{}\": \"{value}\"", def.name);
    let Some((dimension, base)) = def.unit.as_deref().and_then(base_unit) else {
        return Err(invalid);
    };
    // The unit is the first blank-free word; only blanks may follow it.
    match unit_factor(unit_word) {
        Some((d, factor)) if d == dimension => Ok(number * factor / base),
        _ => Err(format!("{invalid}. {}", valid_units_hint(dimension))),
    }
}

fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// C `strtol(value, &end, 0)`: leading blanks, a sign, then hexadecimal (0x), octal
/// (leading 0) or decimal digits. Answers the number and the rest, or None when no
/// digit was read.
fn strtol(value: &str) -> Option<(f64, &str)> {
    let s = value.trim_start_matches(is_c_space);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits_start) = if (s.starts_with("0x") || s.starts_with("0X"))
        && s[2..].bytes().next().is_some_and(|b| b.is_ascii_hexdigit())
    {
        (16, 2)
    } else if s.starts_with('0') {
        (8, 0)
    } else {
        (10, 0)
    };
    let body = &s[digits_start..];
    let len = body
        .bytes()
        .take_while(|b| (*b as char).is_digit(radix))
        .count();
    if len == 0 {
        return None;
    }
    let mut number = 0f64;
    for b in body[..len].bytes() {
        number = number * f64::from(radix) + f64::from((b as char).to_digit(radix)?);
    }
    Some((if negative { -number } else { number }, &body[len..]))
}

/// C `strtod` for decimal notation, infinity and NaN: the number and the rest.
fn strtod(value: &str) -> Option<(f64, &str)> {
    let s = value.trim_start_matches(is_c_space);
    let bytes = s.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let lower = s[i..].to_ascii_lowercase();
    for word in ["infinity", "inf", "nan"] {
        if lower.starts_with(word) {
            let end = i + word.len();
            return Some((s[..end].parse().ok()?, &s[end..]));
        }
    }
    let int_digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if bytes.get(i) == Some(&b'.') {
        frac_digits = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if int_digits + frac_digits > 0 {
            i += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_digits = bytes[j..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp_digits > 0 {
            i = j + exp_digits;
        }
    }
    Some((s[..i].parse().ok()?, &s[i..]))
}

fn unit_suffix(def: &Definition) -> String {
    def.unit
        .as_deref()
        .map(|u| format!(" {u}"))
        .unwrap_or_default()
}

fn check_integer(def: &Definition, value: &str) -> Result<(), String> {
    let invalid = || format!("invalid value for parameter \"{}\": \"{value}\"", def.name);
    let (mut number, mut rest) = strtol(value).ok_or_else(invalid)?;
    // A fraction or an exponent: PostgreSQL reads the number again as a real.
    if rest.starts_with(['.', 'e', 'E']) || number.abs() > f64::from(i32::MAX) * 2.0 {
        (number, rest) = strtod(value).ok_or_else(invalid)?;
    }
    let number = to_base_unit(def, number, rest, value)?.round_ties_even();
    if !(f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&number) {
        return Err(format!("{}. Value exceeds integer range.", invalid()));
    }
    let number = number as i64;
    let bound = |b: &Option<String>| b.as_deref().and_then(|b| b.trim().parse::<i64>().ok());
    let (min, max) = (bound(&def.min_val), bound(&def.max_val));
    if min.is_some_and(|min| number < min) || max.is_some_and(|max| number > max) {
        return Err(format!(
            "{number}{unit} is outside the valid range for parameter \"{name}\" ({min} .. {max})",
            unit = unit_suffix(def),
            name = def.name,
            min = min.map(|m| m.to_string()).unwrap_or_default(),
            max = max.map(|m| m.to_string()).unwrap_or_default(),
        ));
    }
    Ok(())
}

fn check_real(def: &Definition, value: &str) -> Result<(), String> {
    let invalid = || format!("invalid value for parameter \"{}\": \"{value}\"", def.name);
    let (number, rest) = strtod(value).ok_or_else(invalid)?;
    let number = to_base_unit(def, number, rest, value)?;
    if number.is_nan() {
        return Err(invalid());
    }
    let bound = |b: &Option<String>| b.as_deref().and_then(|b| b.trim().parse::<f64>().ok());
    let (min, max) = (bound(&def.min_val), bound(&def.max_val));
    // pg_settings prints bounds with 6 significant digits: allow for that rounding.
    let slack = |b: f64| b.abs() * 1e-5;
    if min.is_some_and(|min| min - number > slack(min))
        || max.is_some_and(|max| number - max > slack(max))
    {
        let show = |b: Option<f64>| b.map(|b| b.to_string()).unwrap_or_default();
        return Err(format!(
            "{number}{unit} is outside the valid range for parameter \"{name}\" ({min} .. {max})",
            unit = unit_suffix(def),
            name = def.name,
            min = show(min),
            max = show(max),
        ));
    }
    Ok(())
}

fn check_enum(def: &Definition, value: &str) -> Result<(), String> {
    let allowed = def.enumvals.as_deref().unwrap_or_default();
    if allowed.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        return Ok(());
    }
    Err(format!(
        "invalid value for parameter \"{}\": \"{value}\". Available values: {}.",
        def.name,
        allowed.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(vartype: &str, unit: Option<&str>, min: Option<&str>, max: Option<&str>) -> Definition {
        Definition {
            name: "x".to_string(),
            vartype: vartype.to_string(),
            unit: unit.map(str::to_string),
            min_val: min.map(str::to_string),
            max_val: max.map(str::to_string),
            enumvals: None,
        }
    }

    fn shared_buffers() -> Definition {
        def("integer", Some("8kB"), Some("16"), Some("1073741823"))
    }

    #[test]
    fn booleans_as_postgresql_reads_them() {
        for v in ["on", "ON", "true", "t", "tr", "TRUE", "yes", "y", "1"] {
            assert_eq!(parse_bool(v), Some(true), "{v}");
        }
        for v in ["off", "of", "OFF", "false", "f", "fa", "no", "n", "0"] {
            assert_eq!(parse_bool(v), Some(false), "{v}");
        }
        for v in [
            "", "o", "onn", "truex", "2", "10", " on", "on ", "offf", "maybe",
        ] {
            assert_eq!(parse_bool(v), None, "{v:?}");
        }
        let b = def("bool", None, None, None);
        assert_eq!(check(&b, "yes"), Ok(()));
        assert_eq!(
            check(&b, "o").unwrap_err(),
            "parameter \"x\" requires a Boolean value"
        );
    }

    #[test]
    fn memory_units_use_1024() {
        let d = shared_buffers();
        for v in [
            "128MB",
            "16384",
            "1GB",
            "131072kB",
            "1TB",
            "  128MB  ",
            "128 MB",
            "0x4000",
        ] {
            assert_eq!(check(&d, v), Ok(()), "{v}");
        }
        // 127kB is 15.875 blocks, rounded to 16: the minimum.
        assert_eq!(check(&d, "127kB"), Ok(()));
        let err = check(&d, "64kB").unwrap_err();
        assert_eq!(
            err,
            "8 8kB is outside the valid range for parameter \"x\" (16 .. 1073741823)"
        );
        assert!(check(&d, "9TB")
            .unwrap_err()
            .contains("outside the valid range"));
        let kb = def("integer", Some("kB"), Some("64"), Some("2147483647"));
        assert_eq!(check(&kb, "4MB"), Ok(()));
        assert_eq!(check(&kb, "1.5MB"), Ok(()));
        assert!(check(&kb, "3000GB")
            .unwrap_err()
            .contains("Value exceeds integer range"));
    }

    #[test]
    fn units_are_case_sensitive_and_of_the_right_kind() {
        let d = shared_buffers();
        for v in [
            "128mb", "128Mb", "128 M", "128MBs", "128 MB x", "10s", "1min",
        ] {
            let err = check(&d, v).unwrap_err();
            assert!(
                err.starts_with("invalid value for parameter \"x\""),
                "{v}: {err}"
            );
            assert!(err.contains("Valid units"), "{v}: {err}");
        }
    }

    #[test]
    fn time_units() {
        let ms = def("integer", Some("ms"), Some("-1"), Some("2147483647"));
        for v in [
            "250", "250ms", "1s", "5min", "1h", "1d", "1500us", "-1", "0.5s",
        ] {
            assert_eq!(check(&ms, v), Ok(()), "{v}");
        }
        assert!(check(&ms, "-2")
            .unwrap_err()
            .contains("outside the valid range"));
        assert!(check(&ms, "1MB").unwrap_err().contains("\"us\", \"ms\""));
        let s = def("integer", Some("s"), Some("30"), Some("86400"));
        assert_eq!(check(&s, "5min"), Ok(()));
        assert_eq!(check(&s, "1d"), Ok(()));
        assert!(check(&s, "2d").is_err());
        assert!(check(&s, "29s").is_err());
        let min = def("integer", Some("min"), Some("1"), Some("100"));
        assert_eq!(check(&min, "1h"), Ok(()));
        // 20 s is a third of a minute, rounded to 0: below the minimum.
        assert!(check(&min, "20s").is_err());
    }

    #[test]
    fn integers_refuse_garbage_and_units_where_none_apply() {
        let d = def("integer", None, Some("1"), Some("262143"));
        for v in ["abc", "", " ", "12abc", "1 2", "10MB", "08", "1;"] {
            assert!(check(&d, v).is_err(), "{v:?}");
        }
        for v in ["100", " 100 ", "+5", "010", "0x10", "1e3"] {
            assert_eq!(check(&d, v), Ok(()), "{v:?}");
        }
        assert!(check(&d, "0").unwrap_err().contains("(1 .. 262143)"));
        assert!(check(&d, "99999999999999999999").is_err());
    }

    #[test]
    fn reals() {
        let d = def("real", None, Some("0"), Some("1"));
        for v in ["0.9", "1", "0", ".5", "5e-1", " 0.25 "] {
            assert_eq!(check(&d, v), Ok(()), "{v:?}");
        }
        for v in ["1.1", "-0.1", "abc", "nan", "0.5x", "", "."] {
            assert!(check(&d, v).is_err(), "{v:?}");
        }
        let cost = def("real", None, Some("0"), Some("1.79769e+308"));
        assert_eq!(check(&cost, "4"), Ok(()));
        assert!(check(&cost, "inf").is_err());
        let delay = def("real", Some("ms"), Some("0"), Some("100"));
        assert_eq!(check(&delay, "2ms"), Ok(()));
        assert_eq!(check(&delay, "500us"), Ok(()));
        assert!(check(&delay, "1s").is_err());
    }

    #[test]
    fn enums_are_case_insensitive() {
        let mut d = def("enum", None, None, None);
        d.enumvals = Some(vec!["minimal".into(), "replica".into(), "logical".into()]);
        assert_eq!(check(&d, "replica"), Ok(()));
        assert_eq!(check(&d, "LOGICAL"), Ok(()));
        let err = check(&d, "bogus").unwrap_err();
        assert_eq!(
            err,
            "invalid value for parameter \"x\": \"bogus\". Available values: minimal, replica, logical."
        );
        assert!(check(&d, " replica").is_err());
    }

    #[test]
    fn strings_take_anything_but_nul_and_line_breaks() {
        let d = def("string", None, None, None);
        for v in [
            "",
            "a'b",
            "x\\y",
            "1; DROP TABLE t; --",
            "\"q\"",
            "%m [%p] ",
        ] {
            assert_eq!(check(&d, v), Ok(()), "{v:?}");
        }
        for v in ["a\nb", "a\rb", "a\0b"] {
            assert!(check(&d, v).is_err(), "{v:?}");
        }
    }
}
