//! Fuzz the Death Star's request handling: arbitrary bytes from a client over an in-process
//! connection (`estrela_da_morte::pipe`), through hyper's parser, the router, body reading and
//! the answers. No input may panic the station, wedge it (every connection is answered or closed
//! within 5 s once the client has sent everything), or get an answer outside the statuses the
//! Death Star can give.

#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use estrela_da_morte::Config;
use estrela_da_morte::pipe::{PipeConnector, pipe};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

/// How long one input may take, end to end; the station's own timeouts are longer, and a client
/// that has sent everything and closed its side needs none of them.
const LIMIT: Duration = Duration::from_secs(5);
/// Every so many inputs, a plain landing must still be answered.
const LIVENESS_EVERY: u64 = 1024;
/// Interim and final statuses the station (or hyper for it) can answer with.
const STATUSES: [u16; 10] = [100, 200, 400, 404, 405, 408, 413, 415, 431, 503];
const LANDING: &[u8] =
    b"POST /v1/request-landing HTTP/1.1\r\nHost: d\r\nAccept: */*\r\nConnection: close\r\n\r\n";

struct Harness {
    runtime: Runtime,
    connector: PipeConnector,
}

/// One station for the whole run, on a single-threaded runtime that only runs while an input
/// is being fed: deterministic scheduling, as libFuzzer prefers.
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (connector, listener) = pipe();
        runtime.block_on(async {
            // Loopback ports that nothing connects to: `run_with_pipe` serves them too.
            let demo = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let config = Config {
                host: "127.0.0.1".parse().expect("address"),
                hostname: Some("estrela-fuzz".to_owned()),
                no_explosions: true,
                max_body_bytes: 4096,
                ..Config::default()
            };
            tokio::spawn(estrela_da_morte::run_with_pipe(
                demo,
                listener,
                admin,
                config,
                std::future::pending(),
            ));
        });
        Harness { runtime, connector }
    })
}

/// Sends `input`, closes the sending side, and returns everything the station wrote back.
async fn exchange(connector: &PipeConnector, input: &[u8]) -> Vec<u8> {
    let peer = SocketAddr::from(([127, 0, 0, 1], 4242));
    let stream = connector
        .connect(peer)
        .await
        .expect("the station takes connections");
    let (mut reader, mut writer) = tokio::io::split(stream);
    let send = async {
        // The station may close before reading everything (a refused head): not an error.
        let _ = writer.write_all(input).await;
        let _ = writer.shutdown().await;
    };
    let receive = async {
        let mut out = Vec::new();
        let _ = reader.read_to_end(&mut out).await;
        out
    };
    let ((), out) = tokio::time::timeout(LIMIT, async { tokio::join!(send, receive) })
        .await
        .expect("the station neither answered nor closed the connection in time");
    out
}

/// The status of the first answer in `out`, which must be a whole HTTP/1 head.
fn first_status(out: &[u8]) -> u16 {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(out) {
        Ok(httparse::Status::Complete(_)) => response.code.expect("a parsed status"),
        other => panic!(
            "not a whole HTTP/1 answer ({other:?}): {:?}",
            String::from_utf8_lossy(&out[..out.len().min(200)])
        ),
    }
}

fuzz_target!(|input: &[u8]| {
    static INPUTS: AtomicU64 = AtomicU64::new(0);
    let harness = harness();
    harness.runtime.block_on(async {
        let out = exchange(&harness.connector, input).await;
        if !out.is_empty() {
            let status = first_status(&out);
            assert!(STATUSES.contains(&status), "unexpected status {status}");
        }
        if INPUTS
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(LIVENESS_EVERY)
        {
            let landed = exchange(&harness.connector, LANDING).await;
            assert_eq!(
                first_status(&landed),
                200,
                "the station stopped landing ships"
            );
        }
    });
});
