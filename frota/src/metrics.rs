//! The ships' Prometheus metrics, on a registry the caller owns (several ships can live in one
//! process, as in galaxia). The identity is a set of constant labels on every series.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Re-exported: the registry type of [`ShipMetrics::register`] and [`render`].
pub use prometheus::Registry;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, TextEncoder};

use crate::client::Reply;
use crate::identity::Identity;
use crate::kind::RequestKind;
use crate::outcome::Outcome;

/// Latency buckets in seconds: loopback answers take well under a millisecond, a policy drop takes
/// the whole timeout.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The Prometheus text exposition of everything on `registry` (what `/metrics` serves).
pub fn render(registry: &Registry) -> Result<Vec<u8>, prometheus::Error> {
    let mut buf = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut buf)?;
    Ok(buf)
}

/// Counters by kind and outcome, and a latency histogram by kind and outcome.
#[derive(Clone, Debug)]
pub struct ShipMetrics {
    requests: IntCounterVec,
    latency: HistogramVec,
    /// The same counts by outcome, typed, for a program that runs ships in-process (galaxia)
    /// and must not read them back out of the Prometheus text.
    by_outcome: Arc<Mutex<BTreeMap<Outcome, u64>>>,
}

impl ShipMetrics {
    /// Create the series and register them on `registry`.
    pub fn register(registry: &Registry, identity: &Identity) -> Result<Self, prometheus::Error> {
        let labelled = |opts: Opts| {
            opts.const_label("ship", identity.name.clone())
                .const_label("org", identity.org.clone())
                .const_label("class", identity.class.clone())
        };
        let requests = IntCounterVec::new(
            labelled(Opts::new(
                "ship_requests_total",
                "Requests sent to the Death Star, by request kind and outcome.",
            )),
            &["kind", "outcome"],
        )?;
        let hopts = labelled(Opts::new(
            "ship_request_duration_seconds",
            "Time from sending a request to its outcome, by request kind and outcome.",
        ));
        let latency = HistogramVec::new(
            HistogramOpts::from(hopts).buckets(BUCKETS.to_vec()),
            &["kind", "outcome"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        // Zero series up front, so that a rate() over `denied` works before the first denial.
        for kind in RequestKind::ALL {
            for outcome in Outcome::NAMED {
                requests.with_label_values(&[kind.name(), &outcome.name()]);
            }
        }
        Ok(ShipMetrics {
            requests,
            latency,
            by_outcome: Arc::default(),
        })
    }

    /// The finished requests so far, by outcome (outcomes not seen yet are absent).
    pub fn counts(&self) -> BTreeMap<Outcome, u64> {
        self.by_outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Count one finished request.
    pub fn observe(&self, reply: &Reply) {
        let outcome = reply.outcome.name();
        let labels = [reply.kind.name(), outcome.as_ref()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(reply.latency.as_secs_f64());
        *self
            .by_outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(reply.outcome)
            .or_default() += 1;
    }
}
