//! DashboardHistory: the last `history_length` dashboard samples, in memory, oldest
//! first (a ring buffer: the oldest leaves when a new one comes). Recent history only:
//! it does not survive a restart. It answers /dashboard from memory (the last sample)
//! and never queries PostgreSQL; only before the very first sample exists does it ask
//! MetricsSampler for one and wait for it.
//!
//! Each sample is serialized once, when it is recorded, and the history's JSON once
//! per sample too (at the first request after it): requests get shared bytes, never a
//! serialization of their own.

use std::collections::VecDeque;
use std::sync::Arc;

use actix::prelude::*;
use bytes::Bytes;

use super::metrics_sampler::{MetricsSampler, SampleNow};
use super::sample::Sample;
use crate::error::Error;

/// A sample and its JSON.
struct Kept {
    sample: Arc<Sample>,
    json: Bytes,
}

/// A sample's JSON text; a sample always serializes.
pub fn sample_json(sample: &Sample) -> Bytes {
    Bytes::from(serde_json::to_vec(sample).unwrap_or_else(|_| b"{}".to_vec()))
}

/// A bounded queue of samples: the oldest leaves when a new one comes in full.
struct Ring {
    samples: VecDeque<Kept>,
    capacity: usize,
    /// The JSON list of every kept sample, made at the first request after a change.
    history_json: Option<Bytes>,
}

impl Ring {
    fn new(capacity: usize) -> Ring {
        // Not preallocated: history_length may be large and fills slowly.
        Ring {
            samples: VecDeque::new(),
            capacity: capacity.max(1),
            history_json: None,
        }
    }

    fn push(&mut self, sample: Arc<Sample>) {
        while self.samples.len() >= self.capacity {
            self.samples.pop_front();
        }
        let json = sample_json(&sample);
        self.samples.push_back(Kept { sample, json });
        self.history_json = None;
    }

    fn history_json(&mut self) -> Bytes {
        let samples = &self.samples;
        self.history_json
            .get_or_insert_with(|| {
                let size = samples.iter().map(|k| k.json.len() + 1).sum::<usize>() + 2;
                let mut out = Vec::with_capacity(size);
                out.push(b'[');
                for (i, kept) in samples.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(&kept.json);
                }
                out.push(b']');
                Bytes::from(out)
            })
            .clone()
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

/// The last sample's JSON (/dashboard).
#[derive(Message)]
#[rtype(result = "Result<Bytes, Error>")]
pub struct GetDashboard;

impl Handler<GetDashboard> for DashboardHistory {
    type Result = ResponseFuture<Result<Bytes, Error>>;

    fn handle(&mut self, _: GetDashboard, _: &mut Self::Context) -> Self::Result {
        if let Some(kept) = self.ring.samples.back() {
            let json = kept.json.clone();
            return Box::pin(async move { Ok(json) });
        }
        let sampler = self.sampler.clone();
        Box::pin(async move {
            let sample = sampler.send(SampleNow).await??;
            Ok(sample_json(&sample))
        })
    }
}

/// Every kept sample, oldest first, as a JSON list (/dashboard/history).
#[derive(Message)]
#[rtype(result = "Bytes")]
pub struct GetHistory;

impl Handler<GetHistory> for DashboardHistory {
    type Result = MessageResult<GetHistory>;

    fn handle(&mut self, _: GetHistory, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.ring.history_json())
    }
}

/// The last sample, if any (for /metrics).
#[derive(Message)]
#[rtype(result = "Option<Arc<Sample>>")]
pub struct GetLastSample;

impl Handler<GetLastSample> for DashboardHistory {
    type Result = Option<Arc<Sample>>;

    fn handle(&mut self, _: GetLastSample, _: &mut Self::Context) -> Self::Result {
        self.ring.samples.back().map(|k| k.sample.clone())
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
                .map(|k| k.sample.host.n_cpu)
                .collect::<Vec<_>>()
        };
        assert_eq!(push(1), [1]);
        push(2);
        assert_eq!(push(3), [1, 2, 3]);
        assert_eq!(push(4), [2, 3, 4]);
        assert_eq!(push(5), [3, 4, 5]);
    }

    #[test]
    fn the_history_json_is_the_list_of_the_samples_json() {
        let mut ring = Ring::new(3);
        assert_eq!(&ring.history_json()[..], b"[]");
        for n in 1..=4 {
            ring.push(sample(n));
        }
        let list: serde_json::Value = serde_json::from_slice(&ring.history_json()).unwrap();
        let n_cpus: Vec<u64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["n_cpu"].as_u64().unwrap())
            .collect();
        assert_eq!(n_cpus, [2, 3, 4]);
        assert_eq!(list[2], serde_json::to_value(&*sample(4)).unwrap());
        // Made again after a new sample.
        ring.push(sample(5));
        assert!(
            serde_json::from_slice::<serde_json::Value>(&ring.history_json()).unwrap()[2]["n_cpu"]
                == 5
        );
    }

    #[test]
    fn a_zero_capacity_keeps_one() {
        let mut ring = Ring::new(0);
        ring.push(sample(1));
        ring.push(sample(2));
        assert_eq!(ring.samples.len(), 1);
    }
}
