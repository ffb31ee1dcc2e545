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
use crate::state::logs::json_line;
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
    let id = p.identity();
    let ship_fields = || -> Vec<(&str, serde_json::Value)> {
        vec![
            ("ship", id.name.to_string().into()),
            ("org", id.org.to_string().into()),
            ("class", id.class.to_string().into()),
        ]
    };
    let mut fields = ship_fields();
    fields.push(("proxy", format!("http://{}", p.egress).into()));
    p.log.write(json_line(
        "INFO",
        "frota::patrol",
        "patrol started",
        &fields,
    ));
    let mut config = PatrolConfig::new(client_config(p, &options));
    config.rate = 1.0 / options.patrol_interval.as_secs_f64().max(0.001);
    config.report_every = None;
    let metrics = p.ship.clone();
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    // The patrol logs each request through tracing, which the galaxy shares; its container log
    // gets one line per finished request from the ship's own counters.
    let mut seen = counts(p);
    let mut tick = tokio::time::interval(
        options
            .patrol_interval
            .max(std::time::Duration::from_millis(100)),
    );
    let patrol = frota::patrol::run(config, metrics, stop);
    tokio::pin!(patrol);
    let ended = loop {
        tokio::select! {
            r = &mut patrol => break r,
            _ = tick.tick() => {
                for (outcome, n) in counts(p) {
                    let before = seen.get(&outcome).copied().unwrap_or(0);
                    for _ in before..n {
                        let mut f = ship_fields();
                        f.push(("outcome", outcome.to_string().into()));
                        p.log.write(json_line("INFO", "frota::patrol", "request", &f));
                    }
                    seen.insert(outcome, n);
                }
            }
        }
    };
    match ended {
        Ok(totals) => {
            let mut f = ship_fields();
            f.push(("counts", totals.to_string().into()));
            p.log
                .write(json_line("INFO", "frota::patrol", "summary", &f));
            tracing::info!(pod = %p.name(), counts = %totals, "patrol ended")
        }
        Err(e) => tracing::error!(pod = %p.name(), error = %e, "patrol failed"),
    }
}

/// A ship's finished requests so far, by outcome (empty for a Death Star replica).
pub fn counts(pod: &Pod) -> BTreeMap<Outcome, u64> {
    pod.ship.as_ref().map(|s| s.counts()).unwrap_or_default()
}
