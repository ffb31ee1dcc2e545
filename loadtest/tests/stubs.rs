//! `loadtest` as a process against small local servers on 127.0.0.1: Cilium's L7 denial, a
//! dropping policy (a listener that never answers), a proxy, and a server that stalls once
//! (the open model must show the stall in its percentiles).
#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the test failing

mod util;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use testkit::consts::{ENVOY_403, LANDED_200};
use util::{black_hole, loadtest_async, stalls_once, stub};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn l7_denial_is_counted_as_denied() {
    let url = stub(|_| ENVOY_403.to_vec()).await;
    let run = loadtest_async(args(&[&url, "-c", "2", "-n", "50", "--mix", "exhaust"])).await;
    run.expect_code(0);
    assert_eq!(run.outcome("denied"), 50, "{}", run.describe());
    assert_eq!(run.json()["requests"], 50);
    assert!(run.stdout().contains("denied"), "{}", run.describe());
}

#[tokio::test]
async fn a_403_that_is_not_envoys_is_http_403() {
    let url = stub(|_| b"HTTP/1.1 403 Forbidden\r\ncontent-length: 4\r\n\r\nnope".to_vec()).await;
    let run = loadtest_async(args(&[&url, "-c", "1", "-n", "5"])).await;
    run.expect_code(0);
    assert_eq!(run.outcome("http_403"), 5, "{}", run.describe());
}

#[tokio::test]
async fn never_answered_requests_are_dropped_at_the_timeout() {
    let url = black_hole().await;
    let run = loadtest_async(args(&[&url, "-c", "3", "-n", "6", "--timeout", "300ms"])).await;
    run.expect_code(0);
    assert_eq!(run.outcome("dropped"), 6, "{}", run.describe());
    assert_eq!(run.json()["errors"]["timeout"], 6, "{}", run.describe());
    // Each request waited its whole timeout, measured from its start.
    let min = run.json()["latency"]["min_ms"].as_f64().unwrap();
    assert!(min >= 299.0, "min {min}\n{}", run.describe());
}

#[tokio::test]
async fn a_timed_run_against_a_black_hole_still_ends() {
    let url = black_hole().await;
    let run = loadtest_async(args(&[
        &url,
        "-c",
        "2",
        "-d",
        "1s",
        "--timeout",
        "300ms",
        "--fail-if",
        "dropped>0",
    ]))
    .await;
    run.expect_code(3);
    let json = run.json();
    let total = json["requests"].as_u64().unwrap();
    assert!(total >= 2, "{}", run.describe());
    assert_eq!(run.outcome("dropped"), total, "{}", run.describe());
    // Requests still waiting at the deadline are abandoned, not waited for.
    assert!(
        run.wall < Duration::from_secs(20),
        "took {:?}\n{}",
        run.wall,
        run.describe()
    );
    assert!(
        run.stderr().contains("failing: dropped>0"),
        "{}",
        run.describe()
    );
}

#[tokio::test]
async fn refused_and_chunked_answers() {
    // Bind then drop: nothing listens on that port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let run = loadtest_async(args(&[&url, "-c", "1", "-n", "3"])).await;
    run.expect_code(0);
    assert_eq!(run.outcome("refused"), 3, "{}", run.describe());
    assert_eq!(run.json()["errors"]["connect"], 3);

    let chunked = stub(|_| {
        b"HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\n\r\n\
          10\r\nPanic: deathstar\r\n9\r\n exploded\r\n0\r\n\r\n"
            .to_vec()
    })
    .await;
    let run = loadtest_async(args(&[&chunked, "-c", "1", "-n", "4"])).await;
    run.expect_code(0);
    assert_eq!(run.outcome("exploded"), 4, "{}", run.describe());
}

#[tokio::test]
async fn proxy_gets_absolute_form_and_the_host_override() {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    let proxy = stub(move |h| {
        seen.lock().unwrap().push(h.clone());
        if h.starts_with("PUT ") {
            ENVOY_403.to_vec()
        } else {
            LANDED_200.to_vec()
        }
    })
    .await;
    let run = loadtest_async(args(&[
        "http://estrela-da-morte.default.svc.cluster.local",
        "--proxy",
        &proxy,
        "--host",
        "deathstar.empire",
        "-c",
        "2",
        "-n",
        "200",
        "--mix",
        "land=1,exhaust=1",
        "--no-keepalive",
    ]))
    .await;
    run.expect_code(0);
    assert_eq!(
        run.outcome("landed") + run.outcome("denied"),
        200,
        "{}",
        run.describe()
    );
    assert!(run.outcome("landed") > 0 && run.outcome("denied") > 0);
    let json = run.json();
    assert_eq!(json["by_kind"]["exhaust"]["denied"], run.outcome("denied"));
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 200);
    for h in heads.iter() {
        assert!(
            h.starts_with("POST http://estrela-da-morte.default.svc.cluster.local/v1/request-landing HTTP/1.1\r\n")
                || h.starts_with("PUT http://estrela-da-morte.default.svc.cluster.local/v1/exhaust-port HTTP/1.1\r\n"),
            "{h}"
        );
        assert!(h.contains("\r\nHost: deathstar.empire\r\n"), "{h}");
        assert!(h.contains("\r\nConnection: close"), "{h}");
    }
}

#[tokio::test]
async fn open_model_shows_a_stall_in_the_percentiles() {
    const STALL_MS: f64 = 500.0;
    const RATE: f64 = 400.0;
    let url = stalls_once(300, Duration::from_millis(500)).await;
    let run = loadtest_async(args(&[
        &url,
        "--rate",
        "400",
        "-c",
        "8",
        "-d",
        "3s",
        "--timeout",
        "5s",
    ]))
    .await;
    run.expect_code(0);
    let json = run.json();
    let lat = &json["latency"];
    let max = lat["max_ms"].as_f64().unwrap();
    let p999 = lat["p99_9_ms"].as_f64().unwrap();
    assert!(max >= STALL_MS, "max {max}\n{}", run.describe());
    assert!(p999 >= 0.9 * STALL_MS, "p99.9 {p999}\n{}", run.describe());
    // Every request due during the stall waited for its end: about STALL * RATE / 2 of them
    // waited at least half the stall. A tool that measures from the actual send would show
    // only the few that were on the wire (-c 8).
    let waited_half: u64 = json["histogram"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["le_us"].as_f64().unwrap() >= STALL_MS * 1000.0 / 2.0)
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    let expected = STALL_MS / 1000.0 / 2.0 * RATE;
    assert!(
        waited_half as f64 >= 0.5 * expected,
        "only {waited_half} requests waited >= {}ms, expected about {expected}\n{}",
        STALL_MS / 2.0,
        run.describe()
    );
    assert!(json["late"].as_u64().unwrap() > 8, "{}", run.describe());
    assert_eq!(json["model"], "open");
    assert_eq!(json["requested_rate"], RATE);
}

#[tokio::test]
async fn fail_if_and_usage_exit_codes() {
    let url = stub(|_| LANDED_200.to_vec()).await;
    let run = loadtest_async(args(&[
        &url,
        "-c",
        "2",
        "-n",
        "100",
        "--fail-if",
        "landed<1000",
        "--fail-if",
        "dropped>0,p99>1h",
    ]))
    .await;
    run.expect_code(3);
    assert!(
        run.stderr().contains("failing: landed<1000"),
        "{}",
        run.describe()
    );
    assert!(
        !run.stderr().contains("failing: dropped>0"),
        "{}",
        run.describe()
    );

    let run = loadtest_async(args(&[&url, "-n", "10", "--fail-if", "landed<10"])).await;
    run.expect_code(0);

    let run = loadtest_async(args(&[&url, "--fail-if", "p99>fast"])).await;
    run.expect_code(2);
    let run = loadtest_async(args(&["https://127.0.0.1:1"])).await;
    run.expect_code(2);
    let run = loadtest_async(args(&["http://127.0.0.1:1", "-c", "0"])).await;
    run.expect_code(2);
}

#[tokio::test]
async fn warmup_is_not_counted_and_prometheus_counts_live() {
    let url = stub(|_| LANDED_200.to_vec()).await;
    let run = loadtest_async(args(&[
        &url,
        "-c",
        "2",
        "-n",
        "300",
        "--warmup",
        "300ms",
        "--prometheus-port",
        "0",
    ]))
    .await;
    run.expect_code(0);
    assert_eq!(run.outcome("landed"), 300, "{}", run.describe());
    assert!(run.json()["warmup_requests"].as_u64().unwrap() > 0);
    assert!(
        run.stderr()
            .contains("prometheus metrics on http://127.0.0.1:")
    );
}

#[tokio::test]
async fn sigterm_ends_the_run_early_with_a_report() {
    let seen = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = seen.clone();
    let url = stub(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        LANDED_200.to_vec()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .args([&url, "-c", "2", "-d", "60s", "--json"])
        .arg(&json)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Requests flowing means the signal handlers are in place (they are set up first).
    while seen.load(std::sync::atomic::Ordering::SeqCst) < 10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut child = child;
    // The kill(1) binary (Debian: procps) sends the signal; the crate denies unsafe code, so
    // libc::kill is not an option.
    match std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
    {
        Ok(status) => assert!(status.success()),
        Err(e) => {
            testkit::skip::skip(
                "loadtest stubs: sigterm",
                &format!("cannot run kill(1) ({e}): apt-get install -y procps"),
            );
            let _ = child.kill();
            let _ = child.wait();
            return;
        }
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(util::schema_problems(&report), Vec::<String>::new());
    assert_eq!(report["interrupted"], true, "{report}");
    assert!(report["requests"].as_u64().unwrap() > 0, "{report}");
    assert!(report["elapsed_s"].as_f64().unwrap() < 60.0, "{report}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("interrupted"));
}
