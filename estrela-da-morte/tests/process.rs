//! The binary as a child process: the explosion (exit status 2 after the delay, landings answered
//! meanwhile), explosions switched off, in-process embedding of an explosion, and graceful shutdown
//! on SIGTERM with a request in flight.
#![allow(clippy::unwrap_used)]

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use estrela_da_morte::{Config, Exit};
use util::{Daemon, IO_LIMIT, Station, get_blocking, status_of, test_config};

/// Slack for process start-up and scheduling on a loaded CI machine.
const MARGIN: Duration = Duration::from_secs(5);

#[test]
fn exhaust_port_explodes_with_status_2_after_the_delay() {
    let delay = Duration::from_millis(1500);
    let mut daemon = Daemon::start(&["--explode-after", "1500ms"], &[]);
    assert_eq!(
        status_of(&get_blocking(daemon.admin, "GET", "/readyz", "").unwrap()),
        200
    );

    let hit = Instant::now();
    let answer = get_blocking(daemon.demo, "PUT", "/v1/exhaust-port", "").unwrap();
    assert_eq!(status_of(&answer), 503);
    assert!(answer.contains("\r\n\r\nPanic: deathstar exploded\n"));
    // Readiness fails at once; landings are still answered while the station dies.
    assert_eq!(
        status_of(&get_blocking(daemon.admin, "GET", "/readyz", "").unwrap()),
        503
    );
    let landing = get_blocking(daemon.demo, "POST", "/v1/request-landing", "").unwrap();
    assert!(landing.ends_with("Ship landed\n"), "{landing}");

    let status = daemon
        .wait(delay + MARGIN)
        .expect("the Death Star did not explode");
    assert_eq!(status.code(), Some(2), "log:\n{}", daemon.log_text());
    assert!(hit.elapsed() >= delay, "exploded before the delay");
    assert!(daemon.log_text().contains("exhaust port hit"));
    assert!(daemon.log_text().contains("the Death Star exploded"));
}

#[test]
fn explosions_off_keeps_serving() {
    // The env var switch, as a manifest would set it.
    let mut daemon = Daemon::start(
        &["--explode-after", "200ms", "--access-log"],
        &[("NO_EXPLOSIONS", "true")],
    );
    for _ in 0..2 {
        let answer = get_blocking(daemon.demo, "PUT", "/v1/exhaust-port", "").unwrap();
        assert_eq!(status_of(&answer), 503);
    }
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "exited with explosions off"
    );
    let landing = get_blocking(daemon.demo, "POST", "/v1/request-landing", "").unwrap();
    assert!(landing.ends_with("Ship landed\n"));
    assert_eq!(
        status_of(&get_blocking(daemon.admin, "GET", "/readyz", "").unwrap()),
        200
    );
    // --access-log: one line a request, with the raw path and the status.
    let wanted = r#""path":"/v1/request-landing","status":200"#;
    let deadline = Instant::now() + IO_LIMIT;
    while !daemon.log_text().contains(wanted) {
        assert!(
            Instant::now() < deadline,
            "no access log line: {}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    if daemon.sigterm() {
        let status = daemon.wait(IO_LIMIT).expect("no exit after SIGTERM");
        assert_eq!(status.code(), Some(0));
    } else {
        testkit::skip::skip(
            "estrela-da-morte process: the SIGTERM part",
            "`sh -c kill` is not available (apt-get install procps)",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_returns_exploded_and_stops_serving() {
    let station = Station::start(Config {
        no_explosions: false,
        explode_after: Duration::from_millis(200),
        ..test_config()
    })
    .await;
    let demo = station.demo;
    hit_exhaust_and_wait_for_explosion(station).await;
    assert!(
        TcpStream::connect(demo).is_err(),
        "still accepting after the explosion"
    );
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let mut daemon = Daemon::start(&["--drain", "1s", "--log-level", "info"], &[]);
    // A slow upload: the head arrives, the body does not yet, so the request is in flight.
    let mut slow = TcpStream::connect(daemon.demo).unwrap();
    slow.set_read_timeout(Some(IO_LIMIT)).unwrap();
    slow.write_all(
        b"POST /v1/request-landing HTTP/1.1\r\nHost: d\r\nAccept: */*\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));

    if !daemon.sigterm() {
        testkit::skip::skip(
            "estrela-da-morte process",
            "`sh -c kill` is not available to send SIGTERM (apt-get install procps)",
        );
        return;
    }
    // Readiness fails at once (well within the drain).
    let deadline = Instant::now() + IO_LIMIT;
    loop {
        let readyz = get_blocking(daemon.admin, "GET", "/readyz", "").unwrap();
        if status_of(&readyz) == 503 {
            break;
        }
        assert!(Instant::now() < deadline, "readiness never failed");
        std::thread::sleep(Duration::from_millis(10));
    }
    // After the drain the listener is closed, while our request is still in flight.
    let deadline = Instant::now() + IO_LIMIT;
    while TcpStream::connect(daemon.demo).is_ok() {
        assert!(Instant::now() < deadline, "listener never closed");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );

    slow.write_all(b"{}").unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nShip landed\n"), "{answer}");

    let status = daemon.wait(IO_LIMIT).expect("no exit after the drain");
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log_text());
    let log = daemon.log_text();
    assert!(log.contains("shutdown requested"), "{log}");
    assert!(log.contains("shutdown complete"), "{log}");
}

#[test]
fn help_explains_drain() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_estrela-da-morte"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--drain"), "{help}");
    assert!(
        help.contains("kube-proxy and Cilium keep sending"),
        "{help}"
    );
    assert!(help.contains("[env: NO_EXPLOSIONS="), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explosion_during_the_drain_still_explodes() {
    let mut station = Station::start(Config {
        no_explosions: false,
        explode_after: Duration::from_millis(300),
        drain: Duration::from_secs(2),
        ..test_config()
    })
    .await;
    station.trigger_stop();
    hit_exhaust_and_wait_for_explosion(station).await;
}

/// PUT the exhaust port (503 with the panic), then wait for `run` to return `Exploded`.
async fn hit_exhaust_and_wait_for_explosion(station: util::Station) {
    let demo = station.demo;
    let answer =
        tokio::task::spawn_blocking(move || get_blocking(demo, "PUT", "/v1/exhaust-port", ""))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(status_of(&answer), 503);
    let exit = tokio::time::timeout(IO_LIMIT, station.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(exit, Exit::Exploded);
}
