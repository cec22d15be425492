//! Reads what the OS knows of one process: `/proc/<pid>/stat` (CPU time, resident
//! memory, state, start time) and `/proc/<pid>/io` (bytes read from and written to
//! storage), plus the two host figures rates need (`/proc/uptime`, `/proc/meminfo`).
//! Parsing is done by the `procfs` crate on bytes, so it is tested on captured text;
//! `ProcReader` only opens the files, under a root that tests can point elsewhere.
//!
//! It keeps nothing between calls and never fails: a process that is gone (or not
//! readable) is `None`, for the caller to report with null fields. `read_batch`
//! reads many processes on tokio's blocking threads, one chunk per CPU, so that a
//! listing of hundreds of backends neither waits for one core nor blocks an actor.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use procfs::process::{Io, Stat};
use procfs::{FromRead, Meminfo, Uptime};

/// Bytes a process caused to be read from and written to the storage layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoBytes {
    pub read: u64,
    pub write: u64,
}

/// One reading of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcSample {
    /// Start time in clock ticks after boot: tells a reused pid from the process
    /// read before under the same pid.
    pub start_ticks: u64,
    /// User plus system CPU time, in clock ticks.
    pub cpu_ticks: u64,
    /// Resident set size, in pages.
    pub rss_pages: u64,
    /// One-letter state (`R`, `S`, `D`, ...).
    pub state: char,
    /// None when `/proc/<pid>/io` is not readable: it needs the process's user (or
    /// root), while `stat` is readable by all.
    pub io: Option<IoBytes>,
}

impl ProcSample {
    /// Whether the process waits in uninterruptible sleep, i.e. on I/O.
    pub fn in_io_wait(&self) -> bool {
        self.state == 'D'
    }
}

/// Parses the text of `/proc/<pid>/stat` and, when it could be read, `/proc/<pid>/io`.
pub fn parse(stat: &[u8], io: Option<&[u8]>) -> Option<ProcSample> {
    let stat = Stat::from_read(stat).ok()?;
    let io = io
        .and_then(|text| Io::from_read(text).ok())
        .map(|io| IoBytes {
            read: io.read_bytes,
            write: io.write_bytes,
        });
    Some(ProcSample {
        start_ticks: stat.starttime,
        cpu_ticks: stat.utime + stat.stime,
        rss_pages: stat.rss,
        state: stat.state,
        io,
    })
}

/// Constants of the host that turn ticks, pages and bytes into percents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostUnits {
    pub ticks_per_second: u64,
    pub page_size: u64,
    /// MemTotal in bytes; None when /proc/meminfo could not be read.
    pub mem_total: Option<u64>,
}

/// Opens the files of `/proc` (or of a copy of it, in tests).
#[derive(Debug, Clone)]
pub struct ProcReader {
    root: PathBuf,
}

/// Readings of many processes, taken together.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// One per pid asked for, in the same order.
    pub samples: Vec<Option<ProcSample>>,
    pub uptime: Option<f64>,
    /// When the readings were over.
    pub at: Instant,
}

/// Fewer pids than this per thread cost more to hand over than to read.
const MIN_CHUNK: usize = 64;

impl ProcReader {
    pub fn new(root: impl Into<PathBuf>) -> ProcReader {
        ProcReader { root: root.into() }
    }

    /// The real `/proc`.
    pub fn system() -> ProcReader {
        ProcReader::new("/proc")
    }

    /// The whole file. Not `fs::read`: its size hint costs a `statx` per file,
    /// which /proc answers with 0 anyway.
    fn read(&self, path: impl AsRef<Path>) -> Option<Vec<u8>> {
        let mut file = File::open(self.root.join(path)).ok()?;
        let mut text = Vec::with_capacity(1024);
        file.read_to_end(&mut text).ok()?;
        Some(text)
    }

    /// One reading of process `pid`; None when it is gone.
    pub fn sample(&self, pid: i32) -> Option<ProcSample> {
        if pid <= 0 {
            return None;
        }
        let stat = self.read(format!("{pid}/stat"))?;
        let io = self.read(format!("{pid}/io"));
        parse(&stat, io.as_deref())
    }

    /// Seconds since boot, to know how old a process is.
    pub fn uptime(&self) -> Option<f64> {
        let text = self.read("uptime")?;
        Uptime::from_read(&text[..]).ok().map(|u| u.uptime)
    }

    /// MemTotal in bytes.
    pub fn mem_total(&self) -> Option<u64> {
        let text = self.read("meminfo")?;
        Meminfo::from_read(&text[..]).ok().map(|m| m.mem_total)
    }

    /// Reads `pids` in parallel chunks on blocking threads; answers them in order.
    pub async fn read_batch(&self, pids: &[i32]) -> Batch {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = pids.len().div_ceil(threads).max(MIN_CHUNK);
        let reads: Vec<_> = pids
            .chunks(chunk)
            .map(|part| {
                let part = part.to_vec();
                let reader = self.clone();
                let n = part.len();
                let task = tokio::task::spawn_blocking(move || {
                    part.iter()
                        .map(|&pid| reader.sample(pid))
                        .collect::<Vec<_>>()
                });
                (n, task)
            })
            .collect();
        let uptime = self.uptime();
        let mut samples = Vec::with_capacity(pids.len());
        for (n, task) in reads {
            // A reading thread that failed reads as processes gone, not as an error.
            samples.extend(task.await.unwrap_or_else(|_| vec![None; n]));
        }
        Batch {
            samples,
            uptime,
            at: Instant::now(),
        }
    }

    pub fn host_units(&self) -> HostUnits {
        HostUnits {
            ticks_per_second: procfs::ticks_per_second().max(1),
            page_size: procfs::page_size(),
            mem_total: self.mem_total().filter(|&total| total > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "6285 (postgres) D 6270 6285 6285 0 -1 4194560 1434 0 0 0 \
        150 25 0 0 20 0 1 0 285228 224698368 2202 18446744073709551615 1 1 0 0 0 0 \
        4194304 19935232 84487 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    const IO: &str = "rchar: 6976\nwchar: 120\nsyscr: 10\nsyscw: 2\n\
        read_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n";

    #[test]
    fn parses_stat_and_io() {
        let s = parse(STAT.as_bytes(), Some(IO.as_bytes())).unwrap();
        assert_eq!(s.start_ticks, 285228);
        assert_eq!(s.cpu_ticks, 175);
        assert_eq!(s.rss_pages, 2202);
        assert_eq!(s.state, 'D');
        assert!(s.in_io_wait());
        assert_eq!(
            s.io,
            Some(IoBytes {
                read: 4096,
                write: 8192
            })
        );
    }

    #[test]
    fn command_names_with_spaces_and_parentheses() {
        let stat = STAT.replace("(postgres)", "(postgres: a) b (c)");
        let s = parse(stat.as_bytes(), None).unwrap();
        assert_eq!(s.state, 'D');
        assert_eq!(s.cpu_ticks, 175);
        assert_eq!(s.io, None);
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(parse(b"", None), None);
        assert_eq!(parse(b"12 (x", None), None);
        // An unreadable io file only loses the I/O figures.
        let s = parse(STAT.as_bytes(), Some(b"nonsense")).unwrap();
        assert_eq!(s.io, None);
    }

    #[test]
    fn reads_a_proc_tree_and_misses_gone_processes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("6285")).unwrap();
        std::fs::write(dir.path().join("6285/stat"), STAT).unwrap();
        std::fs::write(dir.path().join("6285/io"), IO).unwrap();
        std::fs::write(dir.path().join("uptime"), "2852.29 2020.42\n").unwrap();
        // A real meminfo: procfs wants every field a kernel always has.
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
        let total_kb: u64 = meminfo
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        std::fs::write(dir.path().join("meminfo"), &meminfo).unwrap();
        let reader = ProcReader::new(dir.path());
        assert_eq!(reader.sample(6285).unwrap().rss_pages, 2202);
        assert_eq!(reader.sample(6286), None);
        assert_eq!(reader.sample(0), None);
        assert_eq!(reader.sample(-1), None);
        assert_eq!(reader.uptime(), Some(2852.29));
        assert_eq!(reader.mem_total(), Some(total_kb * 1024));
    }

    #[test]
    fn reads_this_process() {
        let reader = ProcReader::system();
        let me = reader.sample(std::process::id() as i32).unwrap();
        assert!(me.rss_pages > 0);
        assert!(reader.uptime().unwrap() > 0.0);
        assert!(reader.host_units().mem_total.unwrap() > 0);
    }
}
