//! The web UI's server on the wire, without a browser: what `galaxia up` announces, the page and
//! its API, the live stream, the Hubble JSON export, `galaxia hubble ui`, and the checks that keep
//! other sites and other names out (DNS rebinding, foreign origins, writes).

mod galaxy_util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use galaxy_util::{Galaxy, MUST_HAPPEN, bin, describe, eventually, repo_root};

fn ui_addr(g: &Galaxy) -> SocketAddr {
    let text = std::fs::read_to_string(g.control_file()).expect("discovery file");
    let d: serde_json::Value = serde_json::from_str(&text).expect("discovery json");
    d["ui"]
        .as_str()
        .expect("ui in the discovery file")
        .parse()
        .expect("address")
}

/// One request with `headers` (each `Name: value`), answered in full: status line, headers, body.
fn request(addr: SocketAddr, method: &str, path: &str, headers: &[&str]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("Content-Length: 0\r\n\r\n");
    s.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let host = format!("Host: {addr}");
    request(addr, "GET", path, &[&host])
}

/// The first server-sent event named `name` on `path`, with its data.
fn first_event(addr: SocketAddr, path: &str, name: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("send");
    let mut lines = BufReader::new(s).lines();
    let start = Instant::now();
    let mut current = String::new();
    while start.elapsed() < MUST_HAPPEN {
        let Some(Ok(line)) = lines.next() else {
            continue;
        };
        if let Some(e) = line.strip_prefix("event: ") {
            current = e.to_string();
        } else if let Some(d) = line.strip_prefix("data: ")
            && current == name
        {
            return d.to_string();
        }
    }
    panic!("no {name} event on {path}");
}

#[test]
fn the_ui_is_served_read_only_to_loopback_names_only() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &[]);
    let ui = ui_addr(&g);
    assert_eq!(ui.ip().to_string(), "127.0.0.1", "loopback only");
    let up_out = std::fs::read_to_string(g.dir.path().join("up.out")).unwrap_or_default();
    assert!(
        up_out.contains(&format!("Hubble UI: http://{ui}")),
        "{up_out}"
    );

    // The page and its assets, with the strict policy on every answer.
    let (status, head, body) = get(ui, "/");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{head}"
    );
    assert!(head.contains("x-frame-options: deny"), "{head}");
    assert!(body.contains("/assets/app.js"), "{body}");
    let (status, head, _) = get(ui, "/assets/app.js");
    assert_eq!(status, 200);
    assert!(head.contains("text/javascript"), "{head}");
    assert_eq!(get(ui, "/assets/nothing.js").0, 404);
    let (status, _, _) = request(ui, "GET", "/", &[&format!("Host: localhost:{}", ui.port())]);
    assert_eq!(status, 200, "localhost with our port is the same page");

    // DNS rebinding, other ports, foreign origins, writes.
    for host in [
        "Host: evil.example",
        "Host: evil.example:12000",
        &format!("Host: 127.0.0.1:{}", ui.port() ^ 1),
    ] {
        let (status, head, body) = request(ui, "GET", "/api/v1/state", &[host]);
        assert_eq!(status, 403, "{host}: {body}");
        assert!(
            head.contains("content-security-policy"),
            "refusals carry the headers too"
        );
    }
    let own = format!("Host: {ui}");
    let (status, _, body) = request(
        ui,
        "POST",
        "/api/v1/state",
        &[&own, "Origin: http://evil.example"],
    );
    assert_eq!(status, 403, "{body}");
    let (status, _, _) = request(
        ui,
        "GET",
        "/api/v1/flows/stream",
        &[&own, "Origin: http://evil.example"],
    );
    assert_eq!(status, 403);
    let (status, _, _) = request(ui, "GET", "/", &[&own, "Sec-Fetch-Site: cross-site"]);
    assert_eq!(status, 403);
    let origin = format!("Origin: http://{ui}");
    let (status, head, _) = request(ui, "POST", "/api/v1/state", &[&own, &origin]);
    assert_eq!(status, 405, "the UI changes nothing");
    assert!(head.contains("allow: get, head"), "{head}");
    for method in ["PUT", "DELETE", "PATCH"] {
        assert_eq!(
            request(ui, method, "/api/v1/policies", &[&own]).0,
            405,
            "{method}"
        );
    }

    // The state: the book's three workloads, named as Hubble UI names them.
    let (status, _, body) = get(ui, "/api/v1/state");
    assert_eq!(status, 200);
    let state: serde_json::Value = serde_json::from_str(&body).expect("state json");
    let mut cards: Vec<&str> = state["cards"]
        .as_array()
        .expect("cards")
        .iter()
        .filter_map(|c| c["app"].as_str())
        .collect();
    cards.sort();
    assert_eq!(cards, ["asa-x", "caca-tie", "estrela-da-morte"]);
    assert_eq!(state["namespaces"], serde_json::json!(["default"]));
    assert_eq!(state["endpoints"].as_array().map(Vec::len), Some(4));

    // The stream: flows as the patrols send them; a bad filter is refused by name.
    let flows: serde_json::Value =
        serde_json::from_str(&first_event(ui, "/api/v1/flows/stream", "flows"))
            .expect("flows json");
    let first = &flows["flows"][0];
    for field in [
        "seq", "ms", "verdict", "event", "src", "dst", "dst_port", "summary",
    ] {
        assert!(!first[field].is_null(), "a flow has {field}: {first}");
    }
    let invalid = first_event(ui, "/api/v1/flows/stream?filter=colour%3Dred", "invalid");
    assert!(invalid.contains("unknown filter"), "{invalid}");

    // Under regra1 (L4) the export of dropped flows is Hubble's JSON of the X-wing's drops.
    g.ok(&["create", "-f", "k8s/politica_l4.yml"]);
    let policies = first_event(
        ui,
        "/api/v1/flows/stream?verdict=dropped&filter=from%3Apod%3Dasa-x",
        "flows",
    );
    assert!(policies.contains("\"verdict\":\"DROPPED\""), "{policies}");
    let mut lines = Vec::new();
    eventually("the export holds the X-wing's drops", || {
        let (status, head, body) = get(
            ui,
            "/api/v1/flows/export?verdict=dropped&filter=from%3Apod%3Dasa-x",
        );
        assert_eq!(status, 200);
        assert!(head.contains("application/x-ndjson"), "{head}");
        lines = body.lines().map(str::to_string).collect();
        !lines.is_empty()
    });
    for l in &lines {
        let r = galaxia::hubble::json::parse_get_flows_response(l).expect("Hubble JSON");
        let Some(galaxia::hubble::proto::observer::get_flows_response::ResponseTypes::Flow(f)) =
            r.response_types
        else {
            panic!("not a flow: {l}");
        };
        assert_eq!(
            f.verdict,
            galaxia::hubble::proto::flow::Verdict::Dropped as i32,
            "{l}"
        );
        assert_eq!(
            f.source.as_ref().map(|s| s.pod_name.as_str()),
            Some("asa-x"),
            "{l}"
        );
    }
    let (_, _, body) = get(ui, "/api/v1/policies");
    let p: serde_json::Value = serde_json::from_str(&body).expect("policies json");
    assert_eq!(p["policies"][0]["name"], "regra1");
    assert!(
        p["policies"][0]["yaml"]
            .as_str()
            .unwrap_or_default()
            .contains("org: imperio"),
        "{p}"
    );
    let asa_x = p["table"]
        .as_array()
        .expect("table")
        .iter()
        .find(|r| r["from"] == "asa-x")
        .expect("asa-x row")
        .clone();
    assert_eq!(asa_x["land"]["verdict"], "dropped", "{asa_x}");

    // `galaxia hubble ui` (as `cilium hubble ui`): the address, and no browser where none can open.
    let out = g.run(&["hubble", "ui", "--open-browser=false"]);
    assert!(
        out.status.success(),
        "{}",
        describe(&["hubble", "ui"], &out)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("http://{ui}")), "{text}");
    assert!(text.contains("open it in your browser"), "{text}");
}

#[test]
fn hubble_ui_without_a_galaxy_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(bin())
        .args(["hubble", "ui"])
        .env("GALAXIA_CONTROL_FILE", dir.path().join("control.json"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("galaxia up"), "{err}");
}

#[test]
fn a_taken_ui_port_is_named_before_anything_starts() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(bin())
        .current_dir(repo_root())
        .args([
            "up",
            "--hubble-port",
            "0",
            "--ui-port",
            &port,
            "--no-patrol",
            "--control-file",
        ])
        .arg(dir.path().join("control.json"))
        .stdin(Stdio::null())
        .output()
        .expect("run galaxia up");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("the web UI on 127.0.0.1:{port}")) && err.contains("--ui-port 0"),
        "{err}"
    );
}

#[test]
fn the_ui_port_defaults_to_hubble_uis() {
    // Only the help: a test never binds a fixed port.
    let out = Command::new(bin())
        .args(["up", "--help"])
        .output()
        .expect("run galaxia up --help");
    let help = String::from_utf8_lossy(&out.stdout);
    let line = help
        .lines()
        .skip_while(|l| !l.contains("--ui-port"))
        .take_while(|l| !l.trim_start().starts_with("--") || l.contains("--ui-port"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        line.contains("[default: 12000]"),
        "--ui-port defaults to 12000: {help}"
    );
    assert_eq!(galaxia::ui::DEFAULT_PORT, 12000);
}
