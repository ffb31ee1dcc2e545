//! Live Prometheus counters for one run, on a per-run [`prometheus::Registry`] (never the global
//! one, so that several runs can share a process), and the small `/metrics` server.

use std::collections::HashMap;
use std::convert::Infallible;

use bytes::Bytes;
use frota::{Outcome, RequestKind};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus::{Encoder, IntCounter, IntCounterVec, Opts, Registry, TextEncoder};
use tokio::net::TcpListener;

use crate::client::ErrorKind;
use crate::collector::Sample;

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

    /// The text exposition of every metric of this run.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail on I/O; a failure would leave a partial page.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

/// Serve `GET /metrics` from `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, registry: Registry) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "metrics listener cannot accept");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let registry = registry.clone();
                async move {
                    let resp = if req.uri().path() == "/metrics" {
                        let mut out = Vec::new();
                        let _ = TextEncoder::new().encode(&registry.gather(), &mut out);
                        hyper::Response::builder()
                            .header("content-type", prometheus::TEXT_FORMAT)
                            .body(Full::new(Bytes::from(out)))
                    } else {
                        hyper::Response::builder()
                            .status(404)
                            .body(Full::new(Bytes::from_static(b"try /metrics\n")))
                    };
                    Ok::<_, Infallible>(resp.unwrap_or_default())
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
