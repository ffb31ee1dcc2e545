//! A ship pod: frota's patrol, in-process, sending through the pod's own egress proxy so that its
//! requests carry the pod's identity. Its counters (by kind and outcome) live on a per-pod
//! Prometheus registry, so that several ships share one process.

use std::collections::BTreeMap;
use std::sync::Arc;

use frota::Outcome;
use frota::client::ClientConfig;
use frota::patrol::PatrolConfig;
use tokio::sync::watch;

use super::options::Options;
use crate::state::{Cluster, Phase, Pod, PodId};

/// The client configuration of a request from `pod` (patrol, or a test's own requests).
pub fn client_config(pod: &Pod, options: &Options) -> ClientConfig {
    let mut c = ClientConfig::new(pod.identity());
    c.proxy = Some(format!("http://{}", pod.egress));
    c.timeout = options.patrol_timeout;
    c
}

/// Patrol until `shutdown` flips (or only mark the pod ready, with `--no-patrol`).
pub async fn run(
    cluster: Arc<Cluster>,
    pod: PodId,
    options: Options,
    mut shutdown: watch::Receiver<bool>,
) {
    let p = cluster.pod(pod);
    p.update(|s| {
        s.phase = Phase::Running;
        s.ready = true;
    });
    if !options.patrol {
        let _ = shutdown.wait_for(|s| *s).await;
        return;
    }
    let mut config = PatrolConfig::new(client_config(p, &options));
    config.rate = 1.0 / options.patrol_interval.as_secs_f64().max(0.001);
    config.report_every = None;
    let metrics = p.ship.clone();
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    match frota::patrol::run(config, metrics, stop).await {
        Ok(totals) => tracing::info!(pod = %p.name(), counts = %totals, "patrol ended"),
        Err(e) => tracing::error!(pod = %p.name(), error = %e, "patrol failed"),
    }
}

/// A ship's finished requests so far, by outcome (empty for a Death Star replica).
pub fn counts(pod: &Pod) -> BTreeMap<Outcome, u64> {
    pod.ship.as_ref().map(|s| s.counts()).unwrap_or_default()
}
