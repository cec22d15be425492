//! Single flight with a short memory, for one kind of listing: requests that come
//! while a listing is being read wait for it instead of reading their own, and a
//! listing whose reading began less than `max_age` before a request came is served
//! to it again. Pure bookkeeping (no I/O, no actor): the activity actor asks `plan`
//! what to do with a request and tells `finish` what a reading gave.
//!
//! The age rule is what the API promises: a request is never answered with a
//! listing whose reading began more than `max_age` before the request arrived. So a
//! request joins a reading in progress only if it began within `max_age`; else a
//! new reading starts (the older one still answers its own waiters). `max_age` zero
//! turns all of it off: every request reads anew.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to do with a request.
#[derive(Debug)]
pub enum Plan<T> {
    /// Answer with this listing, read recently enough.
    Serve(Arc<T>),
    /// Wait for the reading in progress with this id.
    Join(u64),
    /// Start a reading with this id, and wait for it.
    Start(u64),
    /// Read for this request alone (`max_age` is zero).
    ReadAlone,
}

pub struct Flights<T, W> {
    max_age: Duration,
    /// The newest listing and when its reading began.
    cached: Option<(Instant, Arc<T>)>,
    /// The newest reading in progress: its id and when it began.
    current: Option<(u64, Instant)>,
    waiters: HashMap<u64, Vec<W>>,
    next_id: u64,
}

impl<T, W> Flights<T, W> {
    pub fn new(max_age: Duration) -> Flights<T, W> {
        Flights {
            max_age,
            cached: None,
            current: None,
            waiters: HashMap::new(),
            next_id: 0,
        }
    }

    /// Decides for a request arriving at `now`; for `Join` and `Start`, the caller
    /// then adds its waiter with `wait`.
    pub fn plan(&mut self, now: Instant) -> Plan<T> {
        if self.max_age.is_zero() {
            return Plan::ReadAlone;
        }
        let fresh = |began: Instant| now.saturating_duration_since(began) <= self.max_age;
        if let Some((began, listing)) = &self.cached {
            if fresh(*began) {
                return Plan::Serve(listing.clone());
            }
        }
        if let Some((id, began)) = self.current {
            if fresh(began) {
                return Plan::Join(id);
            }
        }
        self.next_id += 1;
        let id = self.next_id;
        self.current = Some((id, now));
        Plan::Start(id)
    }

    /// Forgets the kept listing and stops new requests from joining the reading in
    /// progress: after a kill, no later request may see the backend still there.
    pub fn invalidate(&mut self) {
        self.cached = None;
        self.current = None;
    }

    pub fn wait(&mut self, id: u64, waiter: W) {
        self.waiters.entry(id).or_default().push(waiter);
    }

    /// The reading `id`, begun at `began`, is over: its listing (None when it
    /// failed) is kept if it is the newest; answers the waiters to reply to.
    pub fn finish(&mut self, id: u64, began: Instant, listing: Option<Arc<T>>) -> Vec<W> {
        if self.current.is_some_and(|(current, _)| current == id) {
            self.current = None;
        }
        if let Some(listing) = listing {
            if self.cached.as_ref().is_none_or(|(at, _)| *at <= began) {
                self.cached = Some((began, listing));
            }
        }
        self.waiters.remove(&id).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGE: Duration = Duration::from_millis(250);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn requests_during_a_reading_join_it_and_share_its_listing() {
        let t0 = Instant::now();
        let mut f: Flights<&str, u32> = Flights::new(AGE);
        let Plan::Start(id) = f.plan(t0) else {
            panic!("the first request reads")
        };
        f.wait(id, 1);
        for (n, later) in [(2, 5), (3, 100), (4, 250)] {
            match f.plan(t0 + ms(later)) {
                Plan::Join(joined) => f.wait(joined, n),
                other => panic!("request {n} should join: {other:?}"),
            }
        }
        assert_eq!(f.finish(id, t0, Some(Arc::new("rows"))), [1, 2, 3, 4]);
        // Served again while young enough, never after.
        assert!(matches!(f.plan(t0 + ms(250)), Plan::Serve(l) if *l == "rows"));
        assert!(matches!(f.plan(t0 + ms(251)), Plan::Start(_)));
    }

    #[test]
    fn a_reading_older_than_max_age_is_not_joined() {
        let t0 = Instant::now();
        let mut f: Flights<&str, u32> = Flights::new(AGE);
        let Plan::Start(slow) = f.plan(t0) else {
            panic!()
        };
        f.wait(slow, 1);
        let Plan::Start(second) = f.plan(t0 + ms(300)) else {
            panic!("a new reading for a request that came too late to join")
        };
        f.wait(second, 2);
        assert!(matches!(f.plan(t0 + ms(310)), Plan::Join(id) if id == second));
        f.wait(second, 3);
        // The slow one ends last: its waiter gets it, but it is not kept over the
        // newer listing.
        assert_eq!(
            f.finish(second, t0 + ms(300), Some(Arc::new("new"))),
            [2, 3]
        );
        assert_eq!(f.finish(slow, t0, Some(Arc::new("old"))), [1]);
        assert!(matches!(f.plan(t0 + ms(400)), Plan::Serve(l) if *l == "new"));
    }

    #[test]
    fn a_failed_reading_is_not_kept() {
        let t0 = Instant::now();
        let mut f: Flights<&str, u32> = Flights::new(AGE);
        let Plan::Start(id) = f.plan(t0) else {
            panic!()
        };
        f.wait(id, 1);
        assert_eq!(f.finish(id, t0, None), [1]);
        assert!(matches!(f.plan(t0 + ms(1)), Plan::Start(_)));
    }

    #[test]
    fn after_invalidate_a_new_reading_starts() {
        let t0 = Instant::now();
        let mut f: Flights<&str, u32> = Flights::new(AGE);
        let Plan::Start(first) = f.plan(t0) else {
            panic!()
        };
        f.wait(first, 1);
        f.invalidate();
        let Plan::Start(second) = f.plan(t0 + ms(1)) else {
            panic!("no joining a reading begun before the invalidation")
        };
        assert_eq!(f.finish(first, t0, Some(Arc::new("before"))), [1]);
        assert!(f
            .finish(second, t0 + ms(1), Some(Arc::new("after")))
            .is_empty());
        f.invalidate();
        assert!(matches!(f.plan(t0 + ms(2)), Plan::Start(_)));
    }

    #[test]
    fn max_age_zero_reads_for_every_request() {
        let t0 = Instant::now();
        let mut f: Flights<&str, u32> = Flights::new(Duration::ZERO);
        assert!(matches!(f.plan(t0), Plan::ReadAlone));
        assert!(matches!(f.plan(t0), Plan::ReadAlone));
    }
}
