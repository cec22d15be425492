//! The IP addresses of the host's network interfaces (getifaddrs), for the
//! monitoring record's `hostinfo.ip_addresses`: IPv4 first, then IPv6, each in
//! interface order, without duplicates. Loopback addresses are kept (the 7.x
//! record lists 127.0.0.1). IPv6 link-local addresses (fe80::/10) are left out:
//! every interface has one, and they mean nothing without an interface name.
//! 7.x listed IPv4 addresses only; IPv6 ones are added after them, so a reader
//! that takes the first address still gets what 7.x gave.

use std::net::IpAddr;

use super::HostError;

/// `addresses` ordered and filtered as the module header says.
pub fn ordered(addresses: impl IntoIterator<Item = IpAddr>) -> Vec<String> {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for addr in addresses {
        match addr {
            IpAddr::V4(a) => v4.push(a.to_string()),
            IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80 => {}
            IpAddr::V6(a) => v6.push(a.to_string()),
        }
    }
    let mut out: Vec<String> = Vec::with_capacity(v4.len() + v6.len());
    for a in v4.into_iter().chain(v6) {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// The addresses of this host's interfaces.
pub fn ip_addresses() -> Result<Vec<String>, HostError> {
    let found = nix::ifaddrs::getifaddrs().map_err(|e| HostError::parse("getifaddrs", e))?;
    Ok(ordered(found.filter_map(|ifa| {
        let addr = ifa.address?;
        if let Some(v4) = addr.as_sockaddr_in() {
            return Some(IpAddr::V4(v4.ip()));
        }
        addr.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_first_no_link_local_no_duplicates() {
        let found = [
            ip("127.0.0.1"),
            ip("::1"),
            ip("192.0.2.2"),
            ip("fd00::2"),
            ip("fe80::fc:ff:fe00:1"),
            ip("febf::1"),
            ip("192.0.2.2"),
        ];
        assert_eq!(ordered(found), ["127.0.0.1", "192.0.2.2", "::1", "fd00::2"]);
        assert_eq!(ordered([ip("fec0::1")]), ["fec0::1"]);
    }

    #[test]
    fn this_host_has_its_loopback() {
        assert!(ip_addresses().unwrap().contains(&"127.0.0.1".to_string()));
    }
}
