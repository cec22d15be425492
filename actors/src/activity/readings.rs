//! The last /proc reading of each backend, and the OS view of an activity row made
//! from two readings: CPU (% of one CPU), memory (% of total RAM), disk read and
//! write rates, I/O wait. Owned by the `ActivityMonitor` actor; pure (the caller passes
//! the readings and the instant they were taken), so that it is tested without
//! processes or clocks.
//!
//! Rates compare a reading with the previous one of the same process when that one
//! is between `MIN_INTERVAL` and `MAX_INTERVAL` old. Without such a reading, the
//! rates are the process's averages since it started (what `ps` shows as %CPU), and
//! the caller is told that a second reading is wanted. A reading never outlives
//! `MAX_INTERVAL` here nor the process it describes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::human::bytes2human;
use super::proc_reader::{HostUnits, ProcSample};

/// Below this, two readings are too close for a rate (ticks are 10 ms).
pub const MIN_INTERVAL: Duration = Duration::from_millis(50);
/// Above this, a rate would describe the past more than the present.
pub const MAX_INTERVAL: Duration = Duration::from_secs(10);

/// The OS fields of an activity row; all null when the process could not be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OsView {
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
    pub read_s: Option<String>,
    pub write_s: Option<String>,
    pub iow: Option<&'static str>,
}

impl OsView {
    pub fn unknown() -> OsView {
        OsView {
            cpu: None,
            memory: None,
            read_s: None,
            write_s: None,
            iow: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rates {
    /// Percent of one CPU.
    cpu: f64,
    /// Bytes per second; None when the io file was not readable.
    read: Option<f64>,
    write: Option<f64>,
}

struct Entry {
    sample: ProcSample,
    at: Instant,
    /// The rates computed when this reading was taken, for a request that comes
    /// less than `MIN_INTERVAL` after it.
    rates: Option<Rates>,
}

pub struct Readings {
    units: HostUnits,
    by_pid: HashMap<i32, Entry>,
}

impl Readings {
    pub fn new(units: HostUnits) -> Readings {
        Readings {
            units,
            by_pid: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.by_pid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_pid.is_empty()
    }

    /// Records the reading of `pid` taken at `now` (None: the process is gone) and
    /// answers its OS view, and whether a second reading is wanted because there
    /// was no recent one to compare with. `uptime` (seconds since boot, at `now`)
    /// serves the since-start averages.
    pub fn observe(
        &mut self,
        pid: i32,
        sample: Option<ProcSample>,
        now: Instant,
        uptime: Option<f64>,
    ) -> (OsView, bool) {
        let Some(sample) = sample else {
            self.by_pid.remove(&pid);
            return (OsView::unknown(), false);
        };
        let tps = self.units.ticks_per_second as f64;
        let previous = self
            .by_pid
            .get(&pid)
            // The same process, not a new one that reuses the pid.
            .filter(|e| e.sample.start_ticks == sample.start_ticks)
            .map(|e| (now.saturating_duration_since(e.at), e.sample, e.rates));
        let (rates, wants_second) = match previous {
            Some((age, before, _)) if (MIN_INTERVAL..=MAX_INTERVAL).contains(&age) => {
                let rates = interval_rates(&before, &sample, age.as_secs_f64(), tps);
                self.remember(pid, sample, now, Some(rates));
                (Some(rates), false)
            }
            Some((age, _, last_rates)) if age < MIN_INTERVAL => {
                // Too soon for a rate of its own: keep the older reading as the
                // base of the next rate, and answer what it answered.
                match last_rates {
                    Some(rates) => (Some(rates), false),
                    None => (lifetime_rates(&sample, uptime, tps), true),
                }
            }
            _ => {
                self.remember(pid, sample, now, None);
                (lifetime_rates(&sample, uptime, tps), true)
            }
        };
        (self.view(&sample, rates), wants_second)
    }

    fn remember(&mut self, pid: i32, sample: ProcSample, at: Instant, rates: Option<Rates>) {
        self.by_pid.insert(pid, Entry { sample, at, rates });
    }

    /// Forgets readings too old to serve a rate: those of backends nobody asked
    /// about lately, most of them gone.
    pub fn forget_stale(&mut self, now: Instant) {
        self.by_pid
            .retain(|_, e| now.saturating_duration_since(e.at) <= MAX_INTERVAL);
    }

    fn view(&self, sample: &ProcSample, rates: Option<Rates>) -> OsView {
        let memory = self.units.mem_total.map(|total| {
            round2(sample.rss_pages as f64 * self.units.page_size as f64 / total as f64 * 100.0)
        });
        OsView {
            cpu: rates.map(|r| round2(r.cpu)),
            memory,
            read_s: rates.and_then(|r| r.read).map(bytes2human),
            write_s: rates.and_then(|r| r.write).map(bytes2human),
            iow: Some(if sample.in_io_wait() { "Y" } else { "N" }),
        }
    }
}

fn interval_rates(before: &ProcSample, after: &ProcSample, seconds: f64, tps: f64) -> Rates {
    let per_second = |b: u64, a: u64| a.saturating_sub(b) as f64 / seconds;
    let io = before.io.zip(after.io);
    Rates {
        cpu: per_second(before.cpu_ticks, after.cpu_ticks) / tps * 100.0,
        read: io.map(|(b, a)| per_second(b.read, a.read)),
        write: io.map(|(b, a)| per_second(b.write, a.write)),
    }
}

/// Averages since the process started; None when its age is unknown.
fn lifetime_rates(sample: &ProcSample, uptime: Option<f64>, tps: f64) -> Option<Rates> {
    let age = uptime? - sample.start_ticks as f64 / tps;
    // Younger than a tick: nothing meaningful to divide by.
    if age < 1.0 / tps {
        return None;
    }
    Some(Rates {
        cpu: sample.cpu_ticks as f64 / tps / age * 100.0,
        read: sample.io.map(|io| io.read as f64 / age),
        write: sample.io.map(|io| io.write as f64 / age),
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::super::proc_reader::IoBytes;
    use super::*;

    const UNITS: HostUnits = HostUnits {
        ticks_per_second: 100,
        page_size: 4096,
        // 4096 * 1000 bytes: 10 pages are 1 %.
        mem_total: Some(4_096_000),
    };

    fn sample(start: u64, cpu: u64, read: u64, write: u64) -> ProcSample {
        ProcSample {
            start_ticks: start,
            cpu_ticks: cpu,
            rss_pages: 10,
            state: 'S',
            io: Some(IoBytes { read, write }),
        }
    }

    #[test]
    fn first_reading_gives_since_start_averages_and_wants_a_second() {
        let mut r = Readings::new(UNITS);
        let t0 = Instant::now();
        // Started at 100 s after boot, now 200 s: 100 s old, 50 s of CPU.
        let (view, wants) = r.observe(7, Some(sample(10_000, 5_000, 102_400, 0)), t0, Some(200.0));
        assert!(wants);
        assert_eq!(view.cpu, Some(50.0));
        assert_eq!(view.memory, Some(1.0));
        assert_eq!(view.read_s.as_deref(), Some("1.00K"));
        assert_eq!(view.write_s.as_deref(), Some("0.00B"));
        assert_eq!(view.iow, Some("N"));
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn rates_between_two_readings() {
        let mut r = Readings::new(UNITS);
        let t0 = Instant::now();
        r.observe(7, Some(sample(10_000, 5_000, 0, 0)), t0, Some(200.0));
        // Two seconds later: 0.5 s of CPU, 2.5 MiB read, 2 KiB written.
        let later = sample(10_000, 5_050, 5 * 1024 * 1024, 4096);
        let (view, wants) = r.observe(7, Some(later), t0 + Duration::from_secs(2), Some(202.0));
        assert!(!wants);
        assert_eq!(view.cpu, Some(25.0));
        assert_eq!(view.read_s.as_deref(), Some("2.50M"));
        assert_eq!(view.write_s.as_deref(), Some("2.00K"));
    }

    #[test]
    fn too_close_readings_repeat_the_last_rates_and_keep_the_base() {
        let mut r = Readings::new(UNITS);
        let t0 = Instant::now();
        r.observe(7, Some(sample(10_000, 0, 0, 0)), t0, Some(200.0));
        let t1 = t0 + Duration::from_secs(1);
        let (first, _) = r.observe(7, Some(sample(10_000, 10, 0, 0)), t1, Some(201.0));
        assert_eq!(first.cpu, Some(10.0));
        let soon = t1 + Duration::from_millis(10);
        let (again, wants) = r.observe(7, Some(sample(10_000, 11, 0, 0)), soon, Some(201.01));
        assert!(!wants);
        assert_eq!(again.cpu, Some(10.0));
        // The next rate is counted from t1, not from `soon`.
        let t2 = t1 + Duration::from_secs(1);
        let (next, _) = r.observe(7, Some(sample(10_000, 30, 0, 0)), t2, Some(202.0));
        assert_eq!(next.cpu, Some(20.0));
    }

    #[test]
    fn stale_or_reused_pid_starts_over() {
        let mut r = Readings::new(UNITS);
        let t0 = Instant::now();
        r.observe(7, Some(sample(10_000, 0, 0, 0)), t0, Some(200.0));
        let stale = t0 + MAX_INTERVAL + Duration::from_millis(1);
        let (_, wants) = r.observe(7, Some(sample(10_000, 100, 0, 0)), stale, Some(211.0));
        assert!(wants, "a reading older than MAX_INTERVAL is no base");
        // Another process under the same pid (started later).
        let t1 = stale + Duration::from_secs(1);
        let (view, wants) = r.observe(7, Some(sample(20_000, 0, 0, 0)), t1, Some(212.0));
        assert!(wants);
        assert_eq!(view.cpu, Some(0.0));
    }

    #[test]
    fn gone_process_has_null_fields_and_is_forgotten() {
        let mut r = Readings::new(UNITS);
        let t0 = Instant::now();
        r.observe(7, Some(sample(10_000, 0, 0, 0)), t0, Some(200.0));
        let (view, wants) = r.observe(7, None, t0 + Duration::from_secs(1), None);
        assert_eq!(view, OsView::unknown());
        assert!(!wants);
        assert!(r.is_empty());
    }

    #[test]
    fn forgets_stale_readings() {
        let mut r = Readings::new(UNITS);
        let t0 = Instant::now();
        r.observe(7, Some(sample(10_000, 0, 0, 0)), t0, Some(200.0));
        r.observe(
            8,
            Some(sample(10_000, 0, 0, 0)),
            t0 + Duration::from_secs(5),
            Some(205.0),
        );
        r.forget_stale(t0 + Duration::from_secs(12));
        assert_eq!(r.len(), 1);
        assert!(r.by_pid.contains_key(&8));
    }

    #[test]
    fn unreadable_io_and_unknown_age() {
        let mut r = Readings::new(HostUnits {
            mem_total: None,
            ..UNITS
        });
        let mut s = sample(10_000, 0, 0, 0);
        s.io = None;
        s.state = 'D';
        let (view, _) = r.observe(7, Some(s), Instant::now(), None);
        assert_eq!(view.cpu, None);
        assert_eq!(view.memory, None);
        assert_eq!(view.read_s, None);
        assert_eq!(view.iow, Some("Y"));
    }
}
