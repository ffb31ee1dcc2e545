//! Byte-for-byte answers of the demo API on a real socket, for every route and error class of the
//! wire contract (DESIGN.md), plus the robustness limits (header timeout, idle keep-alive, body
//! limit, malformed requests).
#![allow(clippy::unwrap_used)]

mod util;

use std::time::Duration;

use estrela_da_morte::Config;
use estrela_da_morte::wire::{EXHAUST_PORT_PANIC, LANDED, info_document};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use util::{IO_LIMIT, Station, exchange, mask_date, test_config};

/// An expected response: status line, then `headers` in order, then Content-Length and Date.
fn expected(status_line: &str, headers: &[&str], body: &[u8]) -> String {
    expected_head(status_line, headers, body.len()) + std::str::from_utf8(body).unwrap()
}

fn expected_head(status_line: &str, headers: &[&str], length: usize) -> String {
    let mut out = format!("{status_line}\r\n");
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {length}\r\nDate: <date>\r\n\r\n"));
    out
}

/// A request closing its connection, with extra header lines and a body.
fn request(method: &str, target: &str, headers: &[&str], body: &str) -> String {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: deathstar\r\n");
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    if !body.is_empty() {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("Connection: close\r\n\r\n");
    out.push_str(body);
    out
}

const CURL: &[&str] = &["User-Agent: curl/8.5.0", "Accept: */*"];
const TEXT: &str = "Content-Type: text/plain";
const JSON: &str = "Content-Type: application/json";
const CLOSE: &str = "Connection: close";

fn not_found(path: &str, content_type: &str) -> String {
    let body = format!(r#"{{"code":404,"message":"path {path} was not found"}}"#);
    expected(
        "HTTP/1.1 404 Not Found",
        &[content_type, CLOSE],
        body.as_bytes(),
    )
}

fn not_allowed(method: &str, allowed: &str, content_type: &str) -> String {
    let body = format!(
        r#"{{"code":405,"message":"method {method} is not allowed, but [{allowed}] are"}}"#
    );
    let allow = format!("Allow: {allowed}");
    expected(
        "HTTP/1.1 405 Method Not Allowed",
        &[&allow, content_type, CLOSE],
        body.as_bytes(),
    )
}

async fn check(station: &Station, request: &str, want: &str) {
    let got = mask_date(&exchange(station.demo, request.as_bytes()).await);
    assert_eq!(got, want, "request:\n{request}");
}

#[tokio::test]
async fn routes_answer_like_upstream() {
    let station = Station::start(test_config()).await;
    let landed = expected("HTTP/1.1 200 OK", &[TEXT, CLOSE], LANDED);
    let info = expected(
        "HTTP/1.1 200 OK",
        &[TEXT, CLOSE],
        info_document("estrela-teste").as_bytes(),
    );
    let panic = expected(
        "HTTP/1.1 503 Service Unavailable",
        &[TEXT, CLOSE],
        EXHAUST_PORT_PANIC,
    );

    for (method, target, want) in [
        ("POST", "/v1/request-landing", &landed),
        ("GET", "/v1", &info),
        ("PUT", "/v1/exhaust-port", &panic),
        // Cleaned like Go's path.Clean; the query is ignored.
        ("GET", "/v1/", &info),
        ("GET", "//v1", &info),
        ("GET", "/v1?x=1", &info),
        ("POST", "/v1/request-landing/", &landed),
        ("POST", "//v1//request-landing", &landed),
        ("POST", "/v1/./x/../request-landing", &landed),
        ("POST", "/v1/request-landing?ship=tie", &landed),
        ("PUT", "/v1//exhaust-port/", &panic),
        // go-openapi upper-cases the method before routing.
        ("post", "/v1/request-landing", &landed),
    ] {
        check(&station, &request(method, target, CURL, ""), want).await;
    }

    // The document is the tab-indented JSON upstream writes, ending in "}\n".
    let document = info_document("estrela-teste");
    assert!(
        document
            .starts_with("{\n\t\"name\": \"Death Star\",\n\t\"hostname\": \"estrela-teste\",\n")
    );
    assert!(document.ends_with("\t\t\"PUT   /v1/exhaust-port\"\n\t]\n}\n"));
    station.stop().await;
}

#[tokio::test]
async fn every_wrong_method_is_405_with_allow() {
    let station = Station::start(test_config()).await;
    let methods = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FROB",
    ];
    for (path, allowed) in [
        ("/v1", "GET"),
        ("/v1/request-landing", "POST"),
        ("/v1/exhaust-port", "PUT"),
    ] {
        for method in methods.iter().filter(|m| **m != allowed) {
            check(
                &station,
                &request(method, path, CURL, ""),
                &not_allowed(method, allowed, TEXT),
            )
            .await;
            // Without Accept, the error is application/json.
            check(
                &station,
                &request(method, path, &[], ""),
                &not_allowed(method, allowed, JSON),
            )
            .await;
        }
        // HEAD: the same head, no body.
        let full = not_allowed("HEAD", allowed, TEXT);
        let head_only = &full[..full.find("\r\n\r\n").unwrap() + 4];
        check(&station, &request("HEAD", path, CURL, ""), head_only).await;
    }
    station.stop().await;
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let station = Station::start(test_config()).await;
    for (target, path) in [
        ("/", "/"),
        ("/nope", "/nope"),
        ("/nope?x=1&y=2", "/nope"),
        ("//nope/", "//nope/"),
        ("/v1/request-landing/x", "/v1/request-landing/x"),
        ("/V1", "/V1"),
        ("/v1/Request-Landing", "/v1/Request-Landing"),
        ("/V1/EXHAUST-PORT?x", "/V1/EXHAUST-PORT"),
        ("/v1/healthz", "/v1/healthz"),
        ("/healthz", "/healthz"),
        ("/metrics", "/metrics"),
        ("/v2", "/v2"),
    ] {
        check(
            &station,
            &request("GET", target, CURL, ""),
            &not_found(path, TEXT),
        )
        .await;
        check(
            &station,
            &request("GET", target, &[], ""),
            &not_found(path, JSON),
        )
        .await;
    }
    for (accept, content_type) in [
        ("Accept: text/*", TEXT),
        ("Accept: text/plain", TEXT),
        ("Accept: application/json, text/plain;q=0.5", TEXT),
        ("Accept: application/json", JSON),
        ("Accept: text/plain;q=0", JSON),
        ("Accept: text/html", JSON),
    ] {
        check(
            &station,
            &request("GET", "/nope", &[accept], ""),
            &not_found("/nope", content_type),
        )
        .await;
    }
    // Go's JSON encoder escapes & (and <, >, which the HTTP parser already refuses in a path).
    check(
        &station,
        &request("GET", "/a&c", CURL, ""),
        &expected(
            "HTTP/1.1 404 Not Found",
            &[TEXT, CLOSE],
            br#"{"code":404,"message":"path /a\u0026c was not found"}"#,
        ),
    )
    .await;
    station.stop().await;
}

#[tokio::test]
async fn bodies_are_json_or_415() {
    let station = Station::start(test_config()).await;
    let landed = expected("HTTP/1.1 200 OK", &[TEXT, CLOSE], LANDED);
    let unsupported = |media: &str, content_type: &str| {
        let body = format!(
            r#"{{"code":415,"message":"unsupported media type \"{media}\", only [application/json] are allowed"}}"#
        );
        expected(
            "HTTP/1.1 415 Unsupported Media Type",
            &[content_type, CLOSE],
            body.as_bytes(),
        )
    };
    let json = ["Accept: */*", "Content-Type: application/json"];
    check(
        &station,
        &request("POST", "/v1/request-landing", &json, r#"{"ship":"tie"}"#),
        &landed,
    )
    .await;
    let json_utf8 = [
        "Accept: */*",
        "Content-Type: Application/JSON; charset=utf-8",
    ];
    check(
        &station,
        &request("POST", "/v1/request-landing", &json_utf8, "{}"),
        &landed,
    )
    .await;
    let form = [
        "Accept: */*",
        "Content-Type: application/x-www-form-urlencoded",
    ];
    check(
        &station,
        &request("POST", "/v1/request-landing", &form, "ship=tie"),
        &unsupported("application/x-www-form-urlencoded", TEXT),
    )
    .await;
    check(
        &station,
        &request("POST", "/v1/request-landing", &form[1..], "ship=tie"),
        &unsupported("application/x-www-form-urlencoded", JSON),
    )
    .await;
    // A body without Content-Type is application/octet-stream to Go.
    check(
        &station,
        &request("PUT", "/v1/exhaust-port", CURL, "boom"),
        &unsupported("application/octet-stream", TEXT),
    )
    .await;
    // Routing comes first: an unknown path with a form body is still 404, a wrong method 405.
    check(
        &station,
        &request("POST", "/nope", &form, "a=b"),
        &not_found("/nope", TEXT),
    )
    .await;
    check(
        &station,
        &request("GET", "/v1/request-landing", &form, "a=b"),
        &not_allowed("GET", "POST", TEXT),
    )
    .await;
    // Chunked JSON bodies are read too.
    let chunked = "POST /v1/request-landing HTTP/1.1\r\nHost: d\r\nAccept: */*\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    check(&station, chunked, &landed).await;
    station.stop().await;
}

#[tokio::test]
async fn http10_and_missing_accept() {
    let station = Station::start(test_config()).await;
    // HTTP/1.0 gets an HTTP/1.0 status line and the connection closes.
    check(
        &station,
        "POST /v1/request-landing HTTP/1.0\r\n\r\n",
        &expected("HTTP/1.0 200 OK", &[TEXT], LANDED),
    )
    .await;
    check(
        &station,
        "GET /nope HTTP/1.0\r\nAccept: */*\r\n\r\n",
        &expected(
            "HTTP/1.0 404 Not Found",
            &[TEXT],
            br#"{"code":404,"message":"path /nope was not found"}"#,
        ),
    )
    .await;
    // HTTP/1.0 keep-alive when asked for: two answers on one connection.
    let one = expected("HTTP/1.0 200 OK", &[TEXT, "Connection: keep-alive"], LANDED);
    let two = expected("HTTP/1.0 200 OK", &[TEXT], LANDED);
    check(
        &station,
        "POST /v1/request-landing HTTP/1.0\r\nConnection: keep-alive\r\n\r\nPOST /v1/request-landing HTTP/1.0\r\n\r\n",
        &(one + &two),
    )
    .await;
    // Missing Accept on a valid route: answered like curl's */* (upstream drops the connection).
    check(
        &station,
        &request("POST", "/v1/request-landing", &[], ""),
        &expected("HTTP/1.1 200 OK", &[TEXT, CLOSE], LANDED),
    )
    .await;
    check(
        &station,
        &request("GET", "/v1", &["Accept: application/json"], ""),
        &expected(
            "HTTP/1.1 200 OK",
            &[TEXT, CLOSE],
            info_document("estrela-teste").as_bytes(),
        ),
    )
    .await;
    // HTTP/1.1 keep-alive: several answers on one connection.
    let pipelined = "POST /v1/request-landing HTTP/1.1\r\nHost: d\r\n\r\n".repeat(2)
        + &request("POST", "/v1/request-landing", &[], "");
    let keep = expected("HTTP/1.1 200 OK", &[TEXT], LANDED);
    let last = expected("HTTP/1.1 200 OK", &[TEXT, CLOSE], LANDED);
    let got = exchange(station.demo, pipelined.as_bytes()).await;
    let got: Vec<String> = got
        .split_inclusive("Ship landed\n")
        .map(mask_date)
        .collect();
    assert_eq!(got, [keep.clone(), keep, last]);
    station.stop().await;
}

#[tokio::test]
async fn limits_and_malformed_requests() {
    let station = Station::start(Config {
        max_body_bytes: 16,
        header_read_timeout: Duration::from_millis(300),
        ..test_config()
    })
    .await;
    // Body limit.
    let big = "x".repeat(64);
    let got = exchange(
        station.demo,
        request(
            "POST",
            "/v1/request-landing",
            &["Accept: */*", "Content-Type: application/json"],
            &big,
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(
        mask_date(&got),
        expected(
            "HTTP/1.1 413 Payload Too Large",
            &[TEXT, CLOSE],
            br#"{"code":413,"message":"request body is larger than 16 bytes"}"#
        )
    );
    // Malformed requests get a 4xx from the parser, never a crash.
    for garbage in [
        "GARBAGE\r\n\r\n",
        "GET /v1 HTTP/9.9\r\n\r\n",
        "GET /v1 HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /v1/request-landing HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        "POST /v1/request-landing HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n",
    ] {
        let got = exchange(station.demo, garbage.as_bytes()).await;
        let status = util::status_of(&got);
        assert!((400..500).contains(&status), "{garbage:?} -> {got:?}");
    }
    // A slowloris client (headers never finished) and an idle keep-alive connection are both
    // closed by the server.
    for opening in ["GET /v1 HTTP/1.1\r\nHost: d\r\n", ""] {
        let mut stream = tokio::net::TcpStream::connect(station.demo).await.unwrap();
        stream.write_all(opening.as_bytes()).await.unwrap();
        let mut sink = Vec::new();
        let closed = tokio::time::timeout(IO_LIMIT, stream.read_to_end(&mut sink)).await;
        assert!(closed.is_ok(), "connection with {opening:?} stayed open");
    }
    let mut stream = tokio::net::TcpStream::connect(station.demo).await.unwrap();
    stream
        .write_all(b"POST /v1/request-landing HTTP/1.1\r\nHost: d\r\n\r\n")
        .await
        .unwrap();
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(IO_LIMIT, stream.read_to_end(&mut sink)).await;
    assert!(closed.is_ok(), "idle keep-alive connection stayed open");
    assert!(String::from_utf8_lossy(&sink).ends_with("Ship landed\n"));
    // Still serving after all that.
    let got = exchange(
        station.demo,
        request("POST", "/v1/request-landing", CURL, "").as_bytes(),
    )
    .await;
    assert_eq!(util::status_of(&got), 200);
    station.stop().await;
}
