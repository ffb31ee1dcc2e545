//! The one thing the worker loop asks before each request: may I send another, when was it
//! meant to start, and does it count? Both load models and both stop conditions live here.
//!
//! Open model: request `i` is due at `start + i / rate` whatever happened before it. A worker
//! that takes a slot late (every connection was busy) still measures from the due time, so a
//! stalling server shows in the percentiles instead of silently slowing the schedule down
//! (no coordinated omission).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::plan::{Model, Stop};

/// A request that starts later than this after its due time counts as late.
pub const LATE_AFTER: Duration = Duration::from_millis(2);

/// One request the worker may send.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// When the request should start; latency is measured from here.
    pub due: Instant,
    /// False during the warm-up.
    pub recorded: bool,
}

#[derive(Debug)]
pub struct Schedule {
    start: Instant,
    /// The measured part starts here.
    measure_from: Instant,
    /// Duration mode: nothing starts at or after this, and what is in flight is abandoned.
    deadline: Option<Instant>,
    model: Model,
    stop: Stop,
    /// Open model: slots handed out, warm-up included.
    issued: AtomicU64,
    /// Open model: how many of the first slots are warm-up.
    warm_slots: u64,
    /// Closed model: measured slots handed out.
    measured: AtomicU64,
    /// Set by [`Schedule::stop`]: no new request starts.
    stopped: AtomicBool,
}

impl Schedule {
    pub fn new(model: Model, stop: Stop, warmup: Duration, start: Instant) -> Schedule {
        let (warm_slots, measure_from) = match model {
            Model::Open { rate, .. } => {
                // Saturating float-to-int: absurd warm-ups simply never end.
                let n = (warmup.as_secs_f64() * rate).ceil() as u64;
                (n, start + Duration::from_secs_f64(n as f64 / rate))
            }
            Model::Closed { .. } => (0, start + warmup),
        };
        let deadline = match stop {
            Stop::After(d) => Some(measure_from + d),
            Stop::Requests(_) => None,
        };
        Schedule {
            start,
            measure_from,
            deadline,
            model,
            stop,
            issued: AtomicU64::new(0),
            warm_slots,
            measured: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    /// End the run early (Ctrl-C): requests in flight finish, no new one starts.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    pub fn measure_from(&self) -> Instant {
        self.measure_from
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The next slot, or `None` when the run is over for this worker.
    pub fn next(&self, now: Instant) -> Option<Slot> {
        if self.stopped() {
            return None;
        }
        match self.model {
            Model::Closed { .. } => {
                if now < self.measure_from {
                    return Some(Slot {
                        due: now,
                        recorded: false,
                    });
                }
                match self.stop {
                    Stop::Requests(n) => (self.measured.fetch_add(1, Ordering::Relaxed) < n)
                        .then_some(Slot {
                            due: now,
                            recorded: true,
                        }),
                    Stop::After(_) => self.before_deadline(now).then_some(Slot {
                        due: now,
                        recorded: true,
                    }),
                }
            }
            Model::Open { rate, .. } => {
                let i = self.issued.fetch_add(1, Ordering::Relaxed);
                if let Stop::Requests(n) = self.stop
                    && i >= self.warm_slots.saturating_add(n)
                {
                    return None;
                }
                let due = self.start + Duration::from_secs_f64(i as f64 / rate);
                self.before_deadline(due).then_some(Slot {
                    due,
                    recorded: i >= self.warm_slots,
                })
            }
        }
    }

    fn before_deadline(&self, t: Instant) -> bool {
        self.deadline.is_none_or(|d| t < d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_slots_follow_the_clock_not_the_callers() {
        let start = Instant::now();
        let s = Schedule::new(
            Model::Open {
                rate: 100.0,
                connections: 1,
            },
            Stop::Requests(3),
            Duration::from_millis(20),
            start,
        );
        let slots: Vec<_> = std::iter::from_fn(|| s.next(start)).collect();
        assert_eq!(slots.len(), 5, "2 warm-up slots and 3 measured");
        assert_eq!(slots[0].due, start);
        assert!(!slots[1].recorded && slots[2].recorded);
        assert_eq!(slots[4].due, start + Duration::from_millis(40));
        assert_eq!(s.measure_from(), start + Duration::from_millis(20));
    }

    #[test]
    fn closed_requests_hand_out_exactly_n() {
        let start = Instant::now();
        let s = Schedule::new(
            Model::Closed { connections: 4 },
            Stop::Requests(7),
            Duration::ZERO,
            start,
        );
        assert_eq!(std::iter::from_fn(|| s.next(start)).count(), 7);
        assert!(s.next(start).is_none());
    }

    #[test]
    fn duration_ends_at_the_deadline() {
        let start = Instant::now();
        let s = Schedule::new(
            Model::Open {
                rate: 10.0,
                connections: 1,
            },
            Stop::After(Duration::from_secs(1)),
            Duration::ZERO,
            start,
        );
        assert_eq!(std::iter::from_fn(|| s.next(start)).count(), 10);
        assert_eq!(s.deadline(), Some(start + Duration::from_secs(1)));
    }
}
