//! The host name the agent reports: the configured `[temboard] hostname` wins, else
//! the machine's FQDN as the resolver knows it, else the plain host name. Never fails:
//! a name that is not an FQDN is still a name. The resolver is asked once, at start-up.

pub fn hostname(configured: Option<&str>) -> String {
    if let Some(name) = configured.map(str::trim).filter(|n| !n.is_empty()) {
        return name.to_string();
    }
    let plain = dns_lookup::get_hostname().unwrap_or_else(|_| "localhost".to_string());
    fqdn(&plain).unwrap_or(plain)
}

/// The canonical name of `plain` (getaddrinfo with AI_CANONNAME), when it has a dot.
fn fqdn(plain: &str) -> Option<String> {
    let hints = dns_lookup::AddrInfoHints {
        flags: libc_ai_canonname(),
        ..Default::default()
    };
    let mut found = dns_lookup::getaddrinfo(Some(plain), None, Some(hints)).ok()?;
    found
        .find_map(|info| info.ok()?.canonname)
        .filter(|name| name.contains('.'))
}

// AI_CANONNAME is 2 on every Linux libc.
const fn libc_ai_canonname() -> i32 {
    2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_name_wins() {
        assert_eq!(hostname(Some("db1.example.org")), "db1.example.org");
    }

    #[test]
    fn blank_configured_name_falls_back_to_the_machine() {
        assert!(!hostname(Some("  ")).is_empty());
        assert!(!hostname(None).is_empty());
    }
}
