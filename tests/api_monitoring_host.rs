//! The host probes of the monitoring chapter (cpu, process, memory, loadavg,
//! filesystems_size) and the history record's `hostinfo`, against a real agent:
//! shapes and JSON types as the spec examples, values against ground truth read
//! here (/proc, `stat -f`, `uname -m`).
//!
//! The on-demand rule (collector.rs): a scheduled probe answers the change since
//! the collector's last run (an empty list before the first run ends), an
//! unscheduled one the change since its previous on-demand call (an empty list on
//! the first). The tests poll with a deadline rather than assume either.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(30);

/// The rows of `GET /monitoring/probe/<name>`, checking the answer's envelope.
fn probe(agent: &Agent, name: &str) -> Vec<Value> {
    let res = agent.get(&format!("/monitoring/probe/{name}?key={KEY}"));
    assert_eq!(res.status, 200, "{name}: {}", res.text());
    let body = res.json();
    assert_eq!(sorted_keys(&body), [name], "{body}");
    body[name]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: not a list: {body}"))
        .clone()
}

/// The rows of `name` once they are not empty (the collector's first run may
/// still be going).
fn probe_rows(agent: &Agent, name: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    wait_until(DEADLINE, &format!("rows of {name}"), || {
        rows = probe(agent, name);
        !rows.is_empty()
    });
    rows
}

/// `2017-04-21 07:16:25 +0000`.
fn assert_host_datetime(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("datetime: {v}"));
    let b = s.as_bytes();
    assert_eq!(b.len(), 25, "{s}");
    for (i, c) in b.iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(*c, b'-', "{s}"),
            10 | 19 => assert_eq!(*c, b' ', "{s}"),
            13 | 16 => assert_eq!(*c, b':', "{s}"),
            20 => assert_eq!(*c, b'+', "{s}"),
            _ => assert!(c.is_ascii_digit(), "{s}"),
        }
    }
    assert!(s.ends_with("+0000"), "{s}");
}

fn assert_uint(row: &Value, key: &str) -> u64 {
    row[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is an unsigned integer: {row}"))
}

fn measure_interval(row: &Value) -> f64 {
    assert!(row["measure_interval"].is_f64(), "{row}");
    row["measure_interval"].as_f64().unwrap()
}

/// The `cpuN` names of /proc/stat.
fn cpus_of_proc() -> Vec<String> {
    std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.starts_with("cpu") && w.len() > 3)
        .map(str::to_string)
        .collect()
}

fn mem_total_bytes() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    kb * 1024
}

/// Undoes /proc/mounts' octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            if let Ok(n) = u8::from_str_radix(&s[i + 1..i + 4], 8) {
                out.push(n);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The device and mount point of the filesystem holding `path`: the visible
/// mount with the longest mount point above it.
fn filesystem_of(path: &Path) -> (String, String) {
    let path = path.canonicalize().unwrap();
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    let mut best: Option<(String, String)> = None;
    for line in mounts.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (device, point) = (unescape(f[0]), unescape(f[1]));
        if path.starts_with(&point) && best.as_ref().is_none_or(|(_, b)| point.len() >= b.len()) {
            best = Some((device, point));
        }
    }
    best.expect("a mount point above the data directory")
}

/// `stat -f`: (fragment size, blocks, free blocks) of the filesystem of `path`.
fn statfs(path: &Path) -> (u64, u64, u64) {
    let out = Command::new("stat")
        .args(["-f", "--format=%S %b %f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let n: Vec<u64> = text
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

fn data_dir_row<'a>(rows: &'a [Value], data_dir: &Path) -> &'a Value {
    let (device, point) = filesystem_of(data_dir);
    // One row per device: a bind mount of the same device may stand for it.
    rows.iter()
        .find(|r| r["mount_point"] == point.as_str() || r["device"] == device.as_str())
        .unwrap_or_else(|| {
            panic!("no row for {device} on {point} (data directory {data_dir:?}): {rows:?}")
        })
}

fn assert_filesystem_matches_statfs(row: &Value, path: &Path) {
    let (frsize, blocks, free) = statfs(path);
    assert_eq!(assert_uint(row, "total"), blocks * frsize, "{row}");
    // Others write on this machine at the same time: used is close, not equal.
    let used = assert_uint(row, "used") as i128;
    let truth = ((blocks - free) * frsize) as i128;
    let slack = ((blocks * frsize) as i128 / 100).max(256 << 20);
    assert!(
        (used - truth).abs() <= slack,
        "used {used} vs stat -f {truth}: {row}"
    );
}

#[test]
fn host_probes_answer_the_spec_shape_and_the_host_truth() {
    let pg = PgCluster::shared();
    // Runs every host probe at start, then not for an hour: on-demand calls
    // answer the change since that first run.
    let agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: "[monitoring]\nscheduler_interval = 3600\n".to_string(),
            ..AgentSetup::default()
        },
    );

    // cpu: one row per CPU of /proc/stat, integer milliseconds over the interval.
    let mut rows = Vec::new();
    wait_until(DEADLINE, "cpu rows over at least 2 s", || {
        rows = probe(&agent, "cpu");
        rows.first().is_some_and(|r| measure_interval(r) >= 2.0)
    });
    let names: Vec<&str> = rows.iter().map(|r| r["cpu"].as_str().unwrap()).collect();
    assert_eq!(names, cpus_of_proc());
    for row in &rows {
        assert_eq!(
            sorted_keys(row),
            [
                "cpu",
                "datetime",
                "measure_interval",
                "time_idle",
                "time_iowait",
                "time_steal",
                "time_system",
                "time_user"
            ]
        );
        assert_host_datetime(&row["datetime"]);
        let interval_ms = measure_interval(row) * 1000.0;
        let spent: u64 = [
            "time_user",
            "time_system",
            "time_idle",
            "time_iowait",
            "time_steal",
        ]
        .iter()
        .map(|k| assert_uint(row, k))
        .sum();
        // Each CPU spends the whole interval in one state or another: the sum is
        // the interval in milliseconds. Loose: ticks are 10 ms and, on a busy
        // machine, each reading may lag its clock by a fraction of a second; a
        // unit error (ticks, seconds) is off by 10 or more.
        assert!(
            (spent as f64 - interval_ms).abs() <= interval_ms * 0.25 + 500.0,
            "{spent} ms spent over {interval_ms} ms: {row}"
        );
    }

    // process: the spec's types (procs_total is text there).
    let rows = probe_rows(&agent, "process");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        sorted_keys(row),
        [
            "context_switches",
            "datetime",
            "forks",
            "measure_interval",
            "procs_blocked",
            "procs_running",
            "procs_total"
        ]
    );
    assert_host_datetime(&row["datetime"]);
    for k in [
        "context_switches",
        "forks",
        "procs_blocked",
        "procs_running",
    ] {
        assert_uint(row, k);
    }
    let total: u64 = row["procs_total"]
        .as_str()
        .unwrap_or_else(|| panic!("procs_total is text: {row}"))
        .parse()
        .unwrap();
    let pids = std::fs::read_dir("/proc")
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .count() as u64;
    assert!(total.abs_diff(pids) <= pids / 5 + 20, "{total} vs {pids}");
    assert!(measure_interval(row) > 0.0);

    // memory: bytes, mem_total exactly MemTotal.
    let rows = probe(&agent, "memory");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        sorted_keys(row),
        [
            "datetime",
            "mem_buffers",
            "mem_cached",
            "mem_free",
            "mem_total",
            "mem_used",
            "swap_total",
            "swap_used"
        ]
    );
    assert_host_datetime(&row["datetime"]);
    assert_eq!(assert_uint(row, "mem_total"), mem_total_bytes());
    assert_eq!(
        assert_uint(row, "mem_used") + assert_uint(row, "mem_free"),
        mem_total_bytes()
    );
    for k in ["mem_buffers", "mem_cached", "swap_total", "swap_used"] {
        assert_uint(row, k);
    }

    // loadavg: the text of /proc/loadavg (read around the call: it may change).
    let mut seen = None;
    wait_until(DEADLINE, "loadavg as /proc/loadavg says", || {
        let read = || {
            let text = std::fs::read_to_string("/proc/loadavg").unwrap();
            let f: Vec<String> = text.split_whitespace().take(3).map(String::from).collect();
            f
        };
        let before = read();
        let rows = probe(&agent, "loadavg");
        let after = read();
        assert_eq!(rows.len(), 1);
        let row = rows[0].clone();
        assert_eq!(sorted_keys(&row), ["datetime", "load1", "load15", "load5"]);
        assert_host_datetime(&row["datetime"]);
        let got: Vec<String> = ["load1", "load5", "load15"]
            .iter()
            .map(|k| {
                let s = row[*k]
                    .as_str()
                    .unwrap_or_else(|| panic!("{k} is text: {row}"));
                let (int, dec) = s.split_once('.').expect("two decimals");
                assert!(
                    int.bytes().all(|b| b.is_ascii_digit()) && dec.len() == 2,
                    "{s}"
                );
                s.to_string()
            })
            .collect();
        seen = Some((got.clone(), before.clone(), after.clone()));
        got == before || got == after
    });
    assert!(seen.is_some());

    // filesystems_size: the data directory's filesystem, sized as statvfs says.
    let rows = probe(&agent, "filesystems_size");
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(
            sorted_keys(row),
            ["datetime", "device", "mount_point", "total", "used"]
        );
        assert_host_datetime(&row["datetime"]);
        assert!(row["device"].is_string() && row["mount_point"].is_string());
        assert!(
            assert_uint(row, "used") <= assert_uint(row, "total"),
            "{row}"
        );
    }
    let points: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["mount_point"].as_str().unwrap())
        .collect();
    assert_eq!(
        points.len(),
        rows.len(),
        "one row per mount point: {rows:?}"
    );
    for pseudo in ["/proc", "/sys", "/dev/shm", "/sys/fs/cgroup"] {
        assert!(
            !points.contains(pseudo),
            "{pseudo} is not a real filesystem"
        );
    }
    assert_filesystem_matches_statfs(data_dir_row(&rows, pg.data_dir()), pg.data_dir());
}

#[test]
fn unscheduled_host_probes_count_between_two_calls() {
    // cpu and process off the schedule: each call answers the change since the
    // previous call, the first one nothing.
    let agent = Agent::start_with(
        PgCluster::shared(),
        AgentSetup {
            extra: "[monitoring]\nprobes = memory\nscheduler_interval = 3600\n".to_string(),
            ..AgentSetup::default()
        },
    );
    assert_eq!(probe(&agent, "process"), Vec::<Value>::new());
    assert_eq!(probe(&agent, "cpu"), Vec::<Value>::new());
    const FORKS: u64 = 25;
    for _ in 0..FORKS {
        let status = Command::new("true").status().unwrap();
        assert!(status.success());
    }
    let rows = probe(&agent, "process");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        assert_uint(&rows[0], "forks") >= FORKS,
        "the test forked {FORKS} processes: {:?}",
        rows[0]
    );
    assert!(assert_uint(&rows[0], "context_switches") > 0);
    assert!(measure_interval(&rows[0]) > 0.0);

    let rows = probe(&agent, "cpu");
    assert_eq!(rows.len(), cpus_of_proc().len(), "{rows:?}");
    for row in &rows {
        assert!(measure_interval(row) > 0.0, "{row}");
    }

    // An unknown probe is a 404 with the JSON error shape.
    let res = agent.get(&format!("/monitoring/probe/cpus?key={KEY}"));
    assert_eq!(res.status, 404);
    assert!(!res.error().is_empty());
}

#[test]
fn history_record_describes_the_host() {
    let pg = PgCluster::shared();
    let agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: "[monitoring]\nscheduler_interval = 3600\n".to_string(),
            ..AgentSetup::default()
        },
    );
    let mut records = Vec::new();
    wait_until(DEADLINE, "the first record", || {
        let res = agent.get(&format!("/monitoring/history?key={KEY}"));
        assert_eq!(res.status, 200, "{}", res.text());
        records = res.json().as_array().unwrap().clone();
        !records.is_empty()
    });
    let info = &records[0]["hostinfo"];
    assert_eq!(
        sorted_keys(info),
        [
            "cpu_arch",
            "cpu_count",
            "cpus",
            "filesystems",
            "hostname",
            "ip_addresses",
            "memory_size",
            "os",
            "os_flavor",
            "os_version"
        ]
    );
    assert_eq!(info["hostname"], HOSTNAME);
    assert_eq!(info["os"], "Linux");
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(info["os_version"], release.trim());
    let machine = Command::new("uname").arg("-m").output().unwrap().stdout;
    assert_eq!(info["cpu_arch"], String::from_utf8(machine).unwrap().trim());
    assert_eq!(
        info["cpu_count"].as_u64(),
        Some(cpus_of_proc().len() as u64)
    );
    assert_eq!(info["memory_size"].as_u64(), Some(mem_total_bytes()));

    // cpus: one entry per processor of /proc/cpuinfo, every field text.
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let processors: Vec<String> = cpuinfo
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim() == "processor")
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let cpus = info["cpus"].as_array().unwrap();
    let got: Vec<&str> = cpus
        .iter()
        .map(|c| c["processor"].as_str().unwrap())
        .collect();
    assert_eq!(got, processors);
    for cpu in cpus {
        assert_eq!(
            sorted_keys(cpu),
            [
                "cache_size",
                "core_id",
                "cpu_mhz",
                "model_name",
                "processor"
            ]
        );
        assert!(
            cpu.as_object().unwrap().values().all(Value::is_string),
            "{cpu}"
        );
    }

    // ip_addresses: addresses, the loopback among them.
    let ips = info["ip_addresses"].as_array().unwrap();
    assert!(ips.contains(&Value::from("127.0.0.1")), "{ips:?}");
    for ip in ips {
        ip.as_str().unwrap().parse::<IpAddr>().unwrap();
    }

    // filesystems: the filesystems_size rows without datetime.
    let fs = info["filesystems"].as_array().unwrap();
    for row in fs {
        assert_eq!(sorted_keys(row), ["device", "mount_point", "total", "used"]);
    }
    assert_filesystem_matches_statfs(data_dir_row(fs, pg.data_dir()), pg.data_dir());

    // os_flavor: Debian's point release on Debian, a name and version elsewhere.
    let flavor = info["os_flavor"].as_str().unwrap();
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let debian_version = std::fs::read_to_string("/etc/debian_version").unwrap_or_default();
    if os_release.lines().any(|l| l == "ID=debian")
        && debian_version.starts_with(|c: char| c.is_ascii_digit())
    {
        assert_eq!(flavor, format!("Debian {}", debian_version.trim()));
    } else {
        assert!(!flavor.is_empty());
    }
}
