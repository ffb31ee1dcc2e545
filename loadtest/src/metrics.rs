//! Live Prometheus counters for one run, on a per-run [`prometheus::Registry`] (never the global
//! one, so that several runs can share a process). `--prometheus-port` serves them with the ships'
//! admin server (`frota::admin`).

use std::collections::HashMap;

use frota::{Outcome, RequestKind};
use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

use crate::client::ErrorKind;
use crate::sample::Sample;

#[derive(Debug, thiserror::Error)]
#[error("cannot register metric: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

/// The counters of one run; cheap to clone.
#[derive(Clone)]
pub struct LiveMetrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    late: IntCounter,
    warmup: IntCounter,
    /// Label lookups hash strings; the collector caches the handful of children it meets.
    cache: HashMap<(RequestKind, Outcome), IntCounter>,
}

impl LiveMetrics {
    pub fn new() -> Result<LiveMetrics, MetricsError> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "loadtest_requests_total",
                "Measured requests finished, by request kind and outcome",
            ),
            &["kind", "outcome"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "loadtest_errors_total",
                "Measured requests that got no HTTP answer, by error kind",
            ),
            &["kind"],
        )?;
        let late = IntCounter::new(
            "loadtest_late_requests_total",
            "Open model: requests started late because every connection was busy",
        )?;
        let warmup = IntCounter::new(
            "loadtest_warmup_requests_total",
            "Requests finished during the warm-up (not in the other counters)",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(late.clone()))?;
        registry.register(Box::new(warmup.clone()))?;
        // Make the counters visible at 0 before the first request ends.
        for e in ErrorKind::ALL {
            errors.with_label_values(&[e.name()]);
        }
        Ok(LiveMetrics {
            registry,
            requests,
            errors,
            late,
            warmup,
            cache: HashMap::new(),
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn observe(&mut self, s: &Sample) {
        if !s.recorded {
            self.warmup.inc();
            return;
        }
        let requests = &self.requests;
        self.cache
            .entry((s.kind, s.outcome))
            .or_insert_with(|| requests.with_label_values(&[s.kind.name(), &s.outcome.name()]))
            .inc();
        if let Some(e) = s.error {
            self.errors.with_label_values(&[e.name()]).inc();
        }
        if s.late {
            self.late.inc();
        }
    }
}
