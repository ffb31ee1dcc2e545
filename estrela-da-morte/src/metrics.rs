//! Prometheus metrics of one station, in a registry of its own so that several stations (galaxia's
//! replicas) can live in one process. Label sets are bounded and their handles are resolved once,
//! so the hot path never hashes labels.

use std::sync::OnceLock;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Route templates used as the `route` label; unknown paths share one value, and requests the
/// HTTP parser refused (no method or path to speak of) another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteLabel {
    Info = 0,
    Landing = 1,
    ExhaustPort = 2,
    Unmatched = 3,
    Unparsed = 4,
}

const ROUTE_LABELS: [&str; 5] = [
    "/v1",
    "/v1/request-landing",
    "/v1/exhaust-port",
    "unmatched",
    "unparsed",
];

/// The methods of RFC 9110 keep their names; anything else is `OTHER`.
const METHOD_LABELS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "OTHER",
];

/// Every status the demo API can answer with, the HTTP parser's refusals included.
const STATUSES: [u16; 9] = [200, 400, 404, 405, 408, 413, 415, 431, 503];

/// The `port` label of the connection metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortLabel {
    Demo = 0,
    Admin = 1,
}

const PORT_LABELS: [&str; 2] = ["demo", "admin"];

impl PortLabel {
    /// The label value, as logs show it too.
    pub fn name(self) -> &'static str {
        PORT_LABELS[self as usize]
    }
}

const CELLS: usize = ROUTE_LABELS.len() * METHOD_LABELS.len() * STATUSES.len();

/// Handler latency buckets: the demo answers in microseconds, so the defaults (from 5 ms) would
/// put everything in the first bucket.
const DURATION_BUCKETS: [f64; 14] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.5, 1.0,
];

/// The metrics of one station.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
    /// Ships landed (200 on POST /v1/request-landing).
    pub landings: IntCounter,
    /// Panics answered on the exhaust port, whether or not explosions are switched on.
    pub explosions: IntCounter,
    request_cells: Vec<OnceLock<IntCounter>>,
    duration_cells: [OnceLock<Histogram>; ROUTE_LABELS.len()],
    connections_open: [IntGauge; 2],
    connections_limit: [IntGauge; 2],
    connections_rejected: [IntCounter; 2],
}

impl Metrics {
    /// Registers the station's metrics and the process collector in a new registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "deathstar_http_requests_total",
                "Demo API requests answered, by route template, method and status.",
            ),
            &["route", "method", "status"],
        )?;
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "deathstar_http_request_duration_seconds",
                "Time from a request's head to its answer, body read included, by route template.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["route"],
        )?;
        let landings = IntCounter::new("deathstar_landings_total", "Ships landed.")?;
        let explosions = IntCounter::new(
            "deathstar_explosions_total",
            "PUT /v1/exhaust-port answered with the panic (counted even with explosions off).",
        )?;
        let open = IntGaugeVec::new(
            Opts::new(
                "deathstar_connections_open",
                "Connections being served, by port (the demo port's include in-process ones).",
            ),
            &["port"],
        )?;
        let limit = IntGaugeVec::new(
            Opts::new(
                "deathstar_connections_limit",
                "Connections served at once before new ones are closed on accept, by port.",
            ),
            &["port"],
        )?;
        let rejected = IntCounterVec::new(
            Opts::new(
                "deathstar_connections_rejected_total",
                "Connections closed on accept because the port's connection limit was reached.",
            ),
            &["port"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(durations.clone()))?;
        registry.register(Box::new(landings.clone()))?;
        registry.register(Box::new(explosions.clone()))?;
        registry.register(Box::new(open.clone()))?;
        registry.register(Box::new(limit.clone()))?;
        registry.register(Box::new(rejected.clone()))?;
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        let by_port = |port: PortLabel| [port.name()];
        Ok(Metrics {
            registry,
            requests,
            durations,
            landings,
            explosions,
            request_cells: (0..CELLS).map(|_| OnceLock::new()).collect(),
            duration_cells: Default::default(),
            connections_open: [PortLabel::Demo, PortLabel::Admin]
                .map(|p| open.with_label_values(&by_port(p))),
            connections_limit: [PortLabel::Demo, PortLabel::Admin]
                .map(|p| limit.with_label_values(&by_port(p))),
            connections_rejected: [PortLabel::Demo, PortLabel::Admin]
                .map(|p| rejected.with_label_values(&by_port(p))),
        })
    }

    /// Counts a request that the HTTP parser refused with `status` before it had a method or a
    /// route. It has no head-to-answer duration, so the histogram does not see it.
    pub fn observe_unparsed(&self, status: u16) {
        self.count(RouteLabel::Unparsed, METHOD_LABELS.len() - 1, status);
    }

    /// Counts a connection closed on accept because `port` was full.
    pub fn connection_rejected(&self, port: PortLabel) {
        self.connections_rejected[port as usize].inc();
    }

    /// Records how many connections `port` serves now, out of `limit`; the gauges are set just
    /// before a scrape rather than on every connection.
    pub fn set_connections(&self, port: PortLabel, open: usize, limit: usize) {
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.connections_open[port as usize].set(gauge(open));
        self.connections_limit[port as usize].set(gauge(limit));
    }

    /// Counts one answered request and its duration.
    pub fn observe(&self, route: RouteLabel, method: &http::Method, status: u16, seconds: f64) {
        self.count(route, method_index(method), status);
        self.duration_cells[route as usize]
            .get_or_init(|| {
                self.durations
                    .with_label_values(&[ROUTE_LABELS[route as usize]])
            })
            .observe(seconds);
    }

    fn count(&self, route: RouteLabel, m: usize, status: u16) {
        if let Some(s) = STATUSES.iter().position(|&x| x == status) {
            let r = route as usize;
            let cell = &self.request_cells[(r * METHOD_LABELS.len() + m) * STATUSES.len() + s];
            cell.get_or_init(|| {
                self.requests.with_label_values(&[
                    ROUTE_LABELS[r],
                    METHOD_LABELS[m],
                    &status.to_string(),
                ])
            })
            .inc();
        }
    }

    /// The Prometheus text exposition of everything registered.
    pub fn render(&self) -> Result<Vec<u8>, prometheus::Error> {
        let mut out = Vec::with_capacity(4096);
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(out)
    }

    /// The registry, for callers that add metrics of their own.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

fn method_index(method: &http::Method) -> usize {
    use http::Method;
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::PATCH => 5,
        Method::OPTIONS => 6,
        Method::CONNECT => 7,
        Method::TRACE => 8,
        _ => 9,
    }
}
#[cfg(test)]
mod tests {
    #[test]
    fn a_new_registry_takes_every_metric() {
        super::Metrics::new().map(|_| ()).expect("metrics");
    }
}
