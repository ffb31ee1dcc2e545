//! The one collector: workers send a [`Sample`] per request on a channel (grouped in small
//! batches: one channel message, and so at most one wake-up of the collector, per
//! [`SAMPLE_BATCH`] requests instead of per request), and this folds them into a [`Tally`] (HDR
//! histogram plus counts by outcome, kind and error), feeds the live Prometheus counters, and asks
//! the printer for a progress line once a second.

use std::collections::BTreeMap;
use std::time::Duration;

use frota::{Outcome, RequestKind};
use hdrhistogram::Histogram;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::client::ErrorKind;
use crate::metrics::LiveMetrics;
use crate::sample::Sample;

/// Latencies are recorded in microseconds, from 1 us to an hour, to 3 significant digits:
/// a fixed-size histogram whatever the run's length.
pub const HIST_MAX_US: u64 = 3_600_000_000;
pub const HIST_DIGITS: u8 = 3;
/// How many batches the collector takes from the channel at once.
const BATCH: usize = 64;
/// Samples a worker groups into one channel message.
pub const SAMPLE_BATCH: usize = 64;
/// A worker also sends a partial batch when its oldest sample is this old, so that live
/// counters and the progress line lag by at most about this much at low rates.
pub const SAMPLE_MAX_AGE: Duration = Duration::from_millis(100);

/// Everything measured so far.
#[derive(Debug, Clone)]
pub struct Tally {
    pub latency_us: Histogram<u64>,
    pub outcomes: BTreeMap<Outcome, u64>,
    pub by_kind: BTreeMap<RequestKind, BTreeMap<Outcome, u64>>,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub late: u64,
    pub warmup_requests: u64,
    pub total: u64,
    pub last_done: Option<Instant>,
}

impl Tally {
    pub fn new() -> Tally {
        Tally {
            latency_us: Histogram::new_with_bounds(1, HIST_MAX_US, HIST_DIGITS)
                .expect("constant histogram bounds are valid"),
            outcomes: BTreeMap::new(),
            by_kind: BTreeMap::new(),
            errors: BTreeMap::new(),
            late: 0,
            warmup_requests: 0,
            total: 0,
            last_done: None,
        }
    }

    pub fn add(&mut self, s: &Sample) {
        if !s.recorded {
            self.warmup_requests += 1;
            return;
        }
        self.total += 1;
        let us = u64::try_from(s.latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_us.saturating_record(us.max(1));
        *self.outcomes.entry(s.outcome).or_default() += 1;
        *self
            .by_kind
            .entry(s.kind)
            .or_default()
            .entry(s.outcome)
            .or_default() += 1;
        if let Some(e) = s.error {
            *self.errors.entry(e).or_default() += 1;
        }
        if s.late {
            self.late += 1;
        }
        self.last_done = Some(self.last_done.map_or(s.done_at, |t| t.max(s.done_at)));
    }
}

impl Default for Tally {
    fn default() -> Self {
        Tally::new()
    }
}

/// Fold samples until every worker has dropped its sender. `progress` is called about once a
/// second with the tally so far.
pub async fn collect(
    mut rx: mpsc::Receiver<Vec<Sample>>,
    mut live: Option<LiveMetrics>,
    mut progress: impl FnMut(&Tally),
) -> Tally {
    let mut tally = Tally::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tick.tick().await;
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    break;
                }
                for s in batch.drain(..).flatten() {
                    tally.add(&s);
                    if let Some(live) = &mut live {
                        live.observe(&s);
                    }
                }
            }
            _ = tick.tick() => progress(&tally),
        }
    }
    tally
}
