//! DashboardHistory: the last `history_length` dashboard samples, in memory, oldest
//! first (a ring buffer: the oldest leaves when a new one comes). Recent history only:
//! it does not survive a restart. It answers /dashboard from memory (the last sample)
//! and never queries PostgreSQL; only before the very first sample exists does it ask
//! MetricsSampler for one and wait for it.

use std::collections::VecDeque;
use std::sync::Arc;

use actix::prelude::*;

use super::metrics_sampler::{MetricsSampler, SampleNow};
use super::sample::{Sample, SharedSample};
use crate::error::Error;

/// A bounded queue of samples: the oldest leaves when a new one comes in full.
struct Ring {
    samples: VecDeque<Arc<Sample>>,
    capacity: usize,
}

impl Ring {
    fn new(capacity: usize) -> Ring {
        // Not preallocated: history_length may be large and fills slowly.
        Ring {
            samples: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    fn push(&mut self, sample: Arc<Sample>) {
        while self.samples.len() >= self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }
}

pub struct DashboardHistory {
    ring: Ring,
    sampler: Addr<MetricsSampler>,
}

impl DashboardHistory {
    pub fn new(capacity: usize, sampler: Addr<MetricsSampler>) -> DashboardHistory {
        DashboardHistory {
            ring: Ring::new(capacity),
            sampler,
        }
    }
}

impl Actor for DashboardHistory {
    type Context = Context<Self>;
}

/// Keep one new sample.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Record(pub Arc<Sample>);

impl Handler<Record> for DashboardHistory {
    type Result = ();

    fn handle(&mut self, Record(sample): Record, _: &mut Self::Context) {
        self.ring.push(sample);
    }
}

/// The last sample (/dashboard).
#[derive(Message)]
#[rtype(result = "Result<SharedSample, Error>")]
pub struct GetDashboard;

impl Handler<GetDashboard> for DashboardHistory {
    type Result = ResponseFuture<Result<SharedSample, Error>>;

    fn handle(&mut self, _: GetDashboard, _: &mut Self::Context) -> Self::Result {
        let last = self.ring.samples.back().cloned();
        let sampler = self.sampler.clone();
        Box::pin(async move {
            let sample = match last {
                Some(sample) => sample,
                None => sampler.send(SampleNow).await??,
            };
            Ok(SharedSample(sample))
        })
    }
}

/// Every kept sample, oldest first (/dashboard/history).
#[derive(Message)]
#[rtype(result = "Vec<SharedSample>")]
pub struct GetHistory;

impl Handler<GetHistory> for DashboardHistory {
    type Result = MessageResult<GetHistory>;

    fn handle(&mut self, _: GetHistory, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.ring
                .samples
                .iter()
                .cloned()
                .map(SharedSample)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::sample::{HostPart, PgFields};
    use crate::host::cpu::CpuUsage;
    use crate::host::memory::MemoryUsage;

    fn sample(n: usize) -> Arc<Sample> {
        Arc::new(Sample {
            host: HostPart {
                hostname: "h".to_string(),
                os_version: "Linux".to_string(),
                n_cpu: n,
                cpu: CpuUsage::default(),
                loadaverage: 0.0,
                memory: MemoryUsage::default(),
                cpu_models: Default::default(),
                linux_distribution: String::new(),
            },
            pg: PgFields::default(),
        })
    }

    #[test]
    fn keeps_the_last_samples_oldest_first() {
        let mut ring = Ring::new(3);
        let mut push = |n| {
            ring.push(sample(n));
            ring.samples
                .iter()
                .map(|s| s.host.n_cpu)
                .collect::<Vec<_>>()
        };
        assert_eq!(push(1), [1]);
        push(2);
        assert_eq!(push(3), [1, 2, 3]);
        assert_eq!(push(4), [2, 3, 4]);
        assert_eq!(push(5), [3, 4, 5]);
    }

    #[test]
    fn a_zero_capacity_keeps_one() {
        let mut ring = Ring::new(0);
        ring.push(sample(1));
        ring.push(sample(2));
        assert_eq!(ring.samples.len(), 1);
    }
}
