//! The robustness limits that only show with misbehaving clients, each reproducing a fault found
//! by a probe: request bodies that never arrive (408 after the body read timeout), a flood of
//! demo connections under a low open-files limit (the caps keep the admin port reachable), and
//! requests refused by the HTTP parser (counted and logged like any other answer).
#![allow(clippy::unwrap_used)]

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use estrela_da_morte::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use util::{
    Daemon, IO_LIMIT, Station, exchange, get_blocking, mask_date, metric_value, status_of,
    test_config,
};

/// Slack for scheduling on a loaded CI machine, on top of a timeout that should fire.
const LATE: Duration = Duration::from_secs(3);

const LANDING_HEAD: &str = "POST /v1/request-landing HTTP/1.1\r\nHost: d\r\nAccept: */*\r\nContent-Type: application/json\r\n";

/// Sends `opening` and never the rest; returns what the station answered, and after how long
/// it closed the connection.
async fn stall(addr: SocketAddr, opening: String) -> (String, Duration) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(opening.as_bytes()).await.unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(IO_LIMIT, stream.read_to_end(&mut answer))
        .await
        .expect("the station kept a stalled body's connection open")
        .expect("the station reset the connection instead of closing it");
    (String::from_utf8(answer).unwrap(), start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_gets_408_after_the_body_read_timeout() {
    let timeout = Duration::from_secs(1);
    let station = Station::start(Config {
        body_read_timeout: timeout,
        // Far longer than the test: before the fix, nothing else would ever close these.
        header_read_timeout: Duration::from_secs(60),
        ..test_config()
    })
    .await;
    let body = r#"{"code":408,"message":"request body was not received within 1s"}"#;
    let timed_out = format!(
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: {}\r\nDate: <date>\r\n\r\n{body}",
        body.len()
    );
    let cases = [
        // The head announces ten bytes, none follows.
        (format!("{LANDING_HEAD}Content-Length: 10\r\n\r\n"), ""),
        // A chunked body that stops after its first chunk.
        (
            format!("{LANDING_HEAD}Transfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n"),
            "",
        ),
        // The client asks to be told to go on, is told so, and sends nothing.
        (
            format!("{LANDING_HEAD}Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"),
            "HTTP/1.1 100 Continue\r\n\r\n",
        ),
    ];
    let stalls: Vec<_> = cases
        .iter()
        .map(|(opening, _)| tokio::spawn(stall(station.demo, opening.clone())))
        .collect();
    for ((opening, interim), stalled) in cases.iter().zip(stalls) {
        let (answer, after) = stalled.await.unwrap();
        assert_eq!(
            mask_date(&answer),
            format!("{interim}{timed_out}"),
            "{opening:?}"
        );
        assert!(
            after >= timeout - Duration::from_millis(50) && after < timeout + LATE,
            "{opening:?}: answered after {after:?}"
        );
    }

    // Counted like any answer of the route.
    let metrics = exchange(
        station.admin,
        b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        metric_value(
            &metrics,
            r#"deathstar_http_requests_total{method="POST",route="/v1/request-landing",status="408"}"#
        ),
        Some(3),
        "{metrics}"
    );
    // A body that does arrive in time is still read and answered.
    let landed = exchange(
        station.demo,
        format!("{LANDING_HEAD}Content-Length: 2\r\nConnection: close\r\n\r\n{{}}").as_bytes(),
    )
    .await;
    assert!(landed.ends_with("\r\n\r\nShip landed\n"), "{landed}");
    station.stop().await;
}

/// A GET on the admin port, timed.
fn timed_admin_get(admin: SocketAddr, path: &str) -> (u16, Duration) {
    let start = Instant::now();
    let answer = get_blocking(admin, "GET", path, "").unwrap();
    (status_of(&answer), start.elapsed())
}

#[test]
fn a_flooded_demo_port_leaves_the_admin_port_reachable() {
    // The probe's set-up: a low open-files limit and more stalled uploads than it allows. Before
    // the caps, the demo connections took every descriptor and the admin port's accepts failed.
    let open_files = 128;
    let daemon = Daemon::start_with_open_files(
        open_files,
        &["--body-read-timeout", "60s", "--header-read-timeout", "60s"],
        &[],
    );
    // The default cap does not fit in 128 descriptors next to the admin pool: lowered at start.
    let cap = daemon.up["max_connections"].as_u64().unwrap();
    assert_eq!(cap, 64, "{}", daemon.log_text());
    daemon.wait_for_log(&["open-files limit", r#""lowered_to":64"#]);

    let flood = 2 * open_files as usize;
    let mut held = Vec::with_capacity(flood);
    for _ in 0..flood {
        let mut stream = TcpStream::connect(daemon.demo).unwrap();
        stream
            .write_all(format!("{LANDING_HEAD}Content-Length: 10\r\n\r\n").as_bytes())
            .unwrap();
        held.push(stream);
    }
    // Deterministic state before measuring: exactly `cap` served, every other one turned away.
    let deadline = Instant::now() + IO_LIMIT;
    let metrics = loop {
        let metrics = get_blocking(daemon.admin, "GET", "/metrics", "").unwrap();
        let open = metric_value(&metrics, r#"deathstar_connections_open{port="demo"}"#);
        let rejected = metric_value(
            &metrics,
            r#"deathstar_connections_rejected_total{port="demo"}"#,
        );
        if open == Some(cap) && rejected == Some(flood as u64 - cap) {
            break metrics;
        }
        assert!(
            Instant::now() < deadline,
            "open {open:?}, rejected {rejected:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        metric_value(&metrics, r#"deathstar_connections_limit{port="demo"}"#),
        Some(cap)
    );
    daemon.wait_for_log(&["connection limit reached", r#""port":"demo""#]);

    // Probes and scrapes answer at once while the demo port is full.
    for _ in 0..5 {
        for path in ["/healthz", "/readyz", "/metrics"] {
            let (status, took) = timed_admin_get(daemon.admin, path);
            assert_eq!(status, 200, "{path}");
            assert!(took < Duration::from_millis(100), "{path} took {took:?}");
        }
    }
    // Over the cap, a new demo connection is closed on accept: a plain close, no reset, no wait.
    let mut turned_away = TcpStream::connect(daemon.demo).unwrap();
    turned_away.set_read_timeout(Some(IO_LIMIT)).unwrap();
    let mut sink = [0u8; 64];
    assert_eq!(turned_away.read(&mut sink).unwrap(), 0);

    // Once some of the flood goes away, landings are served again.
    held.truncate(cap as usize / 2);
    let deadline = Instant::now() + IO_LIMIT;
    loop {
        match get_blocking(daemon.demo, "POST", "/v1/request-landing", "") {
            Ok(answer) if answer.ends_with("Ship landed\n") => break,
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::ConnectionReset => {}
            Err(error) => panic!("{error}"),
        }
        assert!(Instant::now() < deadline, "landings never came back");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn requests_refused_by_the_parser_are_counted_and_logged() {
    let daemon = Daemon::start(&["--access-log"], &[]);
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: d\r\n\r\n", "a".repeat(70_000));
    let many_headers = format!("GET /v1 HTTP/1.1\r\n{}\r\n", "X-A: b\r\n".repeat(200));
    let large_header = format!("GET /v1 HTTP/1.1\r\nX-A: {}\r\n\r\n", "b".repeat(20_000));
    let refused: [(&str, &[u8]); 6] = [
        ("400 Bad Request", b"GARBAGE\r\n\r\n"),
        ("400 Bad Request", b"GET /v1 HTTP/1.1\r\nBad Header\r\n\r\n"),
        (
            "400 Bad Request",
            b"POST /v1/request-landing HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        ),
        // hyper would answer 414 for a URI over 64 KiB; the 16 KiB head limit answers 431
        // first, as Go (upstream) does for any oversized head.
        ("431 Request Header Fields Too Large", long_uri.as_bytes()),
        (
            "431 Request Header Fields Too Large",
            many_headers.as_bytes(),
        ),
        (
            "431 Request Header Fields Too Large",
            large_header.as_bytes(),
        ),
    ];
    for (status_line, request) in refused {
        let mut stream = TcpStream::connect(daemon.demo).unwrap();
        stream.set_read_timeout(Some(IO_LIMIT)).unwrap();
        stream.write_all(request).unwrap();
        let mut answer = String::new();
        // What the parser left unread is drained before the close: no reset, even for a head
        // far over the limit.
        stream.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status_line}\r\n")),
            "{:?} -> {answer:?}",
            String::from_utf8_lossy(&request[..request.len().min(40)])
        );
    }

    let metrics = get_blocking(daemon.admin, "GET", "/metrics", "").unwrap();
    for (status, count) in [(400, 3), (431, 3)] {
        let series = format!(
            r#"deathstar_http_requests_total{{method="OTHER",route="unparsed",status="{status}"}}"#
        );
        assert_eq!(metric_value(&metrics, &series), Some(count), "{metrics}");
    }
    for status in [400, 431] {
        daemon.wait_for_log(&[
            r#""target":"access""#,
            r#""method":"-","path":"-""#,
            &format!(r#""status":{status}"#),
        ]);
    }
    let log = daemon.log_text();
    let access = |status: u16| {
        log.lines()
            .filter(|l| l.contains(r#""target":"access""#))
            .filter(|l| l.contains(&format!(r#""status":{status},"#)))
            .count()
    };
    assert_eq!((access(400), access(431)), (3, 3), "{log}");
}
