//! Which settings hold secrets, so that their values never reach the notification
//! log nor the agent's log: passwords, pass phrases and their commands, connection
//! strings (which may carry a password), tokens. The names are PostgreSQL's own and
//! those of extensions (`<extension>.<name>`), matched on words, so that a new
//! setting of the same kind is masked too. Pure functions.

/// What is written instead of a secret value.
pub const MASK: &str = "***";

/// Words that make a setting's value a secret.
const SECRET_WORDS: [&str; 6] = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "conninfo",
    "token",
];

/// Whether the value of setting `name` is a secret.
pub fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| name.contains(w))
}

/// `value`, or the mask when setting `name` holds a secret.
pub fn shown<'a>(name: &str, value: &'a str) -> &'a str {
    if is_secret(name) {
        MASK
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_told_by_their_names() {
        for name in [
            "primary_conninfo",
            "ssl_passphrase_command",
            "ssl_passphrase_command_supports_reload",
            "password_encryption",
            "my_ext.api_token",
            "pgaudit.Secret_Key",
        ] {
            assert!(is_secret(name), "{name}");
            assert_eq!(shown(name, "x"), MASK);
        }
        for name in ["work_mem", "ssl_key_file", "shared_preload_libraries"] {
            assert!(!is_secret(name), "{name}");
            assert_eq!(shown(name, "x"), "x");
        }
    }
}
