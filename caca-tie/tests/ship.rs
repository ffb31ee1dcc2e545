//! The `caca-tie` binary as a container runs it: one-shot requests and their exit codes, the
//! patrol (logs, summaries and /metrics agree; SIGTERM stops it with a final summary), and the
//! curl front end both as `caca-tie curl` and under the name `curl`.
#![allow(clippy::unwrap_used)]

mod util;

use std::process::Stdio;
use std::time::Duration;

use testkit::metrics::sum_metric;
use testkit::{consts, servers};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_caca-tie");

/// The ship with a clean environment: no proxy or target settings leak in from the host.
fn ship(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_clear()
        .env("HOSTNAME", "caca-tie-test")
        .kill_on_drop(true);
    c
}

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

async fn run(args: &[&str]) -> Out {
    let o = ship(args).output().await.unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_requests_print_the_body_and_exit_by_outcome() {
    let mut ds = servers::death_star().await;
    let t = ds.url();
    let o = run(&["land", "--target", &t]).await;
    assert_eq!(
        (o.code, &o.stdout[..]),
        (0, &b"Ship landed\n"[..]),
        "{}",
        o.stderr
    );
    let o = run(&["--target", &t, "exhaust"]).await;
    assert_eq!(o.code, 5, "{}", o.stderr);
    assert!(o.stdout.starts_with(b"Panic: deathstar exploded\n"));
    let o = run(&["info", "-t", &t]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with(b"{\n\t\"name\": \"Death Star\","));
    ds.stop().await;

    let (envoy, _) = servers::canned(consts::ENVOY_403).await;
    let o = run(&["exhaust", "--target", &format!("http://{envoy}")]).await;
    assert_eq!((o.code, &o.stdout[..]), (3, &b"Access denied\r\n"[..]));
    assert!(o.stderr.contains("denied"), "{}", o.stderr);
    let silent = servers::silent().await;
    let o = run(&[
        "land",
        "--timeout",
        "300ms",
        "--target",
        &format!("http://{silent}"),
    ])
    .await;
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert!(o.stderr.contains("dropped"), "{}", o.stderr);
    let closed = servers::closed_port().await;
    let mut c = ship(&["land"]);
    c.env("DEATH_STAR_URL", format!("http://{closed}"));
    let o = c.output().await.unwrap();
    assert_eq!(o.status.code(), Some(6));
    let o = run(&["land", "--bogus"]).await;
    assert_eq!(o.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patrol_accounts_every_request_and_stops_on_sigterm() {
    let mut ds = servers::death_star().await;
    let mut child = ship(&[
        "patrol",
        "--target",
        &ds.url(),
        "--rate",
        "50",
        "--mix",
        "land=2,info=1,exhaust=1",
        "--report-every",
        "200ms",
        "--admin-host",
        "127.0.0.1",
        "--admin-port",
        "0",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen: Vec<serde_json::Value> = Vec::new();
    // Read until the admin address and a few requests are logged.
    let mut admin = None;
    while admin.is_none() || seen.iter().filter(|v| v["message"] == "request").count() < 10 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("patrol logs within 10 s")
            .unwrap()
            .expect("patrol still running");
        let v: serde_json::Value =
            serde_json::from_str(&line).expect("JSON log lines off a terminal");
        if v["message"] == "admin listening" {
            admin = v["addr"]
                .as_str()
                .map(|a| a.parse::<std::net::SocketAddr>().unwrap());
        }
        seen.push(v);
    }
    let admin = admin.unwrap();
    assert!(
        util::get_raw(admin, "/healthz")
            .await
            .starts_with("HTTP/1.0 200")
    );
    assert!(
        util::get_raw(admin, "/readyz")
            .await
            .starts_with("HTTP/1.0 200")
    );
    let metrics = util::get_raw(admin, "/metrics").await;
    let scraped = sum_metric(&metrics, "ship_requests_total", "");
    assert!(metrics.contains("ship=\"caca-tie-test\""), "{metrics}");

    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(serde_json::from_str(&line).unwrap());
    }
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(0));
    ds.stop().await;

    let requests: Vec<_> = seen.iter().filter(|v| v["message"] == "request").collect();
    let summaries: Vec<_> = seen.iter().filter(|v| v["message"] == "summary").collect();
    let last = summaries.last().expect("a final summary");
    assert_eq!(last["last"], true);
    assert_eq!(last["total"].as_u64(), Some(requests.len() as u64));
    // The counts string agrees with the request lines, outcome by outcome.
    for part in last["counts"].as_str().unwrap().split(' ') {
        let (name, n) = part.split_once('=').unwrap();
        let logged = requests.iter().filter(|r| r["outcome"] == name).count();
        assert_eq!(logged.to_string(), n, "{name}");
    }
    assert!(
        scraped >= 10 && scraped <= requests.len() as u64,
        "{scraped} of {}",
        requests.len()
    );
    for r in &requests {
        assert_eq!(
            (r["ship"].as_str(), r["org"].as_str(), r["class"].as_str()),
            (Some("caca-tie-test"), Some("imperio"), Some("caca-tie"))
        );
    }
    // Periodic summaries are cumulative: never down, never above the final one.
    let totals: Vec<u64> = summaries
        .iter()
        .map(|s| s["total"].as_u64().unwrap())
        .collect();
    assert!(totals.windows(2).all(|w| w[0] <= w[1]), "{totals:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_front_end_by_subcommand_and_by_name() {
    let mut ds = servers::death_star().await;
    let url = format!("{}/v1/request-landing", ds.addr);
    let o = run(&["curl", "-s", "-XPOST", &url]).await;
    assert_eq!(
        (o.code, &o.stdout[..]),
        (0, &b"Ship landed\n"[..]),
        "{}",
        o.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("curl");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    let o = Command::new(&link)
        .args(["-s", "-w", "%{http_code}", "-XPOST", &url])
        .env_clear()
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, b"Ship landed\n200");
    let o = Command::new(&link)
        .args(["-s", "-m", "1", &servers::silent().await.to_string()])
        .env_clear()
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(28));
    ds.stop().await;
}

/// Reads the patrol's JSON log lines until `until` holds for the lines so far.
async fn read_until(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    seen: &mut Vec<serde_json::Value>,
    until: impl Fn(&[serde_json::Value]) -> bool,
) {
    while !until(seen) {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("patrol logs within 10 s")
            .unwrap()
            .expect("the patrol process is still running");
        seen.push(serde_json::from_str(&line).unwrap());
    }
}

fn outcomes(seen: &[serde_json::Value], names: &[&str]) -> usize {
    seen.iter()
        .filter(|v| v["message"] == "request")
        .filter(|v| names.iter().any(|n| v["outcome"] == *n))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patrol_outlives_a_death_star_restart() {
    let mut ds = servers::death_star().await;
    let addr = ds.addr;
    let mut child = ship(&[
        "--target",
        &ds.url(),
        "--timeout",
        "500ms",
        "--rate",
        "40",
        "--no-admin",
    ])
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    read_until(&mut lines, &mut seen, |s| outcomes(s, &["landed"]) >= 3).await;
    ds.stop().await;
    read_until(&mut lines, &mut seen, |s| {
        outcomes(s, &["refused", "reset"]) >= 3
    })
    .await;
    let landed_before = outcomes(&seen, &["landed"]);
    let listener = loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => break l,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let mut ds = servers::death_star_on(listener).await;
    read_until(&mut lines, &mut seen, |s| {
        outcomes(s, &["landed"]) >= landed_before + 3
    })
    .await;
    assert!(child.try_wait().unwrap().is_none(), "the ship exited");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(serde_json::from_str(&line).unwrap());
    }
    assert_eq!(child.wait().await.unwrap().code(), Some(0));
    let last = seen
        .iter()
        .rev()
        .find(|v| v["message"] == "summary")
        .unwrap();
    assert_eq!(
        last["total"].as_u64(),
        Some(seen.iter().filter(|v| v["message"] == "request").count() as u64),
        "{last}"
    );
    ds.stop().await;
}

/// Starts a patrol with `args`, reads its log until `patrol started`, stops it with SIGTERM and
/// returns the `admin listening` and `patrol started` lines.
async fn patrol_start_lines(args: &[&str]) -> (serde_json::Value, serde_json::Value) {
    let mut child = ship(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    read_until(&mut lines, &mut seen, |s| {
        s.iter().any(|v| v["message"] == "patrol started")
    })
    .await;
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().await.unwrap().code(), Some(0));
    let find = |m: &str| seen.iter().find(|v| v["message"] == m).unwrap().clone();
    (find("admin listening"), find("patrol started"))
}

/// The flags of a ship are global: before the word `patrol`, after it, or without it, they
/// apply. (They used to be ignored before `patrol`: the admin port bound 0.0.0.0:9090 and the
/// rate stayed 1.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patrol_flags_apply_before_and_after_the_subcommand() {
    let mut ds = servers::death_star().await;
    let t = ds.url();
    let flags = [
        "--target",
        &t,
        "--admin-host",
        "127.0.0.1",
        "--admin-port",
        "0",
        "--rate",
        "7",
        "--mix",
        "info=2",
        "--timeout",
        "1500ms",
    ];
    let before: Vec<&str> = flags.iter().copied().chain(["patrol"]).collect();
    let after: Vec<&str> = ["patrol"].into_iter().chain(flags).collect();
    let split: Vec<&str> = flags[..6]
        .iter()
        .copied()
        .chain(["patrol"])
        .chain(flags[6..].iter().copied())
        .collect();
    for args in [&before[..], &after[..], &split[..], &flags[..]] {
        let (admin, started) = patrol_start_lines(args).await;
        let addr: std::net::SocketAddr = admin["addr"].as_str().unwrap().parse().unwrap();
        assert!(
            addr.ip().is_loopback() && addr.port() != 9090,
            "{args:?}: {admin}"
        );
        assert_eq!(started["rate"], 7.0, "{args:?}: {started}");
        assert_eq!(started["mix"], "info=2", "{args:?}: {started}");
        assert_eq!(started["timeout_ms"], 1500, "{args:?}: {started}");
        assert_eq!(
            started["target"],
            format!("{t}/v1/request-landing"),
            "{args:?}: {started}"
        );
    }
    ds.stop().await;
}

/// Flags that would be ignored are refused: patrol flags on a one-shot request, ship flags
/// before `curl` (clap would take curl's own first option for a ship flag there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_that_would_be_ignored_are_refused() {
    // A loopback target and no nameserver: where the fault is present the request goes out,
    // and it must not leave loopback.
    let target = format!("http://{}", servers::closed_port().await);
    let no_dns = |mut c: Command| {
        c.env("FROTA_RESOLV_CONF", "/nonexistent/resolv.conf")
            .env("FROTA_HOSTS", "/nonexistent/hosts");
        c
    };
    for args in [
        &["--rate", "2", "land", "--target", &target][..],
        &["land", "--admin-port", "1", "--target", &target][..],
        &["--target", &target, "exhaust", "--no-admin"][..],
    ] {
        let o = no_dns(ship(args)).output().await.unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("only applies to patrol"), "{stderr}");
    }
    let closed = &target["http://".len()..];
    let args = ["--timeout", "1s", "curl", "--proxy", closed, closed];
    let o = no_dns(ship(&args)).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("put `curl` first"), "{stderr}");
    // From the environment (a Deployment's PATROL_RATE) they are fine for a one-shot request.
    let mut c = no_dns(ship(&["land", "--target", &target]));
    c.env("PATROL_RATE", "3");
    assert_eq!(c.output().await.unwrap().status.code(), Some(6));
}
