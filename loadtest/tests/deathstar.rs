//! `loadtest` against the real Death Star (`estrela_da_morte::run` on 127.0.0.1:0, explosions off):
//! its counts per outcome equal what the server's /metrics counted, `--requests N` sends exactly
//! N, and a weighted mix holds its proportions on a large run. Also the library API with live
//! Prometheus counters scraped during a run.
#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the test failing

mod util;

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Parser as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use util::loadtest_async;

struct DeathStar {
    url: String,
    admin: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for DeathStar {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn death_star() -> DeathStar {
    let demo = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", demo.local_addr().unwrap());
    let admin_addr = admin.local_addr().unwrap();
    let config = estrela_da_morte::Config {
        no_explosions: true,
        drain: Duration::ZERO,
        grace: Duration::from_secs(1),
        hostname: Some("estrela-da-morte-test".into()),
        ..estrela_da_morte::Config::default()
    };
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(estrela_da_morte::run(demo, admin, config, async {
        let _ = rx.await;
    }));
    DeathStar {
        url,
        admin: admin_addr,
        stop: Some(tx),
    }
}

/// GET a path with a plain HTTP/1.0-style exchange (Connection: close) and return the body.
async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (_, body) = text.split_once("\r\n\r\n").unwrap_or(("", ""));
    body.to_string()
}

/// The Death Star's request counters, by (route, status).
async fn server_counts(addr: std::net::SocketAddr) -> BTreeMap<(String, String), u64> {
    let text = get(addr, "/metrics").await;
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("deathstar_http_requests_total{"))
    {
        let (labels, value) = line.rsplit_once(' ').unwrap();
        let label = |name: &str| {
            let key = format!("{name}=\"");
            let start = labels.find(&key).unwrap() + key.len();
            labels[start..].split('"').next().unwrap().to_string()
        };
        let v: f64 = value.parse().unwrap();
        *out.entry((label("route"), label("status"))).or_default() += v as u64;
    }
    out
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn counts_match_the_death_stars_metrics() {
    let ds = death_star().await;
    let run = loadtest_async(args(&[
        &ds.url,
        "-c",
        "4",
        "-n",
        "600",
        "--mix",
        "land=4,info=1,exhaust=1",
    ]))
    .await;
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["requests"], 600, "{}", run.describe());
    let landed = run.outcome("landed");
    let exploded = run.outcome("exploded");
    assert_eq!(landed + exploded, 600, "{}", run.describe());
    let by_kind = &json["by_kind"];
    let server = server_counts(ds.admin).await;
    let at = |route: &str, status: &str| {
        server
            .get(&(route.to_string(), status.to_string()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(
        at("/v1/request-landing", "200"),
        by_kind["land"]["landed"].as_u64().unwrap(),
        "{server:?}\n{}",
        run.describe()
    );
    assert_eq!(
        at("/v1", "200"),
        by_kind["info"]["landed"].as_u64().unwrap()
    );
    assert_eq!(at("/v1/exhaust-port", "503"), exploded);
    assert_eq!(server.values().sum::<u64>(), 600, "{server:?}");
}

#[tokio::test]
async fn requests_n_sends_exactly_n_with_and_without_keepalive() {
    let ds = death_star().await;
    let run = loadtest_async(args(&[&ds.url, "-c", "7", "-n", "333"])).await;
    run.expect_code(0);
    assert_eq!(run.outcome("landed"), 333, "{}", run.describe());
    let run = loadtest_async(args(&[
        &ds.url,
        "-c",
        "3",
        "-n",
        "50",
        "--no-keepalive",
        "--rate",
        "500",
    ]))
    .await;
    run.expect_code(0);
    assert_eq!(run.outcome("landed"), 50, "{}", run.describe());
    let server = server_counts(ds.admin).await;
    assert_eq!(
        server.get(&("/v1/request-landing".into(), "200".into())),
        Some(&383),
        "{server:?}"
    );
}

#[tokio::test]
async fn the_mix_holds_its_proportions() {
    let ds = death_star().await;
    let n = 10_000u64;
    let run = loadtest_async(args(&[
        &ds.url,
        "-c",
        "8",
        "-n",
        &n.to_string(),
        "--mix",
        "land=8,info=1,exhaust=1",
    ]))
    .await;
    run.expect_code(0);
    let json = run.json();
    let kind_total = |k: &str| -> u64 {
        json["by_kind"][k]
            .as_object()
            .map(|m| m.values().map(|v| v.as_u64().unwrap()).sum())
            .unwrap_or(0)
    };
    for (kind, share) in [("land", 0.8), ("info", 0.1), ("exhaust", 0.1)] {
        let got = kind_total(kind) as f64 / n as f64;
        // Binomial sd at n = 10k is 0.004 for 0.8 and 0.003 for 0.1: 0.02 is 5 sd or more.
        assert!(
            (got - share).abs() < 0.02,
            "{kind}: {got} vs {share}\n{}",
            run.describe()
        );
    }
    assert_eq!(run.outcome("exploded"), kind_total("exhaust"));
}

#[tokio::test]
async fn library_run_serves_live_prometheus_counters() {
    let ds = death_star().await;
    let plan = loadtest::Args::try_parse_from([
        "loadtest",
        ds.url.as_str(),
        "-c",
        "2",
        "--rate",
        "200",
        "-d",
        "2s",
    ])
    .unwrap()
    .plan()
    .unwrap();
    let metrics = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let maddr = metrics.local_addr().unwrap();
    let run = tokio::spawn(async move {
        loadtest::run(
            &plan,
            loadtest::RunOptions {
                progress: false,
                metrics: Some(metrics),
                interrupt: None,
            },
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let live = get(maddr, "/metrics").await;
    let landed_live: f64 = live
        .lines()
        .find(|l| l.starts_with("loadtest_requests_total{") && l.contains("outcome=\"landed\""))
        .and_then(|l| l.rsplit_once(' '))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or_else(|| panic!("no landed counter in\n{live}"));
    let report = run.await.unwrap().unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(util::schema_problems(&json), Vec::<String>::new());
    assert!(landed_live >= 1.0, "{live}");
    assert!(landed_live < report.requests as f64, "{live}");
    assert_eq!(report.count(frota::Outcome::Landed), report.requests);
    assert!(report.requests > 0);
}
