//! Quoting for the few statements that take no bind parameters (VACUUM, ANALYZE,
//! REINDEX object names; ALTER SYSTEM names and values). Every name that comes from
//! a request goes into SQL text only through `quote_ident`: wrapped in double quotes
//! with inner double quotes doubled, which PostgreSQL reads back as exactly that
//! name, whatever it holds (spaces, `;`, dots, quotes, unicode); every value through
//! `quote_literal`. Pure functions.

/// `name` as a quoted PostgreSQL identifier.
pub fn quote_ident(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' {
            quoted.push('"');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// `E'value'`, with backslashes and single quotes escaped: valid whatever
/// `standard_conforming_strings` is.
pub fn quote_literal(value: &str) -> String {
    format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

/// `schema.name`, both quoted.
pub fn quote_qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// Whether `name` can be a PostgreSQL identifier at all: not empty and no NUL byte
/// (PostgreSQL refuses both). Longer names are truncated by PostgreSQL, so such a
/// name simply names no object.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_every_name() {
        assert_eq!(quote_ident("city"), r#""city""#);
        assert_eq!(quote_ident("Mixed Case"), r#""Mixed Case""#);
        assert_eq!(
            quote_ident(r#"x"; DROP TABLE t; --"#),
            r#""x""; DROP TABLE t; --""#
        );
        assert_eq!(quote_ident(r#""""#), r#""""""""#);
        assert_eq!(quote_ident("été.2"), "\"été.2\"");
        assert_eq!(quote_qualified("a.b", "c"), r#""a.b"."c""#);
    }

    #[test]
    fn refuses_impossible_names() {
        assert!(valid_name("a"));
        assert!(!valid_name(""));
        assert!(!valid_name("a\0b"));
    }
}
