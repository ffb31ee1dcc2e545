//! The patrol in-process against a real Death Star: a Death Star that stops and comes back turns
//! outcomes to refused/reset and back to landed while the patrol keeps going, and the metrics
//! still equal the totals.
#![allow(clippy::unwrap_used)]

mod util;

use std::time::Duration;

use frota::patrol;
use frota::{Identity, Outcome, ShipMetrics};
use prometheus::Registry;
use testkit::metrics::sum_metric;
use testkit::servers;
use tokio::sync::oneshot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_death_star_restart() {
    let mut ds = servers::death_star().await;
    let addr = ds.addr;
    let registry = Registry::new();
    let metrics = ShipMetrics::register(&registry, &Identity::caca_tie()).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let mut config = util::patrol_config(ds.url(), 40.0, Duration::from_millis(500));
    config.mix = frota::Mix::default();
    let run = tokio::spawn(patrol::run(config, Some(metrics), async {
        let _ = stopped.await;
    }));
    let count = |o: &str| {
        sum_metric(
            &util::metrics_text(&registry),
            "ship_requests_total",
            &format!("outcome=\"{o}\""),
        )
    };
    wait_for(|| count("landed") >= 3).await;
    ds.stop().await;
    wait_for(|| count("refused") + count("reset") >= 3).await;
    let landed_while_down = count("landed");
    // Back on the same port, as a restarted pod behind its Service.
    let listener = loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => break l,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let mut ds = servers::death_star_on(listener).await;
    wait_for(|| count("landed") >= landed_while_down + 3).await;
    assert!(!run.is_finished(), "the patrol stopped on its own");
    stop.send(()).unwrap();
    let totals = run.await.unwrap().unwrap();
    assert_eq!(
        sum_metric(&util::metrics_text(&registry), "ship_requests_total", ""),
        totals.total()
    );
    assert!(
        totals.get(Outcome::Refused) + totals.get(Outcome::Reset) >= 3,
        "{totals}"
    );
    ds.stop().await;
}

async fn wait_for(mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached within 10 s");
}
