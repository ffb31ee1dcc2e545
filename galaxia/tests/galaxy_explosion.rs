//! An exploding replica: the exhaust port answers the panic text byte for byte, the replica leaves
//! the Service and comes back after its back-off with RESTARTS up, and landings keep going to the
//! other replica meanwhile, whether the proxies reach the replicas in-process or over TCP.

mod galaxy_util;

use galaxy_util::{Galaxy, PANIC, SVC, describe, eventually, system_curl};

#[test]
fn an_exploded_replica_restarts_while_the_other_keeps_landing() {
    let g = Galaxy::up(
        &["k8s/starwars.yml"],
        &[
            "--no-patrol",
            "--explode-after",
            "1s",
            "--restart-backoff",
            "1s",
        ],
    );
    explode_and_recover(&g);

    // The same through Debian's curl: the panic text byte for byte, and a second restart.
    if system_curl().is_none() {
        eprintln!(
            "skipped the Debian curl part: /usr/bin/curl is not installed (apt-get install -y curl)"
        );
        return;
    }
    let exhaust = format!("{SVC}/v1/exhaust-port");
    let out = g.curl(false, "caca-tie", &["-s", "-XPUT", &exhaust]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe(&["exhaust, Debian curl"], &out)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), PANIC);
    eventually("the second explosion is restarted too", || {
        restarts(&g) >= 2 && g.pods().iter().all(|p| p["ready"] == true)
    });
    let table = g.ok(&["get", "pods"]);
    assert!(
        table.contains(" ago)"),
        "RESTARTS shows the restarts: {table}"
    );
}

/// Hit the exhaust port, land until the exploded replica is back, and check RESTARTS.
fn explode_and_recover(g: &Galaxy) {
    assert_eq!(restarts(g), 0);
    let exhaust = format!("{SVC}/v1/exhaust-port");
    let out = g.curl(true, "caca-tie", &["-s", "-XPUT", &exhaust]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe(&["exhaust"], &out)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), PANIC);

    // Land until the exploded replica is back. The Service takes the replica out as soon as its
    // readiness fails (at the hit, a second before it dies), so landings keep going to the other
    // one; a request already on its way to the dying one when it exits may be cut, as in a
    // cluster, so up to two misses are tolerated on a loaded machine.
    let land = format!("{SVC}/v1/request-landing");
    let (mut landed, mut missed) = (0, Vec::new());
    eventually("the exploded replica restarts and is ready again", || {
        let out = g.curl(true, "caca-tie", &["-s", "-m", "10", "-XPOST", &land]);
        if out.stdout == b"Ship landed\n" {
            landed += 1;
        } else {
            missed.push(describe(&["land"], &out));
        }
        restarts(g) >= 1 && g.pods().iter().all(|p| p["ready"] == true)
    });
    assert!(
        missed.len() <= 2,
        "landings failed during the explosion: {missed:#?}"
    );
    assert!(landed > 0, "no landing while the replica was down");
    let out = g.curl(true, "caca-tie", &["-s", "-XPOST", &land]);
    assert_eq!(
        out.stdout,
        b"Ship landed\n",
        "{}",
        describe(&["land after"], &out)
    );
    let table = g.ok(&["get", "pods"]);
    assert!(
        table.contains("   1 ("),
        "RESTARTS shows the restart: {table}"
    );
    // describe counts the kubelet's events of the second start, as kubectl does.
    let pods = g.ok(&["describe", "pods", "estrela-da-morte"]);
    let twice = regex::Regex::new(
        r"(?m)^  Normal  Started +\d+s \(x2 over \d+s\) +kubelet +Started container estrela-da-morte$",
    )
    .expect("a valid pattern");
    assert!(twice.is_match(&pods), "the restart's events: {pods}");
}

fn restarts(g: &Galaxy) -> u64 {
    g.pods()
        .iter()
        .map(|p| p["restarts"].as_u64().unwrap_or(0))
        .sum()
}

/// The proxies' other way to the replicas, TCP to their loopback ports, behaves the same: the
/// pooled connections to the exploded replica are noticed as dead and left behind.
#[test]
fn over_tcp_upstreams_an_exploded_replica_restarts_too() {
    let g = Galaxy::up(
        &["k8s/starwars.yml"],
        &[
            "--no-patrol",
            "--upstream",
            "tcp",
            "--explode-after",
            "1s",
            "--restart-backoff",
            "1s",
        ],
    );
    explode_and_recover(&g);
}
