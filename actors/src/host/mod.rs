//! Pure functions over /proc and the resolver that describe the host. Parsers take
//! the file text so they are tested on captured fixtures; the readers around them
//! only do the I/O.

pub mod cpu;
pub mod memory;
pub mod name;

/// What /discover tells of the host; computed once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    pub hostname: String,
    pub cpu: usize,
    pub memory_size: u64,
}

impl HostFacts {
    pub fn read(configured_hostname: Option<&str>) -> HostFacts {
        HostFacts {
            hostname: name::hostname(configured_hostname),
            cpu: cpu::count(),
            memory_size: memory::total_bytes().unwrap_or(0),
        }
    }
}
