//! Builds the `ALTER SYSTEM` statements, the only SQL of the agent that cannot take
//! bind parameters: the setting name becomes a quoted identifier and the value one
//! or more escaped literals, so that no name or value can end the statement or add
//! another. Pure functions; the caller has already checked that the name is a row
//! of `pg_settings` and that the value holds no NUL or line break.

use crate::sql_quote::{quote_ident, quote_literal};

const SET_TEMPLATE: &str = include_str!("../../sql/pgconf/alter_system_set.sql");
const RESET_TEMPLATE: &str = include_str!("../../sql/pgconf/alter_system_reset.sql");

/// The settings PostgreSQL flags GUC_LIST_QUOTE (the list of pg_dump's
/// `variable_is_guc_list_quote`). `ALTER SYSTEM` quotes each literal it is given
/// for them as an identifier, so a value "a, b" given as one literal would become
/// the single element `"a, b"`: their elements are passed as separate literals.
const LIST_QUOTE: [&str; 6] = [
    "local_preload_libraries",
    "search_path",
    "session_preload_libraries",
    "shared_preload_libraries",
    "temp_tablespaces",
    "unix_socket_directories",
];

/// Of those, the lists of identifiers: PostgreSQL folds their unquoted elements to
/// lower case (SplitIdentifierString); file and directory lists keep them.
const IDENTIFIER_LISTS: [&str; 2] = ["search_path", "temp_tablespaces"];

pub fn is_list_quote(name: &str) -> bool {
    LIST_QUOTE.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Splits a list value as PostgreSQL reads it from a configuration file: elements
/// separated by commas, blanks around them ignored, double-quoted elements taken
/// as written (a doubled quote is a quote).
pub fn split_list(name: &str, value: &str) -> Result<Vec<String>, String> {
    let fold = IDENTIFIER_LISTS
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name));
    let mut elements = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut element = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') if chars.next_if_eq(&'"').is_some() => element.push('"'),
                    Some('"') => break,
                    Some(c) => element.push(c),
                    None => return Err(format!("unterminated quoted name in \"{value}\"")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',' && !c.is_whitespace()) {
                element.push(c);
            }
            if element.is_empty() {
                return Err(format!("empty element in the list \"{value}\""));
            }
            if fold {
                element = element.to_lowercase();
            }
        }
        elements.push(element);
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next() {
            None => return Ok(elements),
            Some(',') => continue,
            Some(c) => return Err(format!("unexpected \"{c}\" in the list \"{value}\"")),
        }
    }
}

/// The literal(s) of `ALTER SYSTEM SET name TO ...` for a value as it would be
/// written in postgresql.conf.
pub fn value_literals(name: &str, value: &str) -> Result<String, String> {
    if !is_list_quote(name) {
        return Ok(quote_literal(value));
    }
    if value.trim().is_empty() {
        // Before PostgreSQL 17, ALTER SYSTEM writes an empty list as '""', an
        // element with an empty name (a library "" that the server fails to load).
        return Err(format!(
            "parameter \"{name}\" cannot be set to an empty list with ALTER SYSTEM; \
             reset it or edit postgresql.conf"
        ));
    }
    let elements = split_list(name, value)
        .map_err(|why| format!("invalid list syntax in parameter \"{name}\": {why}"))?;
    Ok(elements
        .iter()
        .map(|e| quote_literal(e))
        .collect::<Vec<_>>()
        .join(", "))
}

/// Replaces each `{key}` of a trusted template once, in one pass, so that a
/// replacement is never scanned for another key.
fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        match pairs.iter().find(|(key, _)| after.starts_with(*key)) {
            Some((key, value)) => {
                out.push_str(value);
                rest = &after[key.len()..];
            }
            None => {
                out.push('{');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `ALTER SYSTEM SET "name" TO E'value'`.
pub fn alter_system_set(name: &str, value: &str) -> Result<String, String> {
    let literals = value_literals(name, value)?;
    Ok(fill(
        SET_TEMPLATE,
        &[("{name}", &quote_ident(name)), ("{value}", &literals)],
    ))
}

/// `ALTER SYSTEM RESET "name"`.
pub fn alter_system_reset(name: &str) -> String {
    fill(RESET_TEMPLATE, &[("{name}", &quote_ident(name))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(sql: &str) -> &str {
        sql.lines()
            .rfind(|l| !l.starts_with("--") && !l.trim().is_empty())
            .unwrap()
    }

    #[test]
    fn identifiers_double_their_quotes() {
        assert_eq!(quote_ident("work_mem"), "\"work_mem\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("x\"; DROP"), "\"x\"\"; DROP\"");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(quote_literal("on"), "E'on'");
        assert_eq!(quote_literal("it's"), "E'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
        assert_eq!(
            quote_literal("\\'; DROP TABLE t; --"),
            "E'\\\\''; DROP TABLE t; --'"
        );
        assert_eq!(quote_literal(""), "E''");
    }

    #[test]
    fn set_and_reset_statements() {
        let sql = alter_system_set("work_mem", "64MB").unwrap();
        assert_eq!(statement(&sql), "ALTER SYSTEM SET \"work_mem\" TO E'64MB'");
        let sql = alter_system_set("log_line_prefix", "{name} {value}' ;").unwrap();
        assert_eq!(
            statement(&sql),
            "ALTER SYSTEM SET \"log_line_prefix\" TO E'{name} {value}'' ;'"
        );
        assert_eq!(
            statement(&alter_system_reset("DateStyle")),
            "ALTER SYSTEM RESET \"DateStyle\""
        );
    }

    #[test]
    fn list_settings_pass_one_literal_per_element() {
        assert_eq!(
            value_literals(
                "shared_preload_libraries",
                "pg_stat_statements, auto_explain"
            ),
            Ok("E'pg_stat_statements', E'auto_explain'".to_string())
        );
        assert_eq!(
            value_literals("search_path", "\"$user\", Public"),
            Ok("E'$user', E'public'".to_string())
        );
        assert_eq!(
            value_literals("unix_socket_directories", "/tmp/A, \"/var/run/x,y\""),
            Ok("E'/tmp/A', E'/var/run/x,y'".to_string())
        );
        assert_eq!(
            value_literals("search_path", "\"it's \"\"odd\"\"\""),
            Ok("E'it''s \"odd\"'".to_string())
        );
        assert!(value_literals("shared_preload_libraries", "").is_err());
        assert!(value_literals("search_path", "a,,b").is_err());
        assert!(value_literals("search_path", "\"a").is_err());
        assert!(value_literals("search_path", "a b").is_err());
        // Other lists are one literal, written as given.
        assert_eq!(
            value_literals("log_destination", "stderr, csvlog"),
            Ok("E'stderr, csvlog'".to_string())
        );
    }
}
