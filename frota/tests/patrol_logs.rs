//! The patrol in-process against a real Death Star: every request is accounted exactly once, in
//! the log lines, the summary lines, the returned totals and the metrics. Its own test binary:
//! it installs the process-wide log subscriber that captures the lines.
#![allow(clippy::unwrap_used)]

mod util;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frota::patrol;
use frota::{Identity, Outcome, ShipMetrics};
use prometheus::Registry;
use testkit::metrics::sum_metric;
use testkit::servers;
use tokio::sync::oneshot;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn every_request_is_accounted_once() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_writer(move || writer.clone())
        .finish();
    // One thread: the patrol, the Death Star and the subscriber all live on it.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Process-wide: a thread-local default can lose events to tracing's callsite cache.
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let (totals, text) = {
        rt.block_on(async {
            let mut ds = servers::death_star().await;
            let registry = Registry::new();
            let id = Identity::caca_tie().named("caca-tie-patrol");
            let metrics = ShipMetrics::register(&registry, &id).unwrap();
            let (stop, stopped) = oneshot::channel::<()>();
            let run = tokio::spawn(patrol::run(
                util::patrol_config(ds.url(), 100.0, Duration::from_secs(1)),
                Some(metrics),
                async {
                    let _ = stopped.await;
                },
            ));
            // Let a good number of requests finish (no timing claim: wait for the count).
            for _ in 0..400 {
                if sum_metric(&util::metrics_text(&registry), "ship_requests_total", "") >= 20 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            stop.send(()).unwrap();
            let totals = run.await.unwrap().unwrap();
            ds.stop().await;
            (totals, util::metrics_text(&registry))
        })
    };
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["ship"] == "caca-tie-patrol")
        .collect();
    let requests: Vec<&serde_json::Value> =
        lines.iter().filter(|v| v["message"] == "request").collect();
    let summaries: Vec<&serde_json::Value> =
        lines.iter().filter(|v| v["message"] == "summary").collect();

    assert!(totals.total() >= 20, "too few requests: {totals}");
    assert_eq!(requests.len() as u64, totals.total());
    for r in &requests {
        assert_eq!(r["org"], "imperio");
        assert_eq!(r["class"], "caca-tie");
    }
    for outcome in [Outcome::Landed, Outcome::Exploded] {
        let logged = requests
            .iter()
            .filter(|r| r["outcome"] == outcome.name().as_ref())
            .count() as u64;
        assert_eq!(logged, totals.get(outcome), "{outcome}");
        let counted = sum_metric(
            &text,
            "ship_requests_total",
            &format!("outcome=\"{outcome}\""),
        );
        assert_eq!(counted, totals.get(outcome), "{outcome} in /metrics");
    }
    assert_eq!(
        totals.total(),
        totals.get(Outcome::Landed) + totals.get(Outcome::Exploded),
        "{totals}"
    );
    assert_eq!(sum_metric(&text, "ship_requests_total", ""), totals.total());
    assert_eq!(
        sum_metric(&text, "ship_request_duration_seconds_count", ""),
        totals.total()
    );
    assert!(text.contains("org=\"imperio\""), "{text}");
    // Summaries are cumulative and the last one is the totals.
    let last = summaries.last().expect("a final summary");
    assert_eq!(last["last"], true);
    assert_eq!(last["total"].as_u64(), Some(totals.total()));
    assert_eq!(last["counts"], totals.to_string());
    let mut prev = 0;
    for s in &summaries {
        let t = s["total"].as_u64().unwrap();
        assert!(t >= prev);
        prev = t;
    }
}
