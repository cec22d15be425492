//! The users file (`name:hash[:role]` lines) and password verification. The role is
//! `admin` (the default, so 7.x files keep working) or `read` (may look, not change). Two hash formats are
//! accepted: bcrypt (`$2a$`, `$2b$`, `$2y$`), which `temboard-agent adduser` writes,
//! and the legacy temBoard hash `base64(sha512(hex(password) + sha512(username)))` of
//! files written by older agents. Verification is constant time and CPU bound (bcrypt
//! costs ~50 ms at cost 10): callers run it on a blocking thread, never on an async
//! worker. This module never logs a password or a hash.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

/// bcrypt compares only the first 72 bytes; longer passwords are refused at login.
pub const MAX_PASSWORD_BYTES: usize = 72;
pub const BCRYPT_COST: u32 = 10;

#[derive(Clone, PartialEq, Eq)]
pub enum PasswordHash {
    Bcrypt(String),
    Legacy(Vec<u8>),
}

impl std::fmt::Debug for PasswordHash {
    // Hashes stay out of debug output and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordHash::Bcrypt(_) => f.write_str("Bcrypt(***)"),
            PasswordHash::Legacy(_) => f.write_str("Legacy(***)"),
        }
    }
}

/// What a user may do: `Admin` everything, `Read` every GET and nothing that
/// changes the instance or the agent's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    Admin,
    Read,
}

impl Role {
    pub const NAMES: [&'static str; 2] = ["admin", "read"];

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "read" => Some(Role::Read),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Read => "read",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct User {
    hash: PasswordHash,
    role: Role,
}

/// The users known to the agent, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Users {
    by_name: HashMap<String, User>,
}

impl Users {
    pub fn load(path: &Path) -> Result<Users, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read users file: {e}", path.display()))?;
        Users::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the file text; `#` lines and blank lines are skipped.
    pub fn parse(text: &str) -> Result<Users, String> {
        let mut by_name = HashMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let lineno = index + 1;
            let (name, rest) = line
                .split_once(':')
                .ok_or_else(|| format!("line {lineno}: expected name:hash[:role]"))?;
            let name = name.trim();
            if !valid_username(name) {
                return Err(format!("line {lineno}: invalid user name {name:?}"));
            }
            // No hash format contains ':', so a second ':' starts the role.
            let (hash, role) = match rest.split_once(':') {
                None => (rest, Role::Admin),
                Some((hash, role)) => {
                    let role = Role::parse(role.trim()).ok_or_else(|| {
                        format!(
                            "line {lineno}: unknown role {:?} for {name} (expected {})",
                            role.trim(),
                            Role::NAMES.join(" or ")
                        )
                    })?;
                    (hash, role)
                }
            };
            let hash = parse_hash(hash.trim())
                .ok_or_else(|| format!("line {lineno}: unrecognised password hash for {name}"))?;
            by_name.insert(name.to_string(), User { hash, role });
        }
        Ok(Users { by_name })
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&PasswordHash> {
        self.by_name.get(name).map(|u| &u.hash)
    }

    pub fn role(&self, name: &str) -> Option<Role> {
        self.by_name.get(name).map(|u| u.role)
    }
}

/// The user name rule of the login endpoint.
pub fn valid_username(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

pub fn valid_password(password: &str) -> bool {
    (1..=MAX_PASSWORD_BYTES).contains(&password.len())
}

fn parse_hash(text: &str) -> Option<PasswordHash> {
    if ["$2a$", "$2b$", "$2y$"].iter().any(|p| text.starts_with(p)) {
        return Some(PasswordHash::Bcrypt(text.to_string()));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    (bytes.len() == 64).then_some(PasswordHash::Legacy(bytes))
}

/// Checks a password against a stored hash. CPU bound: call from a blocking thread.
pub fn verify(username: &str, password: &str, hash: &PasswordHash) -> bool {
    match hash {
        // bcrypt's own comparison of the computed and stored digests is constant time.
        PasswordHash::Bcrypt(stored) => bcrypt::verify(password, stored).unwrap_or(false),
        PasswordHash::Legacy(stored) => same_secret(&legacy_hash(username, password), stored),
    }
}

/// Compares secrets (hashes, the agent key, the metrics token) in constant time, so
/// that response times tell nothing of them: the one such comparison of the agent.
/// Lengths are compared openly: a length is not the secret.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Burns the same CPU as a real bcrypt check, so that an unknown user name is not
/// told apart from a wrong password by the response time.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        bcrypt::hash("temboard-agent dummy password", BCRYPT_COST).unwrap_or_default()
    });
    let _ = bcrypt::verify(password, dummy);
}

fn legacy_hash(username: &str, password: &str) -> Vec<u8> {
    let user_digest = Sha512::digest(username.as_bytes());
    let mut hasher = Sha512::new();
    hasher.update(hex::encode(password.as_bytes()).as_bytes());
    hasher.update(user_digest);
    hasher.finalize().to_vec()
}

/// A users-file line for `name` with a new bcrypt hash of `password`.
pub fn bcrypt_line(name: &str, password: &str) -> Result<String, String> {
    let hash = bcrypt::hash(password, BCRYPT_COST).map_err(|e| e.to_string())?;
    Ok(format!("{name}:{hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy_line(name: &str, password: &str) -> String {
        let digest = legacy_hash(name, password);
        format!(
            "{name}:{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    }

    #[test]
    fn bcrypt_round_trip() {
        let users = Users::parse(&bcrypt_line("alice", "s3cret!").unwrap()).unwrap();
        let hash = users.get("alice").unwrap();
        assert!(verify("alice", "s3cret!", hash));
        assert!(!verify("alice", "wrong", hash));
    }

    #[test]
    fn bcrypt_2y_prefix_from_htpasswd_is_accepted() {
        let line = bcrypt_line("bob", "pw")
            .unwrap()
            .replacen("$2b$", "$2y$", 1);
        let users = Users::parse(&line).unwrap();
        assert!(verify("bob", "pw", users.get("bob").unwrap()));
    }

    #[test]
    fn legacy_temboard_hash() {
        // Known value computed with the temboard-agent 7.x Python formula for
        // alice / foo!! : b64encode(sha512(hexlify(pw) + sha512(user).digest())).
        let users = Users::parse(&legacy_line("alice", "foo!!")).unwrap();
        let hash = users.get("alice").unwrap();
        assert!(matches!(hash, PasswordHash::Legacy(_)));
        assert!(verify("alice", "foo!!", hash));
        assert!(!verify("alice", "foo!", hash));
        // The user name salts the hash: the same line under another name fails.
        assert!(!verify("alicf", "foo!!", hash));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcdef", b"0123456789abcdeF"));
        assert!(!same_secret(b"0123456789abcdef", b"0123456789abcde"));
        assert!(!same_secret(b"", b"x"));
    }

    #[test]
    fn legacy_hash_matches_python_reference() {
        // python3 -c 'import base64,hashlib,binascii;
        //   print(base64.b64encode(hashlib.sha512(binascii.hexlify(b"foo!!")
        //   + hashlib.sha512(b"alice").digest()).digest()).decode())'
        let expected = include_str!("../tests/fixtures/legacy_alice_foo.txt").trim();
        let line = legacy_line("alice", "foo!!");
        assert_eq!(line.split_once(':').unwrap().1, expected);
    }

    #[test]
    fn comments_blank_lines_and_errors() {
        let users = Users::parse("# header\n\n").unwrap();
        assert!(users.is_empty());
        assert!(Users::parse("alice").unwrap_err().contains("line 1"));
        assert!(Users::parse("\nalice:notahash")
            .unwrap_err()
            .contains("line 2"));
        assert!(Users::parse("Al ice:$2b$xx")
            .unwrap_err()
            .contains("invalid user name"));
    }

    #[test]
    fn username_and_password_rules() {
        assert!(valid_username("alice"));
        assert!(valid_username("a.b-c_9"));
        assert!(!valid_username("al"));
        assert!(!valid_username("Alice"));
        assert!(!valid_username(&"a".repeat(65)));
        assert!(valid_password("x"));
        assert!(!valid_password(""));
        assert!(!valid_password(&"x".repeat(73)));
    }

    #[test]
    fn debug_output_hides_hashes() {
        let users = Users::parse(&bcrypt_line("alice", "pw").unwrap()).unwrap();
        assert!(!format!("{users:?}").contains("$2b$"));
    }

    #[test]
    fn role_is_admin_by_default_and_read_when_written() {
        let legacy = legacy_line("alice", "foo!!");
        let text = format!(
            "{legacy}\n{legacy_bob}:read\n{legacy_carol}:admin\n",
            legacy_bob = legacy_line("bob", "pw"),
            legacy_carol = legacy_line("carol", "pw")
        );
        let users = Users::parse(&text).unwrap();
        assert_eq!(users.role("alice"), Some(Role::Admin));
        assert_eq!(users.role("bob"), Some(Role::Read));
        assert_eq!(users.role("carol"), Some(Role::Admin));
        assert_eq!(users.role("nobody"), None);
        // The role does not leak into the hash.
        assert!(verify("bob", "pw", users.get("bob").unwrap()));
        let bcrypt = Users::parse(&format!("{}:read", bcrypt_line("dave", "pw").unwrap())).unwrap();
        assert_eq!(bcrypt.role("dave"), Some(Role::Read));
        assert!(verify("dave", "pw", bcrypt.get("dave").unwrap()));
    }

    #[test]
    fn unknown_role_names_the_line() {
        let text = format!("# users\n{}:root\n", legacy_line("bob", "pw"));
        let err = Users::parse(&text).unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("unknown role \"root\""), "{err}");
    }
}
