//! The operating system name and release, as `uname -sr` tells them, from
//! /proc/sys/kernel/{ostype,osrelease}. Pure over the file texts.

use super::HostError;

/// `"<OS name> <release>"`, e.g. `"Linux 6.1.0-13-amd64"` (resolutions.md).
pub fn version_text(ostype: &str, osrelease: &str) -> String {
    format!("{} {}", ostype.trim(), osrelease.trim())
}

pub fn version() -> Result<String, HostError> {
    Ok(version_text(
        &super::read("/proc/sys/kernel/ostype")?,
        &super::read("/proc/sys/kernel/osrelease")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_release() {
        assert_eq!(
            version_text("Linux\n", "6.1.0-13-amd64\n"),
            "Linux 6.1.0-13-amd64"
        );
    }

    #[test]
    fn this_host_runs_linux() {
        assert!(version().unwrap().starts_with("Linux "));
    }
}
