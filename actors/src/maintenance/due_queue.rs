//! DueQueue: the ids of the pending (`todo`) maintenance tasks, ordered by due time,
//! then by the order they were asked for. The scheduler's tick walks it from the
//! head and stops at the first task not yet due, so that a tick costs the number of
//! due tasks, never the number of tasks scheduled for later (a thousand tasks next
//! year cost nothing each second). Pure data: the scheduler decides which task is
//! pending and which due task may start.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

/// Where a task sits: its due time, then its creation order (`created` counts whole
/// seconds, so ties are common).
type Key = (DateTime<Utc>, u64);

#[derive(Debug, Default)]
pub struct DueQueue {
    order: BTreeSet<(Key, String)>,
    keys: HashMap<String, Key>,
}

/// What one walk of the queue found.
#[derive(Debug, PartialEq, Eq)]
pub struct Picked {
    /// The tasks to start, soonest due first.
    pub ids: Vec<String>,
    /// Entries looked at: the due ones walked, plus the first one not due.
    pub examined: usize,
}

impl DueQueue {
    /// Puts a task in the queue at `due`, or moves it there.
    pub fn insert(&mut self, id: &str, due: DateTime<Utc>, creation: u64) {
        self.remove(id);
        let key = (due, creation);
        self.order.insert((key, id.to_string()));
        self.keys.insert(id.to_string(), key);
    }

    /// Takes a task out (it started, or was cancelled); false if it was not there.
    pub fn remove(&mut self, id: &str) -> bool {
        match self.keys.remove(id) {
            Some(key) => self.order.remove(&(key, id.to_string())),
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Up to `room` tasks due at `now`, soonest first, that `may_start` accepts;
    /// it is given each candidate and those already picked (a due task that must
    /// wait, e.g. for its table, does not hold back the ones behind it).
    pub fn pick(
        &self,
        now: DateTime<Utc>,
        room: usize,
        mut may_start: impl FnMut(&str, &[String]) -> bool,
    ) -> Picked {
        let mut picked = Picked {
            ids: Vec::new(),
            examined: 0,
        };
        if room == 0 {
            return picked;
        }
        for ((due, _), id) in &self.order {
            picked.examined += 1;
            if *due > now {
                break;
            }
            if may_start(id, &picked.ids) {
                picked.ids.push(id.clone());
                if picked.ids.len() >= room {
                    break;
                }
            }
        }
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn all(_: &str, _: &[String]) -> bool {
        true
    }

    #[test]
    fn due_tasks_come_out_in_due_order_then_creation_order() {
        let mut queue = DueQueue::default();
        queue.insert("late", at(30), 1);
        queue.insert("second", at(10), 3);
        queue.insert("first", at(10), 2);
        queue.insert("earliest", at(5), 4);
        queue.insert("future", at(100), 5);
        let picked = queue.pick(at(30), 10, all);
        assert_eq!(picked.ids, ["earliest", "first", "second", "late"]);
        assert_eq!(picked.examined, 5);
        // Room for two: the two soonest.
        assert_eq!(queue.pick(at(30), 2, all).ids, ["earliest", "first"]);
        assert!(queue.pick(at(30), 0, all).ids.is_empty());
        assert!(queue.pick(at(4), 10, all).ids.is_empty());
    }

    #[test]
    fn a_task_that_must_wait_does_not_hold_back_the_next() {
        let mut queue = DueQueue::default();
        queue.insert("blocked", at(1), 1);
        queue.insert("free", at(2), 2);
        let picked = queue.pick(at(5), 1, |id, _| id != "blocked");
        assert_eq!(picked.ids, ["free"]);
    }

    #[test]
    fn moving_and_removing_keep_one_entry_per_task() {
        let mut queue = DueQueue::default();
        queue.insert("a", at(1), 1);
        queue.insert("b", at(2), 2);
        // A recurring task back in the queue at its next occurrence.
        queue.insert("a", at(50), 1);
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.pick(at(10), 10, all).ids, ["b"]);
        assert!(queue.remove("b"));
        assert!(!queue.remove("b"));
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.pick(at(60), 10, all).ids, ["a"]);
        assert!(queue.remove("a") && queue.is_empty());
    }

    /// The cost of a tick, counted in entries looked at: the same with 10 or with
    /// 10,000 tasks due later.
    #[test]
    fn a_tick_does_not_look_at_tasks_due_later() {
        let examined_with = |far_future: usize| {
            let mut queue = DueQueue::default();
            for i in 0..far_future {
                let due = at(0) + TimeDelta::days(1 + (i % 365) as i64);
                queue.insert(&format!("f{i:07}"), due, i as u64);
            }
            for i in 0..3 {
                queue.insert(&format!("due{i}"), at(-i), 1_000_000 + i as u64);
            }
            let picked = queue.pick(at(0), 64, all);
            assert_eq!(picked.ids, ["due2", "due1", "due0"]);
            picked.examined
        };
        assert_eq!(examined_with(10), 4);
        assert_eq!(examined_with(10_000), 4);
        // Nothing due: only the head is looked at.
        let mut queue = DueQueue::default();
        for i in 0..10_000 {
            queue.insert(&format!("f{i}"), at(60 + i), i as u64);
        }
        assert_eq!(queue.pick(at(0), 64, all).examined, 1);
    }
}
