//! The counters of one pg_stat_statements entry that a snapshot keeps for a later
//! `since` (numbers only, never the query text), and their difference between two
//! snapshots. Pure data and arithmetic.

/// One entry of pg_stat_statements: (user, database, query). `queryid` is NULL for
/// the entries of other users when the agent's role may not see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub userid: u32,
    pub dbid: u32,
    pub queryid: Option<i64>,
}

/// Block counters, in the spec's order.
pub const BLOCK_COUNTERS: [&str; 10] = [
    "shared_blks_hit",
    "shared_blks_read",
    "shared_blks_dirtied",
    "shared_blks_written",
    "local_blks_hit",
    "local_blks_read",
    "local_blks_dirtied",
    "local_blks_written",
    "temp_blks_read",
    "temp_blks_written",
];

/// I/O times (ms): the spec's two, then the server's split ones (1.11+).
pub const IO_TIMES: [&str; 6] = [
    "blk_read_time",
    "blk_write_time",
    "shared_blk_read_time",
    "shared_blk_write_time",
    "local_blk_read_time",
    "local_blk_write_time",
];

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counters {
    pub calls: i64,
    pub rows: i64,
    pub blocks: [i64; 10],
    /// Milliseconds.
    pub total_time: f64,
    /// Sum of the squares of the execution times, from which the standard deviation
    /// of the executions between two snapshots is computed.
    pub sum_squares: f64,
    pub io_times: [f64; 6],
}

impl Counters {
    /// `sum_squares` from what pg_stat_statements gives: its standard deviation is the
    /// population one, so sum(x^2) = n * (stddev^2 + mean^2).
    pub fn sum_squares_of(calls: i64, mean: f64, stddev: f64) -> f64 {
        calls as f64 * (stddev * stddev + mean * mean)
    }

    /// What ran between `earlier` and `self`. An entry with fewer calls than before
    /// was evicted and created again, or reset: all its counters are new.
    pub fn since(&self, earlier: &Counters) -> Counters {
        if self.calls < earlier.calls {
            return *self;
        }
        let mut blocks = self.blocks;
        for (b, e) in blocks.iter_mut().zip(earlier.blocks) {
            *b -= e;
        }
        let mut io_times = self.io_times;
        for (t, e) in io_times.iter_mut().zip(earlier.io_times) {
            *t -= e;
        }
        Counters {
            calls: self.calls - earlier.calls,
            rows: self.rows - earlier.rows,
            blocks,
            total_time: self.total_time - earlier.total_time,
            sum_squares: self.sum_squares - earlier.sum_squares,
            io_times,
        }
    }

    /// Mean execution time (ms); 0 without calls, as pg_stat_statements answers.
    pub fn mean_time(&self) -> f64 {
        if self.calls > 0 {
            self.total_time / self.calls as f64
        } else {
            0.0
        }
    }

    /// Population standard deviation of the execution times (ms).
    pub fn stddev_time(&self) -> f64 {
        if self.calls > 0 {
            let mean = self.mean_time();
            (self.sum_squares / self.calls as f64 - mean * mean)
                .max(0.0)
                .sqrt()
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(times: &[f64]) -> Counters {
        Counters {
            calls: times.len() as i64,
            rows: times.len() as i64 * 2,
            blocks: [times.len() as i64; 10],
            total_time: times.iter().sum(),
            sum_squares: times.iter().map(|t| t * t).sum(),
            io_times: [1.5; 6],
        }
    }

    #[test]
    fn difference_is_what_ran_in_between() {
        let earlier = counters(&[1.0, 3.0]);
        let later = counters(&[1.0, 3.0, 4.0, 6.0]);
        let d = later.since(&earlier);
        assert_eq!(d.calls, 2);
        assert_eq!(d.rows, 4);
        assert_eq!(d.blocks, [2; 10]);
        assert_eq!(d.io_times, [0.0; 6]);
        assert_eq!(d.mean_time(), 5.0);
        assert!((d.stddev_time() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn fewer_calls_means_a_new_entry() {
        let earlier = counters(&[1.0, 3.0, 4.0]);
        let later = counters(&[2.0]);
        assert_eq!(later.since(&earlier), later);
    }

    #[test]
    fn sum_squares_matches_population_stddev() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population stddev 2.
        let s = Counters::sum_squares_of(8, 5.0, 2.0);
        assert!((s - 232.0).abs() < 1e-9);
        let c = Counters {
            calls: 8,
            total_time: 40.0,
            sum_squares: s,
            ..Default::default()
        };
        assert!((c.stddev_time() - 2.0).abs() < 1e-9);
        assert_eq!(Counters::default().stddev_time(), 0.0);
        assert_eq!(Counters::default().mean_time(), 0.0);
    }
}
