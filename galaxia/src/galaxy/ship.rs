//! A ship pod: frota's patrol, in-process, sending through the pod's own egress proxy so that its
//! requests carry the pod's identity. Its counters (by kind and outcome) live on a per-pod
//! Prometheus registry, so that several ships share one process.

use std::collections::BTreeMap;
use std::sync::Arc;

use frota::Outcome;
use frota::client::ClientConfig;
use frota::identity::Identity;
use frota::metrics::ShipMetrics;
use frota::patrol::PatrolConfig;
use tokio::sync::watch;

use super::{Options, Phase, Shared};

/// The identity of a ship pod: its name, and its `org` and `class` labels.
pub fn identity(shared: &Shared, pod: usize) -> Identity {
    let spec = &shared.pods[pod].spec;
    let label = |k: &str| spec.labels.get(k).cloned().unwrap_or_default();
    Identity::new(spec.name.clone(), label("org"), label("class"))
}

/// The client configuration of a request from pod `pod` (patrol, or `exec`'s built-in curl).
pub fn client_config(shared: &Shared, pod: usize, options: &Options) -> ClientConfig {
    let mut c = ClientConfig::new(identity(shared, pod));
    c.proxy = Some(format!("http://{}", shared.pods[pod].egress));
    c.timeout = options.patrol_timeout;
    c
}

/// Patrol until `shutdown` flips (or only mark the pod ready, with `--no-patrol`).
pub async fn run(
    shared: Arc<Shared>,
    pod: usize,
    options: Options,
    mut shutdown: watch::Receiver<bool>,
) {
    let p = &shared.pods[pod];
    p.update(|s| {
        s.phase = Phase::Running;
        s.ready = true;
    });
    if !options.patrol {
        let _ = shutdown.wait_for(|s| *s).await;
        return;
    }
    let mut config = PatrolConfig::new(client_config(&shared, pod, &options));
    config.rate = 1.0 / options.patrol_interval.as_secs_f64().max(0.001);
    config.report_every = None;
    let metrics = p.ship_metrics.as_ref().map(|(_, m)| m.clone());
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    match frota::patrol::run(config, metrics, stop).await {
        Ok(totals) => tracing::info!(pod = %p.spec.name, counts = %totals, "patrol ended"),
        Err(e) => tracing::error!(pod = %p.spec.name, error = %e, "patrol failed"),
    }
}

/// A ship's counters so far, by outcome (finished requests only).
pub fn counts(registry: &prometheus::Registry) -> BTreeMap<Outcome, u64> {
    let mut out = BTreeMap::new();
    for family in registry.gather() {
        if family.name() != "ship_requests_total" {
            continue;
        }
        for m in family.get_metric() {
            let outcome = m
                .get_label()
                .iter()
                .find(|l| l.name() == "outcome")
                .and_then(|l| Outcome::from_name(l.value()));
            if let Some(o) = outcome {
                let n = m.get_counter().get_value();
                if n > 0.0 {
                    *out.entry(o).or_insert(0) += n as u64;
                }
            }
        }
    }
    out
}

/// Register a ship's metrics on a fresh registry of its own.
pub fn metrics(spec: &super::PodSpec) -> Option<(prometheus::Registry, ShipMetrics)> {
    let label = |k: &str| spec.labels.get(k).cloned().unwrap_or_default();
    let id = Identity::new(spec.name.clone(), label("org"), label("class"));
    let registry = prometheus::Registry::new();
    ShipMetrics::register(&registry, &id)
        .ok()
        .map(|m| (registry, m))
}
