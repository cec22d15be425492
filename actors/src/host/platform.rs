//! What the host runs: the kernel's name, release and machine architecture (uname),
//! and the distribution ("os flavor") from /etc/os-release and the distribution's
//! own release files. Pure over the file texts; the `read` functions do the I/O.
//!
//! The flavor is `<distribution> <version>`, in this order of preference:
//! 1. Debian (`ID=debian`, or no os-release at all) whose /etc/debian_version is a
//!    point release (starts with a digit): `Debian 12.11`. os-release only knows the
//!    major version (`12`); debian_version is what a Debian admin quotes.
//! 2. os-release `NAME` and `VERSION_ID`: `Ubuntu 22.04`, `Rocky Linux 9.3`.
//!    (Ubuntu and its derivatives also have /etc/debian_version, holding the Debian
//!    release they are built on, e.g. `bookworm/sid`: not theirs, so never used.)
//! 3. os-release `PRETTY_NAME` (a rolling release without VERSION_ID, e.g.
//!    `Debian GNU/Linux trixie/sid`), else `NAME`.
//! 4. The first line of /etc/redhat-release (RHEL/CentOS 6 have no os-release).
//! 5. None: the caller says the kernel's name (`Linux`).

use std::collections::HashMap;

use super::HostError;

/// uname's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uname {
    /// `Linux`.
    pub os: String,
    /// Kernel release, e.g. `6.1.0-13-amd64`.
    pub release: String,
    /// Machine architecture, e.g. `x86_64`, `aarch64`.
    pub machine: String,
}

pub fn uname() -> Result<Uname, HostError> {
    let u = nix::sys::utsname::uname().map_err(|e| HostError::parse("uname", e))?;
    let text = |s: &std::ffi::OsStr| s.to_string_lossy().into_owned();
    Ok(Uname {
        os: text(u.sysname()),
        release: text(u.release()),
        machine: text(u.machine()),
    })
}

/// The `KEY=value` pairs of an os-release file (man os-release): values may be
/// quoted with `"` or `'`, and a backslash escapes the next character inside
/// double quotes. Comments and malformed lines are skipped.
pub fn parse_os_release(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let (key, value) = line.split_once('=')?;
            let key = key.trim();
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return None;
            }
            Some((key.to_string(), unquote(value.trim())))
        })
        .collect()
}

fn unquote(value: &str) -> String {
    let bytes = value.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\'' {
        return value[1..value.len() - 1].to_string();
    }
    if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        let mut out = String::new();
        let mut chars = value[1..value.len() - 1].chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                c => out.push(c),
            }
        }
        return out;
    }
    value.to_string()
}

/// The distribution and its version, by the rules of this module's header. Each
/// argument is the text of its file, None when the file does not exist.
pub fn os_flavor(
    os_release: Option<&str>,
    debian_version: Option<&str>,
    redhat_release: Option<&str>,
) -> Option<String> {
    let fields = os_release.map(parse_os_release).unwrap_or_default();
    let get = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let is_debian = match os_release {
        Some(_) => get("ID") == Some("debian"),
        None => true,
    };
    if is_debian {
        if let Some(v) = debian_version.map(str::trim) {
            if v.starts_with(|c: char| c.is_ascii_digit()) {
                return Some(format!("Debian {v}"));
            }
        }
    }
    if let (Some(name), Some(version)) = (get("NAME"), get("VERSION_ID")) {
        return Some(format!("{name} {version}"));
    }
    if let Some(pretty) = get("PRETTY_NAME").or_else(|| get("NAME")) {
        return Some(pretty.to_string());
    }
    redhat_release
        .and_then(|t| t.lines().next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
}

fn read_optional(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// This host's flavor; os-release is looked for where systemd says: /etc, then
/// /usr/lib.
pub fn read_os_flavor() -> Option<String> {
    let os_release =
        read_optional("/etc/os-release").or_else(|| read_optional("/usr/lib/os-release"));
    os_flavor(
        os_release.as_deref(),
        read_optional("/etc/debian_version").as_deref(),
        read_optional("/etc/redhat-release").as_deref(),
    )
}

/// The distribution as its os-release names it for people (`PRETTY_NAME`, e.g.
/// "Debian GNU/Linux 12 (bookworm)"), temboard-agent 7.x's `linux_distribution`.
pub fn pretty_name(os_release: &str) -> Option<String> {
    parse_os_release(os_release)
        .remove("PRETTY_NAME")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// This host's `linux_distribution`: os-release's PRETTY_NAME, else the flavor read
/// from the older files, else an empty string.
pub fn read_linux_distribution() -> String {
    read_optional("/etc/os-release")
        .or_else(|| read_optional("/usr/lib/os-release"))
        .and_then(|text| pretty_name(&text))
        .or_else(read_os_flavor)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = include_str!("fixtures/os-release-debian12.txt");
    const UBUNTU: &str = include_str!("fixtures/os-release-ubuntu2204.txt");
    const ROCKY: &str = include_str!("fixtures/os-release-rocky9.txt");

    #[test]
    fn linux_distribution_is_the_pretty_name() {
        assert_eq!(
            pretty_name(DEBIAN).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(pretty_name(UBUNTU).as_deref(), Some("Ubuntu 22.04.3 LTS"));
        assert_eq!(
            pretty_name(ROCKY).as_deref(),
            Some("Rocky Linux 9.3 (Blue Onyx)")
        );
        assert_eq!(pretty_name("NAME=x\nPRETTY_NAME=\"\"\n"), None);
    }

    #[test]
    fn os_release_values_are_unquoted() {
        let f = parse_os_release(
            "# comment\nNAME=\"Debian GNU/Linux\"\nID=debian\nX='single'\n\
             ESC=\"a \\\"b\\\" \\\\c\"\nbad line\n=novalue\n",
        );
        assert_eq!(f["NAME"], "Debian GNU/Linux");
        assert_eq!(f["ID"], "debian");
        assert_eq!(f["X"], "single");
        assert_eq!(f["ESC"], "a \"b\" \\c");
        assert_eq!(f.len(), 4);
    }

    #[test]
    fn debian_quotes_its_point_release() {
        assert_eq!(
            os_flavor(Some(DEBIAN), Some("12.11\n"), None).as_deref(),
            Some("Debian 12.11")
        );
        // Without debian_version: os-release's name and major version.
        assert_eq!(
            os_flavor(Some(DEBIAN), None, None).as_deref(),
            Some("Debian GNU/Linux 12")
        );
        // Testing: no point release, no VERSION_ID.
        let testing = "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\n\
                       ID=debian\n";
        assert_eq!(
            os_flavor(Some(testing), Some("trixie/sid\n"), None).as_deref(),
            Some("Debian GNU/Linux trixie/sid")
        );
        // Very old Debian without os-release.
        assert_eq!(
            os_flavor(None, Some("6.0.10\n"), None).as_deref(),
            Some("Debian 6.0.10")
        );
    }

    #[test]
    fn derivatives_never_borrow_debian_version() {
        assert_eq!(
            os_flavor(Some(UBUNTU), Some("bookworm/sid\n"), None).as_deref(),
            Some("Ubuntu 22.04")
        );
        assert_eq!(
            os_flavor(
                Some(ROCKY),
                None,
                Some("Rocky Linux release 9.3 (Blue Onyx)\n")
            )
            .as_deref(),
            Some("Rocky Linux 9.3")
        );
    }

    #[test]
    fn old_red_hat_and_nothing_at_all() {
        assert_eq!(
            os_flavor(None, None, Some("CentOS release 6.10 (Final)\n")).as_deref(),
            Some("CentOS release 6.10 (Final)")
        );
        assert_eq!(os_flavor(None, None, None), None);
        assert_eq!(os_flavor(Some(""), None, Some("\n")), None);
    }

    #[test]
    fn this_host_has_a_kernel_and_a_flavor() {
        let u = uname().unwrap();
        assert_eq!(u.os, "Linux");
        assert!(!u.release.is_empty() && !u.machine.is_empty());
        assert!(read_os_flavor().is_some());
    }
}
