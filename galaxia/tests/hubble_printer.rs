//! `hubble observe`'s printers against the real Hubble CLI v0.13.6: the goldens in
//! `testdata/hubble/formats.golden` were recorded from it (`record.sh`) on the fixture flows of
//! `testdata/hubble/flows.json` (every event kind of the Star Wars demo), and our JSON encoder,
//! printer and `galaxia observe` must reproduce them byte for byte.

mod hubble_golden;

use galaxia::hubble::json;
use galaxia::hubble::printer::{
    self, Options, Output, Printer, StatusFormat, TimeFormat, tabwrite, uint64_grouping,
};
use galaxia::hubble::proto::observer::{GetFlowsResponse, Node, ServerStatusResponse, Tls};
use hubble_golden::{check_golden, fixture_lines, golden, input_file_prefix};

fn fixture() -> Vec<GetFlowsResponse> {
    fixture_lines()
        .iter()
        .map(|l| json::parse_get_flows_response(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn json_reencodes_every_fixture_line_byte_for_byte() {
    let lines = fixture_lines();
    assert!(lines.len() > 30);
    for line in &lines {
        let r = json::parse_get_flows_response(line).expect("a fixture line parses");
        assert_eq!(&json::get_flows_response(&r), line);
    }
}

#[test]
fn json_output_is_the_oracles() {
    // The oracle's `-o json` is the fixture without its lost events (which it does not print).
    let case = golden("formats.golden")
        .into_iter()
        .find(|c| c.line == "-o json")
        .expect("the -o json case");
    let mut ours = String::new();
    for r in fixture() {
        if let Some(galaxia::hubble::proto::observer::get_flows_response::ResponseTypes::Flow(f)) =
            &r.response_types
        {
            ours.push_str(&json::get_flows_response(&r));
            ours.push('\n');
            // A bare flow is the same object as inside its response.
            assert!(
                json::get_flows_response(&r).starts_with(&format!("{{\"flow\":{}", json::flow(f)))
            );
        }
    }
    assert_eq!(ours.as_bytes(), case.stdout.as_slice());
}

/// Print the fixture with `opts` through the printer API (no command line).
fn print(opts: Options) -> Vec<u8> {
    let mut p = Printer::new(opts);
    let mut out = Vec::new();
    for r in fixture() {
        p.write(&mut out, &r).expect("writing to a Vec");
    }
    p.finish(&mut out).expect("writing to a Vec");
    out
}

#[test]
fn printer_api_matches_the_oracle_in_every_format() {
    let cases = golden("formats.golden");
    let want = |line: &str| {
        &cases
            .iter()
            .find(|c| c.line == line)
            .unwrap_or_else(|| panic!("no case {line}"))
            .stdout
    };
    let o = |output| Options {
        output,
        ..Options::default()
    };
    for (line, opts) in [
        ("-o compact", o(Output::Compact)),
        ("-o dict", o(Output::Dict)),
        ("-o table", o(Output::Table)),
        ("-o json", o(Output::Json)),
        (
            "--print-node-name",
            Options {
                node_name: true,
                ..o(Output::Compact)
            },
        ),
        (
            "--color always",
            Options {
                color: true,
                ..o(Output::Compact)
            },
        ),
        (
            "-o dict --color always",
            Options {
                color: true,
                ..o(Output::Dict)
            },
        ),
        (
            "-o table --color always",
            Options {
                color: true,
                ..o(Output::Table)
            },
        ),
        (
            "--numeric",
            Options {
                ip_translation: false,
                ..o(Output::Compact)
            },
        ),
        (
            "--time-format RFC1123Z",
            Options {
                time_format: TimeFormat::Rfc1123Z,
                ..o(Output::Compact)
            },
        ),
    ] {
        let ours = print(opts);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(want(line)),
            "{line}"
        );
    }
}

#[test]
fn observe_matches_the_oracle_for_every_format_case() {
    check_golden("formats.golden", &input_file_prefix());
}

#[test]
fn lost_events_print_nothing() {
    let lost: Vec<GetFlowsResponse> = fixture()
        .into_iter()
        .filter(|r| {
            r.response_types.is_some()
                && !matches!(
                    r.response_types,
                    Some(
                        galaxia::hubble::proto::observer::get_flows_response::ResponseTypes::Flow(
                            _
                        )
                    )
                )
        })
        .collect();
    assert_eq!(lost.len(), 2);
    for output in [Output::Compact, Output::Dict, Output::Table, Output::Json] {
        let mut p = Printer::new(Options {
            output,
            ..Options::default()
        });
        let mut out = Vec::new();
        for r in &lost {
            p.write(&mut out, r).expect("writing to a Vec");
        }
        p.finish(&mut out).expect("writing to a Vec");
        assert!(out.is_empty(), "{output:?}");
    }
}

#[test]
fn times_are_utc_with_truncated_milliseconds() {
    let ts = |seconds, nanos| prost_types::Timestamp { seconds, nanos };
    // Hubble's own printer test: 1234 s and 567.8 ms after the epoch.
    assert_eq!(
        TimeFormat::StampMilli.format(Some(&ts(1234, 567_800_000))),
        "Jan  1 00:20:34.567"
    );
    // 999.9999 ms never rounds up into the next second.
    assert_eq!(
        TimeFormat::StampMilli.format(Some(&ts(1_732_597_886, 999_999_999))),
        "Nov 26 05:11:26.999"
    );
    assert_eq!(
        TimeFormat::Rfc3339.format(Some(&ts(1_732_597_886, 999_999_999))),
        "2024-11-26T05:11:26Z"
    );
    assert_eq!(
        TimeFormat::Rfc3339Milli.format(Some(&ts(1_732_597_886, 100_000_000))),
        "2024-11-26T05:11:26.1Z"
    );
    assert_eq!(
        TimeFormat::from_name("RFC3339NANO"),
        TimeFormat::Rfc3339Nano
    );
    assert_eq!(TimeFormat::StampMilli.format(None), "N/A");
    assert_eq!(
        TimeFormat::StampMilli.format(Some(&ts(253_402_300_800, 0))),
        "N/A"
    );
}

#[test]
fn tabwriter_lays_out_hubbles_table() {
    assert_eq!(
        tabwrite("A\tBB\tC\nxxxx\ty\tzzzz\n", 2, 3),
        "A      BB   C\nxxxx   y    zzzz\n"
    );
    // Cells count characters, not bytes.
    assert_eq!(tabwrite("µs\tx\nab\ty\n", 2, 3), "µs   x\nab   y\n");
}

#[test]
fn thousands_separators() {
    assert_eq!(uint64_grouping(4095), "4,095");
    assert_eq!(uint64_grouping(999), "999");
    assert_eq!(uint64_grouping(1_234_567), "1,234,567");
}

fn status_response() -> ServerStatusResponse {
    ServerStatusResponse {
        num_flows: 4095,
        max_flows: 4095,
        seen_flows: 123_456,
        uptime_ns: 3_723_456_789_000,
        num_connected_nodes: Some(1),
        num_unavailable_nodes: Some(0),
        unavailable_nodes: vec![],
        version: "cilium v1.15.10".into(),
        flows_rate: 3.414,
    }
}

#[test]
fn hubble_status_compact() {
    assert_eq!(
        printer::status("localhost:4245", &status_response(), StatusFormat::Compact),
        "Healthcheck (via localhost:4245): Ok\nCurrent/Max Flows: 4,095/4,095 (100.00%)\nFlows/s: 3.41\nConnected Nodes: 1/1\n"
    );
    // The local agent sets no node counts; with no rate, seen flows over uptime.
    let agent = ServerStatusResponse {
        num_connected_nodes: None,
        num_unavailable_nodes: None,
        flows_rate: 0.0,
        num_flows: 120,
        ..status_response()
    };
    assert_eq!(
        printer::status("127.0.0.1:4245", &agent, StatusFormat::Compact),
        "Healthcheck (via 127.0.0.1:4245): Ok\nCurrent/Max Flows: 120/4,095 (2.93%)\nFlows/s: 33.16\n"
    );
    let unavailable = ServerStatusResponse {
        num_connected_nodes: Some(1),
        num_unavailable_nodes: Some(3),
        unavailable_nodes: vec!["node-b".into(), "node-a".into()],
        ..status_response()
    };
    assert_eq!(
        printer::server_status(&unavailable, StatusFormat::Compact),
        "Current/Max Flows: 4,095/4,095 (100.00%)\nFlows/s: 3.41\nConnected Nodes: 1/4\nUnavailable Nodes: 3\n  - node-a\n  - node-b\n  - and 1 more...\n"
    );
}

#[test]
fn hubble_status_other_formats() {
    let r = status_response();
    assert_eq!(
        printer::status("x", &r, StatusFormat::Dict),
        "          NUM FLOWS: 4,095\n          MAX FLOWS: 4,095\n         SEEN FLOWS: 123,456\n   FLOWS PER SECOND: 3.41\n             UPTIME: 1h2m3.456789s\nNUM CONNECTED NODES: 1\n NUM UNAVAIL. NODES: 0\n            VERSION: cilium v1.15.10\n"
    );
    assert_eq!(
        printer::status("x", &r, StatusFormat::Table),
        "NUM FLOWS   MAX FLOWS   SEEN FLOWS   FLOWS PER SECOND   UPTIME          NUM CONNECTED NODES   NUM UNAVAILABLE NODES   VERSION\n4,095       4,095       123,456      3.41               1h2m3.456789s   1                     0                       cilium v1.15.10\n"
    );
    assert_eq!(
        printer::status("x", &r, StatusFormat::Json),
        "{\"num_flows\":\"4095\",\"max_flows\":\"4095\",\"seen_flows\":\"123456\",\"uptime_ns\":\"3723456789000\",\"num_connected_nodes\":1,\"num_unavailable_nodes\":0,\"version\":\"cilium v1.15.10\",\"flows_rate\":3.414}\n"
    );
}

#[test]
fn hubble_list_nodes() {
    let nodes = [
        Node {
            name: "kind-worker2".into(),
            version: "v1.15.10".into(),
            address: "172.18.0.3:4244".into(),
            state: 2,
            tls: None,
            ..Node::default()
        },
        Node {
            name: "kind-worker".into(),
            version: String::new(),
            address: "172.18.0.2:4244".into(),
            state: 1,
            tls: Some(Tls {
                enabled: true,
                server_name: "kind-worker.default.hubble-grpc.cilium.io".into(),
            }),
            uptime_ns: 1_000_400_000_000,
            num_flows: 500,
            max_flows: 4095,
            seen_flows: 2001,
        },
    ];
    assert_eq!(
        printer::list_nodes(&nodes, false),
        "NAME           STATUS        AGE      FLOWS/S   CURRENT/MAX-FLOWS\nkind-worker    Connected     16m40s   2.00      500/4095 ( 12.21%)\nkind-worker2   Unavailable   N/A      N/A       N/A\n"
    );
    assert_eq!(
        printer::list_nodes(&nodes, true),
        "NAME           STATUS        AGE      FLOWS/S   CURRENT/MAX-FLOWS    VERSION    ADDRESS           TLS\nkind-worker    Connected     16m40s   2.00      500/4095 ( 12.21%)   N/A        172.18.0.2:4244   Enabled\nkind-worker2   Unavailable   N/A      N/A       N/A                  v1.15.10   172.18.0.3:4244   N/A\n"
    );
    let mut sorted = nodes.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(json::list_nodes(&sorted).starts_with("[\n  {\n    \"name\": \"kind-worker\",\n    \"address\": \"172.18.0.2:4244\",\n    \"state\": \"NODE_CONNECTED\",\n    \"tls\": {\n      \"enabled\": true,"));
}

// ---------------------------------------------------------------------------------------------
// Over gRPC: `galaxia observe --server` against a canned Observer on 127.0.0.1 that streams the
// fixture (with our filters, as a Hubble server would).

mod canned {
    use std::pin::Pin;

    use galaxia::hubble::filter;
    use galaxia::hubble::proto::observer::get_flows_response::ResponseTypes;
    use galaxia::hubble::proto::observer::observer_server::{Observer, ObserverServer};
    use galaxia::hubble::proto::observer::{
        GetFlowsRequest, GetFlowsResponse, GetNamespacesRequest, GetNamespacesResponse,
        GetNodesRequest, GetNodesResponse, ServerStatusRequest, ServerStatusResponse,
    };
    use tonic::codegen::tokio_stream::{self, Stream};
    use tonic::{Request, Response, Status};

    pub struct Canned(pub Vec<GetFlowsResponse>);

    type Flows = Pin<Box<dyn Stream<Item = Result<GetFlowsResponse, Status>> + Send>>;

    #[tonic::async_trait]
    impl Observer for Canned {
        type GetFlowsStream = Flows;

        async fn get_flows(
            &self,
            request: Request<GetFlowsRequest>,
        ) -> Result<Response<Flows>, Status> {
            let req = request.into_inner();
            if req.whitelist.iter().any(|f| f.uuid == ["boom"]) {
                return Err(Status::invalid_argument("boom is not a uuid"));
            }
            // Cilium returns a filter error as a plain error: gRPC's Unknown.
            let filters = filter::compile(&req.whitelist, &req.blacklist)
                .map_err(|e| Status::unknown(e.to_string()))?;
            let mut out: Vec<GetFlowsResponse> = self
                .0
                .iter()
                .filter(|r| match &r.response_types {
                    Some(ResponseTypes::Flow(f)) => filters.matches(f),
                    _ => true,
                })
                .cloned()
                .collect();
            // The last N flows, as the ring is walked back (lost events do not count).
            if req.number > 0 {
                let mut flows = 0;
                let start = out
                    .iter()
                    .rposition(|r| {
                        flows +=
                            u64::from(matches!(r.response_types, Some(ResponseTypes::Flow(_))));
                        flows == req.number
                    })
                    .unwrap_or(0);
                out.drain(..start);
            }
            Ok(Response::new(Box::pin(tokio_stream::iter(
                out.into_iter().map(Ok),
            ))))
        }

        async fn get_nodes(
            &self,
            _: Request<GetNodesRequest>,
        ) -> Result<Response<GetNodesResponse>, Status> {
            Err(Status::unimplemented("GetNodes not implemented"))
        }

        async fn get_namespaces(
            &self,
            _: Request<GetNamespacesRequest>,
        ) -> Result<Response<GetNamespacesResponse>, Status> {
            Err(Status::unimplemented("GetNamespaces not implemented"))
        }

        async fn server_status(
            &self,
            _: Request<ServerStatusRequest>,
        ) -> Result<Response<ServerStatusResponse>, Status> {
            Err(Status::unimplemented("ServerStatus not implemented"))
        }
    }

    /// Serve `responses` on 127.0.0.1 (an ephemeral port) from a thread of its own, for the
    /// rest of the test process.
    pub fn serve(responses: Vec<GetFlowsResponse>) -> std::net::SocketAddr {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a loopback port");
                tx.send(listener.local_addr().expect("its address"))
                    .expect("the test waits");
                tonic::transport::Server::builder()
                    .add_service(ObserverServer::new(Canned(responses)))
                    .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                    .await
                    .expect("serving");
            });
        });
        rx.recv().expect("the server's address")
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn observe_over_grpc_prints_what_hubble_prints() {
    let addr = canned::serve(fixture()).to_string();
    let cases = golden("formats.golden");
    for format in ["compact", "dict", "table", "json"] {
        let want = cases
            .iter()
            .find(|c| c.line == format!("-o {format}"))
            .expect("a recorded format");
        // --all: the whole fixture, as --input-file reads it.
        let (exit, out, err) =
            hubble_golden::observe(&strings(&["--server", &addr, "--all", "-o", format]));
        assert_eq!(
            (exit, String::from_utf8_lossy(&err).into_owned()),
            (0, String::new())
        );
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&want.stdout),
            "-o {format}"
        );
    }
    // The default request asks for the last 20 flows.
    let (_, out, _) = hubble_golden::observe(&strings(&["--server", &addr]));
    let all = cases
        .iter()
        .find(|c| c.line == "-o compact")
        .expect("compact");
    let all = String::from_utf8_lossy(&all.stdout);
    let lines: Vec<&str> = all.lines().collect();
    let want: String = lines[lines.len() - 20..]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(String::from_utf8_lossy(&out), want);
}

#[test]
fn observe_over_grpc_reports_errors_as_hubble_does() {
    let addr = canned::serve(fixture()).to_string();
    // A filter the server refuses: the message alone, as for --input-file.
    let refused = golden("filters.golden")
        .into_iter()
        .find(|c| c.line == "--label 'a b'")
        .expect("the recorded refusal");
    let (exit, out, err) = hubble_golden::observe(&strings(&["--server", &addr, "--label", "a b"]));
    assert_eq!(
        (exit, out.as_slice(), err.as_slice()),
        (1, &b""[..], refused.stderr.as_slice())
    );
    // Other gRPC codes as grpc-go prints them.
    let (exit, _, err) = hubble_golden::observe(&strings(&["--server", &addr, "--uuid", "boom"]));
    assert_eq!(exit, 1);
    assert_eq!(
        String::from_utf8_lossy(&err),
        "rpc error: code = InvalidArgument desc = boom is not a uuid\n"
    );
    // Nothing listening: Hubble's dial error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = closed.local_addr().expect("its address").port();
    drop(closed);
    let target = format!("127.0.0.1:{port}");
    let (exit, _, err) = hubble_golden::observe(&strings(&["--server", &target]));
    assert_eq!(exit, 1);
    assert_eq!(
        String::from_utf8_lossy(&err),
        format!(
            "failed to connect to '{target}': connection error: desc = \"transport: error while dialing: dial tcp {target}: connect: connection refused\"\n"
        )
    );
}

/// A discovery file as `galaxia up` writes it (only the fields observe reads).
fn write_discovery(path: &std::path::Path, hubble: std::net::SocketAddr) {
    let text = format!(
        "{{\"addr\":\"127.0.0.1:9\",\"pid\":{},\"hubble\":\"{hubble}\"}}",
        std::process::id()
    );
    std::fs::write(path, text).expect("writing the discovery file");
}

#[test]
fn observe_finds_the_observer_in_the_discovery_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("control.json");
    let hubble = canned::serve(fixture());
    write_discovery(&path, hubble);
    let control = path.display().to_string();
    let (exit, out, _) = hubble_golden::observe(&strings(&[
        "--control-file",
        &control,
        "--last",
        "1",
        "--to-port",
        "53",
    ]));
    assert_eq!(exit, 0);
    assert_eq!(
        String::from_utf8_lossy(&out),
        "Nov 26 05:11:49.009: default/caca-tie:53001 (ID:4512) -> kube-system/coredns-5d78c9869d-4xw7p:53 (ID:102) to-endpoint FORWARDED (UDP)\n"
    );
    // A galaxy that is gone: Hubble's error, and where the address came from.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let gone = closed.local_addr().expect("its address");
    drop(closed);
    write_discovery(&path, gone);
    let (exit, _, err) = hubble_golden::observe(&strings(&["--control-file", &control]));
    assert_eq!(exit, 1);
    let err = String::from_utf8_lossy(&err);
    assert!(
        err.starts_with(&format!("failed to connect to '{gone}': ")),
        "{err}"
    );
    assert!(err.contains("is `galaxia up` still running?"), "{err}");
}
