//! Size and use of the host's real filesystems, from /proc/mounts and statvfs(3),
//! for the `filesystems_size` probe and the record's `hostinfo.filesystems`. Never
//! runs df. Parsers are pure over the file texts (/proc/mounts by procfs); `read`
//! does the I/O.
//!
//! Which mounts count (the "real" filesystems, as df without `-a` and the 7.x agent
//! show them; the 7.x record of a Debian host lists `/` only, not /dev or /dev/shm):
//! - the visible mount of each mount point: when something is mounted over a mount
//!   point, only the last entry of /proc/mounts is what statvfs sees;
//! - whose type is backed by a block device: listed in /proc/filesystems without
//!   `nodev` (ext4, xfs, btrfs, vfat, fuseblk, ...), except read-only images that
//!   are always full (squashfs, erofs, iso9660, cramfs: snaps, live media);
//! - or a network or pooled filesystem that holds data although it is `nodev`
//!   (nfs, nfs4, cifs, smb3, ceph, glusterfs, lustre, gpfs, beegfs, zfs);
//! - so pseudo filesystems (proc, sysfs, cgroup, devtmpfs, tmpfs, overlay, ...)
//!   are left out;
//! - one row per device: a device mounted at several mount points (bind mounts,
//!   btrfs subvolumes) has the same size everywhere; the shortest mount point
//!   stands for it;
//! - a filesystem whose statvfs reports no block is left out.
//!
//! A dead network server makes statvfs hang in the kernel, uninterruptibly. So
//! each statvfs runs on its own helper thread and the caller waits for all of them
//! at most `STATVFS_TIMEOUT` together; a mount point that did not answer is
//! skipped and reported as such. Its helper thread cannot be cancelled: the mount
//! point is remembered in a process-wide set until that thread returns, and no new
//! thread is started for it meanwhile, so a dead mount costs one stuck thread, not
//! one per probe run. That set is the only state of this module: it is about
//! threads of this process, not about the host, and every caller (the probe and
//! the record's host description, possibly at the same time) must share it.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use procfs::{FromBufRead, MountEntry};
use serde::Serialize;

use super::HostError;

/// How long the statvfs calls of one reading may take, all together.
pub const STATVFS_TIMEOUT: Duration = Duration::from_secs(2);

/// One line of /proc/mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub device: String,
    pub mount_point: String,
    pub fstype: String,
}

/// The mounts of /proc/mounts (procfs), in file order; a malformed line is an
/// error (the kernel writes six fields on every line).
pub fn parse_mounts(text: &str) -> Result<Vec<Mount>, HostError> {
    // procfs decodes the kernel's octal escapes for tab, newline, backslash and `#`
    // but not `\040`, a space: make it a NUL, which no path or device name can hold
    // (and the kernel never writes), then a space again. Done on the raw text, an
    // escaped backslash followed by "040" (`\134040`) is left alone.
    let text = text.replace("\\040", "\0");
    let entries = Vec::<MountEntry>::from_buf_read(text.as_bytes())
        .map_err(|e| HostError::parse("/proc/mounts", e))?;
    let field = |s: String| s.replace('\0', " ");
    Ok(entries
        .into_iter()
        .map(|m| Mount {
            device: field(m.fs_spec),
            mount_point: field(m.fs_file),
            fstype: field(m.fs_vfstype),
        })
        .collect())
}

/// The filesystem types of /proc/filesystems (procfs has no parser for it) that are
/// backed by a block device (those without `nodev`).
pub fn parse_block_types(text: &str) -> HashSet<String> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            match (f.next()?, f.next()) {
                ("nodev", _) => None,
                (fstype, None) => Some(fstype.to_string()),
                _ => None,
            }
        })
        .collect()
}

/// Block filesystems left out: read-only images, always 100 % used.
const IMAGE_TYPES: [&str; 4] = ["squashfs", "erofs", "iso9660", "cramfs"];

/// `nodev` filesystems kept: they hold data (network, cluster, pooled).
const DATA_NODEV_TYPES: [&str; 11] = [
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "ceph",
    "glusterfs",
    "fuse.glusterfs",
    "lustre",
    "gpfs",
    "beegfs",
];

fn is_real(fstype: &str, block_types: &HashSet<String>) -> bool {
    if IMAGE_TYPES.contains(&fstype) {
        return false;
    }
    block_types.contains(fstype) || DATA_NODEV_TYPES.contains(&fstype) || fstype == "zfs"
}

/// The mounts to measure, by the rules of this module's header, in file order.
pub fn real_mounts(mounts: &[Mount], block_types: &HashSet<String>) -> Vec<Mount> {
    // The visible mount of each mount point: the last one.
    let last: HashMap<&str, usize> = mounts
        .iter()
        .enumerate()
        .map(|(i, m)| (m.mount_point.as_str(), i))
        .collect();
    let visible: Vec<&Mount> = mounts
        .iter()
        .enumerate()
        .filter(|(i, m)| last[m.mount_point.as_str()] == *i && is_real(&m.fstype, block_types))
        .map(|(_, m)| m)
        .collect();
    // One mount point per device: the shortest (the first on a tie).
    let mut chosen: HashMap<&str, &Mount> = HashMap::new();
    for m in &visible {
        chosen
            .entry(m.device.as_str())
            .and_modify(|c| {
                if m.mount_point.len() < c.mount_point.len() {
                    *c = m;
                }
            })
            .or_insert(m);
    }
    visible
        .into_iter()
        .filter(|m| std::ptr::eq(chosen[m.device.as_str()], *m))
        .cloned()
        .collect()
}

/// What statvfs tells of a filesystem, reduced to what the probe needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub blocks: u64,
    pub blocks_free: u64,
    /// The unit of the block counts (f_frsize).
    pub fragment_size: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.blocks.saturating_mul(self.fragment_size)
    }

    /// Everything not free, the blocks reserved for root included (as df's Used).
    pub fn used(&self) -> u64 {
        self.blocks
            .saturating_sub(self.blocks_free)
            .saturating_mul(self.fragment_size)
    }
}

/// One filesystem's row: bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FsSize {
    pub device: String,
    pub mount_point: String,
    pub total: u64,
    pub used: u64,
}

/// Why a real filesystem has no row this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// statvfs did not answer within the time box.
    TimedOut,
    /// A statvfs of a previous reading has still not answered.
    StillStuck,
    /// statvfs failed (e.g. permission denied, mount point gone).
    Failed(String),
    /// No helper thread could be started.
    NoThread(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub mount_point: String,
    pub reason: SkipReason,
}

/// One reading: the rows, and the real filesystems that have none (for the
/// caller's log).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sizes {
    pub sizes: Vec<FsSize>,
    pub skipped: Vec<Skipped>,
}

/// statvfs of a mount point, as the helper threads call it.
pub type StatFn = fn(&str) -> Result<Usage, String>;

fn statvfs(mount_point: &str) -> Result<Usage, String> {
    let s = nix::sys::statvfs::statvfs(mount_point).map_err(|e| e.to_string())?;
    let fragment_size = match s.fragment_size() {
        0 => s.block_size(),
        n => n,
    };
    #[allow(clippy::useless_conversion)] // fsblkcnt_t is u32 on 32-bit targets.
    Ok(Usage {
        blocks: u64::from(s.blocks()),
        blocks_free: u64::from(s.blocks_free()),
        fragment_size: u64::from(fragment_size),
    })
}

/// Mount points whose statvfs helper thread has not returned after a time-out.
static STUCK: Mutex<Option<HashSet<String>>> = Mutex::new(None);

fn stuck() -> MutexGuard<'static, Option<HashSet<String>>> {
    // A panic while holding it leaves a consistent set: keep using it.
    STUCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn is_stuck(mount_point: &str) -> bool {
    stuck().as_ref().is_some_and(|s| s.contains(mount_point))
}

/// The sizes of `mounts`, each statvfs on a helper thread, all within `timeout`.
pub fn measure(mounts: &[Mount], timeout: Duration, stat: StatFn) -> Sizes {
    let deadline = Instant::now() + timeout;
    let (tx, rx) = mpsc::channel::<(usize, Result<Usage, String>)>();
    let mut results: Vec<Option<Result<Usage, String>>> = vec![None; mounts.len()];
    let mut skipped = Vec::new();
    let mut pending = HashSet::new();
    for (i, m) in mounts.iter().enumerate() {
        if is_stuck(&m.mount_point) {
            skipped.push((i, SkipReason::StillStuck));
            continue;
        }
        let tx = tx.clone();
        let mount_point = m.mount_point.clone();
        let spawned = std::thread::Builder::new()
            .name("statvfs".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let result = stat(&mount_point);
                // Under the lock, so that a caller that timed out either sees this
                // result or has already marked the mount point stuck (and this
                // removes it): never a mount point left stuck forever.
                let mut set = stuck();
                if let Some(s) = set.as_mut() {
                    s.remove(&mount_point);
                }
                let _ = tx.send((i, result));
            });
        match spawned {
            Ok(_) => {
                pending.insert(i);
            }
            Err(e) => skipped.push((i, SkipReason::NoThread(e.to_string()))),
        }
    }
    drop(tx);
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, result)) => {
                pending.remove(&i);
                results[i] = Some(result);
            }
            Err(_) => break,
        }
    }
    if !pending.is_empty() {
        let mut set = stuck();
        while let Ok((i, result)) = rx.try_recv() {
            pending.remove(&i);
            results[i] = Some(result);
        }
        let set = set.get_or_insert_with(HashSet::new);
        for &i in &pending {
            set.insert(mounts[i].mount_point.clone());
            skipped.push((i, SkipReason::TimedOut));
        }
    }
    let mut sizes = Vec::new();
    for (i, (m, result)) in mounts.iter().zip(results).enumerate() {
        match result {
            Some(Ok(usage)) if usage.blocks > 0 => sizes.push(FsSize {
                device: m.device.clone(),
                mount_point: m.mount_point.clone(),
                total: usage.total(),
                used: usage.used(),
            }),
            Some(Ok(_)) | None => {}
            Some(Err(e)) => skipped.push((i, SkipReason::Failed(e))),
        }
    }
    skipped.sort_by_key(|(i, _)| *i);
    Sizes {
        sizes,
        skipped: skipped
            .into_iter()
            .map(|(i, reason)| Skipped {
                mount_point: mounts[i].mount_point.clone(),
                reason,
            })
            .collect(),
    }
}

/// The host's real filesystems and their sizes now.
pub fn read() -> Result<Sizes, HostError> {
    let mounts = parse_mounts(&super::read("/proc/mounts")?)?;
    let block_types = parse_block_types(&super::read("/proc/filesystems")?);
    Ok(measure(
        &real_mounts(&mounts, &block_types),
        STATVFS_TIMEOUT,
        statvfs,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    const MOUNTS: &str = include_str!("fixtures/mounts-this-host.txt");
    const FILESYSTEMS: &str = include_str!("fixtures/filesystems-this-host.txt");
    const MOUNTS_SERVER: &str = include_str!("fixtures/mounts-server.txt");

    fn mount(device: &str, mount_point: &str, fstype: &str) -> Mount {
        Mount {
            device: device.into(),
            mount_point: mount_point.into(),
            fstype: fstype.into(),
        }
    }

    fn points(mounts: &[Mount]) -> Vec<&str> {
        mounts.iter().map(|m| m.mount_point.as_str()).collect()
    }

    #[test]
    fn block_types_are_those_without_nodev() {
        let types = parse_block_types(FILESYSTEMS);
        for t in ["ext4", "xfs", "btrfs", "fuseblk", "squashfs"] {
            assert!(types.contains(t), "{t}");
        }
        for t in ["proc", "tmpfs", "devtmpfs", "overlay", "cgroup2"] {
            assert!(!types.contains(t), "{t}");
        }
    }

    #[test]
    fn this_host_has_only_its_root_filesystem() {
        let real = real_mounts(
            &parse_mounts(MOUNTS).unwrap(),
            &parse_block_types(FILESYSTEMS),
        );
        assert_eq!(real, [mount("/dev/vda", "/", "ext4")]);
    }

    #[test]
    fn escaped_spaces_and_backslashes_are_decoded() {
        let mounts = parse_mounts(
            "/dev/sdb1 /mnt/my\\040disk ext4 rw 0 0\n\
             //srv/share /mnt/back\\134slash\\011tab cifs rw 0 0\n\
             /dev/sdc1 /mnt/not\\08octal ext4 rw 0 0\n\
             /dev/sdd1 /mnt/a\\134040b\\043c ext4 rw 0 0\n",
        )
        .unwrap();
        assert_eq!(
            points(&mounts),
            [
                "/mnt/my disk",
                "/mnt/back\\slash\ttab",
                "/mnt/not\\08octal",
                "/mnt/a\\040b#c"
            ]
        );
        assert_eq!(mounts[1].device, "//srv/share");
    }

    #[test]
    fn a_malformed_mounts_line_is_an_error_not_a_panic() {
        assert!(parse_mounts("/dev/sda1 / ext4 rw 0 0\nshort line\n").is_err());
        assert_eq!(parse_mounts("").unwrap(), []);
    }

    #[test]
    fn a_server_with_network_bind_and_hidden_mounts() {
        let types = parse_block_types(FILESYSTEMS);
        let real = real_mounts(&parse_mounts(MOUNTS_SERVER).unwrap(), &types);
        assert_eq!(
            real,
            [
                mount("/dev/mapper/vg-root", "/", "ext4"),
                mount("/dev/sda1", "/boot", "ext4"),
                mount("/dev/mapper/vg-pgdata", "/var/lib/postgresql", "xfs"),
                mount("nas:/export/archive", "/mnt/wal archive", "nfs4"),
                mount("tank/pg", "/tank/pg", "zfs"),
            ]
        );
    }

    #[test]
    fn sizes_in_bytes() {
        let u = Usage {
            blocks: 1000,
            blocks_free: 250,
            fragment_size: 4096,
        };
        assert_eq!((u.total(), u.used()), (4096000, 3072000));
        let odd = Usage {
            blocks: 10,
            blocks_free: 20,
            fragment_size: u64::MAX,
        };
        assert_eq!((odd.total(), odd.used()), (u64::MAX, 0));
    }

    fn fake_stat(mount_point: &str) -> Result<Usage, String> {
        match mount_point {
            "/fake/ok" | "/fake/dead" => Ok(Usage {
                blocks: 100,
                blocks_free: 40,
                fragment_size: 1024,
            }),
            "/fake/empty" => Ok(Usage {
                blocks: 0,
                blocks_free: 0,
                fragment_size: 4096,
            }),
            _ => Err("Permission denied".into()),
        }
    }

    #[test]
    fn failures_are_reported_and_empty_filesystems_left_out() {
        let mounts = [
            mount("/dev/a", "/fake/denied", "ext4"),
            mount("/dev/b", "/fake/ok", "ext4"),
            mount("/dev/c", "/fake/empty", "ext4"),
        ];
        let sizes = measure(&mounts, Duration::from_secs(5), fake_stat);
        assert_eq!(
            sizes.sizes,
            [FsSize {
                device: "/dev/b".into(),
                mount_point: "/fake/ok".into(),
                total: 102400,
                used: 61440,
            }]
        );
        assert_eq!(
            sizes.skipped,
            [Skipped {
                mount_point: "/fake/denied".into(),
                reason: SkipReason::Failed("Permission denied".into()),
            }]
        );
    }

    static RELEASE: AtomicBool = AtomicBool::new(false);
    static DEAD_CALLS: AtomicUsize = AtomicUsize::new(0);

    /// `/fake/dead` hangs like a dead NFS server until RELEASE.
    fn hanging_stat(mount_point: &str) -> Result<Usage, String> {
        if mount_point == "/fake/dead" {
            DEAD_CALLS.fetch_add(1, Ordering::SeqCst);
            while !RELEASE.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        fake_stat(mount_point)
    }

    #[test]
    fn a_hanging_statvfs_is_time_boxed_and_not_retried_while_stuck() {
        let mounts = [
            mount("nas:/x", "/fake/dead", "nfs"),
            mount("/dev/b", "/fake/ok", "ext4"),
        ];
        let started = Instant::now();
        let first = measure(&mounts, Duration::from_millis(300), hanging_stat);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(3),
            "{took:?}"
        );
        assert_eq!(points_of(&first), ["/fake/ok"]);
        assert_eq!(first.skipped[0].reason, SkipReason::TimedOut);

        // Still hanging: no new thread for it, and no waiting.
        let started = Instant::now();
        let second = measure(&mounts, Duration::from_millis(300), hanging_stat);
        assert!(started.elapsed() < Duration::from_millis(290));
        assert_eq!(points_of(&second), ["/fake/ok"]);
        assert_eq!(second.skipped[0].reason, SkipReason::StillStuck);
        assert_eq!(DEAD_CALLS.load(Ordering::SeqCst), 1);

        // The server comes back: the stuck thread returns and clears the mark.
        RELEASE.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        while is_stuck("/fake/dead") {
            assert!(Instant::now() < deadline, "the mark was never cleared");
            std::thread::sleep(Duration::from_millis(10));
        }
        let third = measure(&mounts, Duration::from_secs(5), hanging_stat);
        assert_eq!(third.skipped, []);
        assert_eq!(points_of(&third), ["/fake/dead", "/fake/ok"]);
    }

    fn points_of(sizes: &Sizes) -> Vec<&str> {
        sizes.sizes.iter().map(|s| s.mount_point.as_str()).collect()
    }

    #[test]
    fn this_host_has_a_sized_root() {
        let sizes = read().unwrap();
        assert!(!sizes.sizes.is_empty(), "{sizes:?}");
        for s in &sizes.sizes {
            assert!(s.total > 0 && s.used <= s.total, "{s:?}");
        }
    }
}
