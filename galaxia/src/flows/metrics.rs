//! Hubble's metrics, as Cilium's `hubble-metrics` exposes them for this demo's traffic (the
//! `flow`, `drop` and `http` handlers), counted for every flow the ring records.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

use super::flow::{Direction, Event, Flow, ObservationPoint, Verdict};

#[derive(Clone)]
pub struct HubbleMetrics {
    registry: Registry,
    flows: IntCounterVec,
    drops: IntCounterVec,
    http_requests: IntCounterVec,
    http_responses: IntCounterVec,
    http_duration: HistogramVec,
    lost: IntCounterVec,
}

impl std::fmt::Debug for HubbleMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubbleMetrics").finish_non_exhaustive()
    }
}

impl HubbleMetrics {
    pub fn new() -> Result<HubbleMetrics, prometheus::Error> {
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels)
        };
        let m = HubbleMetrics {
            registry: Registry::new(),
            flows: counter(
                "hubble_flows_processed_total",
                "Total number of flows processed",
                &["protocol", "type", "subtype", "verdict"],
            )?,
            drops: counter(
                "hubble_drop_total",
                "Number of drops",
                &["reason", "protocol"],
            )?,
            http_requests: counter(
                "hubble_http_requests_total",
                "Count of HTTP requests",
                &["method", "protocol", "reporter"],
            )?,
            http_responses: counter(
                "hubble_http_responses_total",
                "Count of HTTP responses",
                &["method", "status", "reporter"],
            )?,
            http_duration: HistogramVec::new(
                HistogramOpts::new(
                    "hubble_http_request_duration_seconds",
                    "Quantiles of HTTP request duration in seconds",
                ),
                &["method", "reporter"],
            )?,
            lost: counter(
                "hubble_lost_events_total",
                "Number of lost events",
                &["source"],
            )?,
        };
        for c in [
            &m.flows,
            &m.drops,
            &m.http_requests,
            &m.http_responses,
            &m.lost,
        ] {
            m.registry.register(Box::new(c.clone()))?;
        }
        m.registry.register(Box::new(m.http_duration.clone()))?;
        Ok(m)
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Count one flow.
    pub fn observe(&self, f: &Flow) {
        let verdict = match f.verdict {
            Verdict::Forwarded => "FORWARDED",
            Verdict::Dropped => "DROPPED",
            Verdict::Redirected => "REDIRECTED",
        };
        let (protocol, ty, subtype) = match &f.event {
            Event::Trace { point, .. } => (
                "TCP",
                "Trace",
                match point {
                    ObservationPoint::ToEndpoint => "to-endpoint",
                    ObservationPoint::ToProxy => "to-proxy",
                },
            ),
            Event::Drop { .. } => ("TCP", "Drop", ""),
            Event::PolicyVerdict { .. } => ("TCP", "PolicyVerdict", ""),
            Event::L7(_) => ("HTTP", "L7", "HTTP"),
        };
        self.flows
            .with_label_values(&[protocol, ty, subtype, verdict])
            .inc();
        if f.verdict == Verdict::Dropped {
            let reason = if f.http().is_some() {
                "DROP_REASON_UNKNOWN"
            } else {
                "POLICY_DENIED"
            };
            self.drops.with_label_values(&[reason, protocol]).inc();
        }
        if let Some(h) = f.http() {
            let reporter = match f.direction {
                Direction::Ingress => "server",
                Direction::Egress => "client",
            };
            if h.response {
                let status = h.code.to_string();
                self.http_responses
                    .with_label_values(&[&*h.method, &status, reporter])
                    .inc();
                self.http_duration
                    .with_label_values(&[&*h.method, reporter])
                    .observe(h.latency_ns as f64 / 1e9);
            } else {
                self.http_requests
                    .with_label_values(&[&*h.method, h.protocol, reporter])
                    .inc();
            }
        }
    }

    /// Count flows a reader lost because the ring overtook it.
    pub fn lost(&self, n: u64) {
        self.lost
            .with_label_values(&["hubble_ring_buffer"])
            .inc_by(n);
    }
}
