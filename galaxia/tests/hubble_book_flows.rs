//! The flows of the book's steps, as `hubble observe` prints them, against goldens
//! (testdata/hubble/book/*.txt): a galaxy started with `--no-patrol`, the book's commands through
//! `galaxia exec`, then `galaxia observe` for what that step produced. Times, the clients'
//! ephemeral ports, the Death Star replicas' generated names and the responses' latencies are
//! masked; everything else
//! (endpoints, identities, arrows, event types, verdicts, summaries, their order, and the SYN
//! retransmissions of a dropped X-wing) must match line for line.
//!
//! Then `galaxia observe` is held against the raw `GetFlows` stream of the same flows, read with
//! a gRPC client: one line per flow, in order, with the flow's own time, endpoints and verdict.
//!
//! `GALAXIA_BLESS=1` rewrites the goldens from this run (review the diff before committing).

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

mod galaxy_util;

use std::path::PathBuf;

use galaxia::hubble::proto::flow::Flow;
use galaxia::hubble::proto::observer::GetFlowsRequest;
use galaxia::hubble::proto::observer::get_flows_response::ResponseTypes;
use galaxia::hubble::proto::observer::observer_client::ObserverClient;
use galaxy_util::{Galaxy, SVC, describe};
use regex::Regex;

fn golden(name: &str) -> PathBuf {
    galaxy_util::repo_root()
        .join("galaxia/testdata/hubble/book")
        .join(format!("{name}.txt"))
}

/// Every line `galaxia observe` has now, in the order of the ring.
fn all_lines(g: &Galaxy) -> Vec<String> {
    let out = g.run(&["observe", "--last", "4000"]);
    assert!(out.status.success(), "{}", describe(&["observe"], &out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The parts of a line that change from run to run, masked.
fn mask(line: &str) -> String {
    let time = Regex::new(r"^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d\.\d{3}").unwrap();
    let port = Regex::new(r"(default/(?:caca-tie|asa-x)):\d+ ").unwrap();
    let replica = Regex::new(r"estrela-da-morte-[a-z0-9]{10}-[a-z0-9]{5}").unwrap();
    let latency = Regex::new(r"(HTTP/1\.1 \d{3}) \d+ms ").unwrap();
    let line = time.replace(line, "TIME");
    let line = latency.replace(&line, "$1 Nms ");
    let line = port.replace_all(&line, "$1:PORT ");
    replica
        .replace_all(&line, "estrela-da-morte-HASH-POD")
        .into_owned()
}

/// Check (or with GALAXIA_BLESS=1, write) one step's golden.
fn check(name: &str, lines: &[String]) {
    let got: String = lines.iter().map(|l| mask(l) + "\n").collect();
    let path = golden(name);
    if std::env::var_os("GALAXIA_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (GALAXIA_BLESS=1 writes it)", path.display()));
    if got != want {
        panic!(
            "step {name}: the flows differ from {}\n--- want\n{want}--- got\n{got}",
            path.display()
        );
    }
}

/// What the step made: the lines after the `before` ones already there.
fn step(g: &Galaxy, before: usize) -> (Vec<String>, usize) {
    let all = all_lines(g);
    assert!(all.len() >= before, "the ring lost flows");
    let new = all[before..].to_vec();
    (new, all.len())
}

#[test]
fn the_books_steps_give_ciliums_flows() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let land = format!("{SVC}/v1/request-landing");
    let exhaust = format!("{SVC}/v1/exhaust-port");
    // `galaxia exec ... curl` on this datapath is always the ships' curl, run as inside the pod.
    let builtin = true;
    let curl = |pod: &str, args: &[&str], code: i32| {
        let out = g.curl(builtin, pod, args);
        assert_eq!(out.status.code(), Some(code), "{}", describe(args, &out));
    };
    assert!(all_lines(&g).is_empty(), "flows before any traffic");

    // 1. No policy: one connection from each ship, each one's L3/L4 trace events.
    curl("caca-tie", &["-s", "-XPOST", &land], 0);
    curl("asa-x", &["-s", "-XPOST", &land], 0);
    let (lines, n) = step(&g, 0);
    check("1-no-policy", &lines);

    // 2. L4: the X-wing's SYN is dropped at 0 s and at Linux's first retransmission (1 s) of a
    // curl that gives up at 2 s; the TIE fighter's connection passes with its verdict.
    assert_eq!(
        g.ok(&["create", "-f", "k8s/politica_l4.yml"]),
        "ciliumnetworkpolicy.cilium.io/regra1 created\n"
    );
    curl("asa-x", &["-s", "-m", "2", "-XPOST", &land], 28);
    curl("caca-tie", &["-s", "-XPOST", &land], 0);
    let (lines, n) = step(&g, n);
    check("2-l4", &lines);

    // 3. L7: the TIE fighter's PUT is denied by the proxy, its POST forwarded with a response.
    assert_eq!(
        g.ok(&["apply", "-f", "k8s/politica_l7.yml"]),
        "ciliumnetworkpolicy.cilium.io/regra1 configured\n"
    );
    curl("caca-tie", &["-s", "-XPUT", &exhaust], 0);
    curl("caca-tie", &["-s", "-XPOST", &land], 0);
    let (lines, _) = step(&g, n);
    check("3-l7", &lines);

    agrees_with_the_raw_stream(&g);
}

/// The Observer API's address, from the galaxy's discovery file.
fn hubble_addr(g: &Galaxy) -> String {
    let text = std::fs::read_to_string(g.control_file()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["hubble"]
        .as_str()
        .expect("hubble in the discovery file")
        .to_string()
}

fn raw_flows(addr: &str) -> Vec<Flow> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = ObserverClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        let req = GetFlowsRequest {
            number: 4000,
            ..Default::default()
        };
        let mut stream = c.get_flows(req).await.unwrap().into_inner();
        let mut flows = Vec::new();
        while let Some(r) = stream.message().await.unwrap() {
            if let Some(ResponseTypes::Flow(f)) = r.response_types {
                flows.push(f);
            }
        }
        flows
    })
}

/// One endpoint as the compact line writes it: `ns/pod:port (ID:n)`.
fn end(e: &galaxia::hubble::proto::flow::Endpoint, port: u32) -> String {
    format!("{}/{}:{port} (ID:{})", e.namespace, e.pod_name, e.identity)
}

/// `galaxia observe` prints each raw flow once, in order, with its own time (RFC 3339 here, as
/// `--time-format RFC3339Nano` asks), endpoints, the arrow Hubble draws and the verdict.
fn agrees_with_the_raw_stream(g: &Galaxy) {
    let flows = raw_flows(&hubble_addr(g));
    let out = g.run(&["observe", "--last", "4000", "--time-format", "RFC3339Nano"]);
    assert!(out.status.success(), "{}", describe(&["observe"], &out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), flows.len(), "{text}");
    assert!(
        flows.len() > 40,
        "the book's steps made {} flows",
        flows.len()
    );
    for (f, line) in flows.iter().zip(&lines) {
        let t = f.time.as_ref().unwrap();
        let time = humantime_rfc3339(t.seconds, t.nanos);
        let tcp = match f.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
            Some(galaxia::hubble::proto::flow::layer4::Protocol::Tcp(tcp)) => tcp,
            other => panic!("a TCP flow: {other:?}"),
        };
        let (src, dst) = (f.source.as_ref().unwrap(), f.destination.as_ref().unwrap());
        let (a, b) = (end(src, tcp.source_port), end(dst, tcp.destination_port));
        // Hubble swaps a reply's ends so that the client stays on the left.
        let ends = match f.is_reply {
            None => format!("{a} <> {b}"),
            Some(false) => format!("{a} -> {b}"),
            Some(true) => format!("{b} <- {a}"),
        };
        let verdict = galaxia::hubble::proto::flow::Verdict::try_from(f.verdict)
            .unwrap()
            .as_str_name();
        // Hubble words a policy verdict event's verdict as the policy's decision.
        let policy_verdict = f.event_type.as_ref().is_some_and(|e| e.r#type == 5);
        let verdict = match (policy_verdict, verdict) {
            (true, "FORWARDED" | "REDIRECTED") => "ALLOWED",
            (true, "DROPPED") => "DENIED",
            (_, v) => v,
        };
        assert!(
            line.starts_with(&format!("{time}: {ends} ")),
            "{line}\n{f:?}"
        );
        assert!(
            line.contains(&format!(" {verdict} (")),
            "{line}\n{verdict} {f:?}"
        );
        assert!(line.ends_with(&format!("({})", f.summary)), "{line}");
    }
}

/// RFC 3339 with nanoseconds in UTC, as Go's `time.RFC3339Nano` writes it (trailing zeros of
/// the fraction dropped), from the protobuf Timestamp.
fn humantime_rfc3339(secs: i64, nanos: i32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut frac = format!("{nanos:09}");
    while frac.ends_with('0') {
        frac.pop();
    }
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-from-civil inverse: the date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A request on a connection kept alive from before the policy: Cilium checks every packet, so the
/// next request is dropped, `Policy denied DROPPED (TCP Flags: ACK, PSH)`; and Hubble's metrics on
/// the control API's `/metrics` count the drops, the flows and the HTTP requests by Cilium's names.
#[test]
fn a_kept_alive_connection_is_dropped_mid_stream_and_hubbles_metrics_count() {
    use std::io::{Read, Write};
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let asa_x = g.pods().into_iter().find(|p| p["name"] == "asa-x").unwrap();
    let egress: std::net::SocketAddr = asa_x["egress"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let mut s = std::net::TcpStream::connect(egress).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_millis(1500)))
        .unwrap();
    let req = format!(
        "POST http://{SVC}/v1/request-landing HTTP/1.1\r\nHost: {SVC}\r\nContent-Length: 0\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.ends_with("Ship landed\n"), "{head}");

    g.ok(&["create", "-f", "k8s/politica_l4.yml"]);
    s.write_all(req.as_bytes()).unwrap();
    let stalled = s.read(&mut buf);
    assert!(
        matches!(&stalled, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut),
        "the kept-alive request was answered: {stalled:?}"
    );
    let drops = g.ok(&["observe", "--pod", "asa-x", "--verdict", "DROPPED"]);
    assert!(
        drops.contains("Policy denied DROPPED (TCP Flags: ACK, PSH)"),
        "{drops}"
    );
    drop(s);

    // Hubble's metrics, as Cilium's hubble-metrics names them.
    g.ok(&["apply", "-f", "k8s/politica_l7.yml"]);
    let out = g.curl(
        true,
        "caca-tie",
        &["-s", "-XPUT", &format!("{SVC}/v1/exhaust-port")],
    );
    assert_eq!(out.stdout, b"Access denied\r\n");
    let text = std::fs::read_to_string(g.control_file()).unwrap();
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    let metrics = http_get(
        d["addr"].as_str().unwrap(),
        "/metrics",
        d["token"].as_str().unwrap(),
    );
    for want in [
        "hubble_drop_total{protocol=\"TCP\",reason=\"POLICY_DENIED\"}",
        "hubble_flows_processed_total{protocol=\"TCP\",subtype=\"to-endpoint\",type=\"Trace\",verdict=\"FORWARDED\"}",
        "hubble_flows_processed_total{protocol=\"TCP\",subtype=\"\",type=\"Drop\",verdict=\"DROPPED\"}",
        "hubble_flows_processed_total{protocol=\"TCP\",subtype=\"\",type=\"PolicyVerdict\",verdict=\"DROPPED\"}",
        "hubble_flows_processed_total{protocol=\"HTTP\",subtype=\"HTTP\",type=\"L7\",verdict=\"DROPPED\"} 1",
        "hubble_http_requests_total{method=\"PUT\",protocol=\"HTTP/1.1\",reporter=\"server\"} 1",
    ] {
        assert!(metrics.contains(want), "no {want} in\n{metrics}");
    }
}

/// A GET to the control API with its token, over plain TCP (the address is never resolved).
fn http_get(addr: &str, path: &str, token: &str) -> String {
    use std::io::{Read, Write};
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}
