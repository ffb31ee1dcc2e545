//! The flows of the galaxy, kept as Hubble keeps them: a ring of fixed capacity (one less than a
//! power of two, 4095 by default) that overwrites the oldest, with readers that follow it and
//! are told how many flows they lost when they fell behind. Memory stays bounded whatever the
//! traffic.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::flow::Flow;
use super::metrics::HubbleMetrics;

/// Hubble's default (`--hubble-event-buffer-capacity`).
pub const DEFAULT_CAPACITY: usize = 4095;
/// Hubble's largest (2^16 - 1).
pub const MAX_CAPACITY: usize = 65_535;

#[derive(Debug, thiserror::Error)]
pub enum RingError {
    #[error("invalid capacity: must be one less than an integer power of two: {0}")]
    NotPowerOfTwoMinusOne(usize),
    #[error("invalid capacity: too large: {0}")]
    TooLarge(usize),
    #[error("registering Hubble's metrics")]
    Metrics(#[from] prometheus::Error),
}

/// What a reader got: the flows from its position on, oldest first, and how many it missed.
#[derive(Debug, Default)]
pub struct Batch {
    /// Flows overwritten before the reader got to them.
    pub lost: u64,
    pub flows: Vec<Arc<Flow>>,
    /// Where to read next.
    pub next: u64,
}

#[derive(Debug)]
struct Slots {
    slots: Vec<Option<Arc<Flow>>>,
    /// How many flows were ever written; the next one's position.
    written: u64,
    /// How many were written by each node (Hubble Relay reports them per node).
    by_node: BTreeMap<Arc<str>, u64>,
}

#[derive(Debug)]
pub struct FlowRing {
    slots: Mutex<Slots>,
    capacity: usize,
    /// Wakes followers waiting for the next flow.
    wrote: tokio::sync::Notify,
    seen: AtomicU64,
    started: SystemTime,
    metrics: HubbleMetrics,
    /// Off (`galaxia up --no-hubble`): the datapath records nothing.
    enabled: bool,
}

impl FlowRing {
    pub fn new(capacity: usize) -> Result<FlowRing, RingError> {
        if capacity > MAX_CAPACITY {
            return Err(RingError::TooLarge(capacity));
        }
        if capacity == 0 || !(capacity + 1).is_power_of_two() {
            return Err(RingError::NotPowerOfTwoMinusOne(capacity));
        }
        Ok(FlowRing {
            slots: Mutex::new(Slots {
                slots: vec![None; capacity],
                written: 0,
                by_node: BTreeMap::new(),
            }),
            capacity,
            wrote: tokio::sync::Notify::new(),
            seen: AtomicU64::new(0),
            started: SystemTime::now(),
            metrics: HubbleMetrics::new()?,
            enabled: true,
        })
    }

    /// A ring that records nothing (Hubble off).
    pub fn disabled() -> Result<FlowRing, RingError> {
        Ok(FlowRing {
            enabled: false,
            ..FlowRing::new(1)?
        })
    }

    /// False when Hubble is off: the datapath then skips building flows at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Record a flow (its position is set here).
    pub fn push(&self, mut flow: Flow) {
        if !self.enabled {
            return;
        }
        self.metrics.observe(&flow);
        {
            let mut s = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            flow.seq = s.written;
            match s.by_node.get_mut(&flow.node) {
                Some(n) => *n += 1,
                None => {
                    s.by_node.insert(Arc::clone(&flow.node), 1);
                }
            }
            let i = usize::try_from(s.written % self.capacity as u64).unwrap_or(0);
            s.slots[i] = Some(Arc::new(flow));
            s.written += 1;
        }
        self.seen.fetch_add(1, Ordering::Relaxed);
        self.wrote.notify_waiters();
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Flows held now (at most the capacity).
    pub fn len(&self) -> usize {
        let written = self.written();
        usize::try_from(written.min(self.capacity as u64)).unwrap_or(self.capacity)
    }

    pub fn is_empty(&self) -> bool {
        self.written() == 0
    }

    /// Flows recorded since the galaxy started.
    pub fn seen(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }

    /// Flows recorded by each node since the galaxy started.
    pub fn seen_by_node(&self) -> BTreeMap<Arc<str>, u64> {
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_node
            .clone()
    }

    pub fn started(&self) -> SystemTime {
        self.started
    }

    pub fn metrics(&self) -> &HubbleMetrics {
        &self.metrics
    }

    /// The position of the next flow to be written.
    pub fn written(&self) -> u64 {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).written
    }

    /// The position of the oldest flow still held.
    pub fn oldest(&self) -> u64 {
        self.written().saturating_sub(self.capacity as u64)
    }

    /// Every flow held, oldest first.
    pub fn snapshot(&self) -> Vec<Arc<Flow>> {
        self.read(0, usize::MAX).flows
    }

    /// Up to `max` flows from position `from` on.
    pub fn read(&self, from: u64, max: usize) -> Batch {
        let s = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let oldest = s.written.saturating_sub(self.capacity as u64);
        let start = from.max(oldest);
        let end = s.written.min(start.saturating_add(max as u64));
        let flows = (start..end)
            .filter_map(|pos| {
                let i = usize::try_from(pos % self.capacity as u64).ok()?;
                s.slots[i].clone()
            })
            .collect();
        Batch {
            lost: start - from.min(start),
            flows,
            next: end,
        }
    }

    /// Wait until a flow is written at or after position `pos`.
    pub async fn wait_for(&self, pos: u64) {
        loop {
            // Registered before checking, so that a flow written in between still wakes us.
            let notified = self.wrote.notified();
            if self.written() > pos {
                return;
            }
            notified.await;
        }
    }
}
