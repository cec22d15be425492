//! The user commands: `adduser` appends a bcrypt line to the users file, `password`
//! prints one. The password is prompted for twice on a terminal (no echo) or read as
//! one line from stdin otherwise, so that scripts can pipe it in.

use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use actors::users::{self, Role, Users};

use crate::config::Config;

fn read_password() -> Result<String, String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Password again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("passwords do not match".to_string());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if !users::valid_password(&password) {
        return Err(format!(
            "a password has 1 to {} bytes",
            users::MAX_PASSWORD_BYTES
        ));
    }
    Ok(password)
}

fn check_name(name: &str) -> Result<(), String> {
    if users::valid_username(name) {
        Ok(())
    } else {
        Err(format!(
            "invalid user name {name:?}: 3 to 64 characters among a-z 0-9 _ . -"
        ))
    }
}

/// The users-file line: the role is written only when it is not the default, so
/// that admin lines stay readable by temboard-agent 7.x.
fn user_line(name: &str, role: &str) -> Result<String, String> {
    let role = Role::parse(role).ok_or_else(|| format!("unknown role {role:?}"))?;
    let line = users::bcrypt_line(name, &read_password()?)?;
    Ok(match role {
        Role::Admin => line,
        Role::Read => format!("{line}:{}", role.as_str()),
    })
}

pub fn adduser(config_path: &Path, name: &str, role: &str) -> Result<(), String> {
    check_name(name)?;
    let config = Config::load(config_path).map_err(|e| e.to_string())?;
    let path = &config.temboard.users;
    if path.exists() && Users::load(path)?.get(name).is_some() {
        return Err(format!("user {name} already exists in {}", path.display()));
    }
    let line = user_line(name, role)?;
    append_line(path, &line)?;
    println!("User {name} ({role}) added to {}.", path.display());
    Ok(())
}

pub fn password(name: &str, role: &str) -> Result<(), String> {
    check_name(name)?;
    println!("{}", user_line(name, role)?);
    Ok(())
}

/// Appends a line, creating the file readable by its owner and group only.
pub fn append_line(path: &Path, line: &str) -> Result<(), String> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let needs_newline = std::fs::read(path)
        .map(|b| !b.is_empty() && !b.ends_with(b"\n"))
        .unwrap_or(false);
    let text = if needs_newline {
        format!("\n{line}\n")
    } else {
        format!("{line}\n")
    };
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}
