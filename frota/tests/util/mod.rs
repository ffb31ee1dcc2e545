//! What only frota's patrol tests share: a patrol config of every request kind, and the Prometheus
//! text of a registry. The harness every ship's tests use (the Death Star, canned and faulty
//! servers, the canned answers) is the `testkit` crate.
#![allow(dead_code, clippy::unwrap_used)]

/// The Prometheus text of `registry`.
pub fn metrics_text(registry: &frota::metrics::Registry) -> String {
    String::from_utf8(frota::metrics::render(registry).unwrap()).unwrap()
}

/// A caca-tie patrol of `target` with a mix of every request kind and a summary every 100 ms.
pub fn patrol_config(
    target: String,
    rate: f64,
    timeout: std::time::Duration,
) -> frota::patrol::PatrolConfig {
    let mut c = frota::ClientConfig::new(frota::Identity::caca_tie().named("caca-tie-patrol"));
    c.target = target;
    c.timeout = timeout;
    let mut p = frota::patrol::PatrolConfig::new(c);
    p.rate = rate;
    p.mix = "land=3,info=1,exhaust=1".parse().unwrap();
    p.report_every = Some(std::time::Duration::from_millis(100));
    p
}
