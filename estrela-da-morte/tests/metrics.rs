//! After known traffic, `/metrics` on the admin port shows exactly those counts; the probes answer.
#![allow(clippy::unwrap_used)]

mod util;

use util::{Station, exchange, status_of, test_config};

fn request(method: &str, target: &str) -> String {
    format!("{method} {target} HTTP/1.1\r\nHost: d\r\nAccept: */*\r\nConnection: close\r\n\r\n")
}

/// The sample lines of `metric` (e.g. `deathstar_http_requests_total{`), sorted.
fn samples(text: &str, prefix: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| line.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn metrics_count_exactly_the_traffic() {
    let station = Station::start(test_config()).await;
    let traffic = [
        ("POST", "/v1/request-landing", 200, 3),
        ("GET", "/v1", 200, 2),
        ("GET", "/v1/request-landing", 405, 1),
        ("PUT", "/v1/exhaust-port", 503, 2),
        ("GET", "/nope?x=1", 404, 1),
        ("BREW", "/coffee", 404, 1),
    ];
    for (method, target, status, times) in traffic {
        for _ in 0..times {
            let got = exchange(station.demo, request(method, target).as_bytes()).await;
            assert_eq!(status_of(&got), status, "{method} {target}");
        }
    }
    let text = exchange(station.admin, request("GET", "/metrics").as_bytes()).await;
    assert_eq!(status_of(&text), 200);
    assert!(text.contains("Content-Type: text/plain; version=0.0.4\r\n"));

    assert_eq!(
        samples(&text, "deathstar_http_requests_total{"),
        [
            r#"deathstar_http_requests_total{method="GET",route="/v1",status="200"} 2"#,
            r#"deathstar_http_requests_total{method="GET",route="/v1/request-landing",status="405"} 1"#,
            r#"deathstar_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
            r#"deathstar_http_requests_total{method="OTHER",route="unmatched",status="404"} 1"#,
            r#"deathstar_http_requests_total{method="POST",route="/v1/request-landing",status="200"} 3"#,
            r#"deathstar_http_requests_total{method="PUT",route="/v1/exhaust-port",status="503"} 2"#,
        ]
    );
    assert_eq!(
        samples(&text, "deathstar_http_request_duration_seconds_count"),
        [
            r#"deathstar_http_request_duration_seconds_count{route="/v1"} 2"#,
            r#"deathstar_http_request_duration_seconds_count{route="/v1/exhaust-port"} 2"#,
            r#"deathstar_http_request_duration_seconds_count{route="/v1/request-landing"} 4"#,
            r#"deathstar_http_request_duration_seconds_count{route="unmatched"} 2"#,
        ]
    );
    assert_eq!(
        samples(&text, "deathstar_landings_total"),
        ["deathstar_landings_total 3"]
    );
    assert_eq!(
        samples(&text, "deathstar_explosions_total"),
        ["deathstar_explosions_total 2"]
    );
    assert!(text.contains("\nprocess_resident_memory_bytes "), "{text}");

    // Probes, and the admin endpoints are not on the demo port.
    let healthz = exchange(station.admin, request("GET", "/healthz").as_bytes()).await;
    assert_eq!(status_of(&healthz), 200);
    assert!(healthz.ends_with("\r\n\r\nok\n"));
    let readyz = exchange(station.admin, request("GET", "/readyz").as_bytes()).await;
    assert_eq!(status_of(&readyz), 200);
    assert_eq!(
        status_of(&exchange(station.admin, request("GET", "/nope").as_bytes()).await),
        404
    );
    assert_eq!(
        status_of(&exchange(station.admin, request("POST", "/metrics").as_bytes()).await),
        405
    );
    assert_eq!(
        status_of(&exchange(station.demo, request("GET", "/readyz").as_bytes()).await),
        404
    );
    station.stop().await;
}

#[tokio::test]
async fn two_stations_in_one_process_count_separately() {
    let one = Station::start(test_config()).await;
    let two = Station::start(test_config()).await;
    exchange(one.demo, request("POST", "/v1/request-landing").as_bytes()).await;
    let text = exchange(two.admin, request("GET", "/metrics").as_bytes()).await;
    assert_eq!(
        samples(&text, "deathstar_landings_total"),
        ["deathstar_landings_total 0"]
    );
    one.stop().await;
    two.stop().await;
}
