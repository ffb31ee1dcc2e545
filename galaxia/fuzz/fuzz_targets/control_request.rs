//! Fuzz the control API (what `galaxia get`, `apply`, `delete` talk to): bytes through hyper's
//! HTTP/1 parser into the API's router, over an in-memory connection, against the book's galaxy as
//! state only (nothing runs, nothing is dialled). The first byte picks the frame: the raw bytes as
//! they are (the guard's Host, Origin and token checks see them), or a signed request whose body or
//! path is the rest (the handlers, manifest loading and policy changes see it). No input may panic
//! or hang; applied policies accumulate, as they would in a galaxy.

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use galaxia::control::api::{Access, app};
use galaxia::control::routes;
use galaxia::manifest::{book, load_str};
use galaxia::state::Cluster;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PORT: u16 = 4242;
const TOKEN: &str = "fuzz-token";

struct World {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let m = load_str(book::STARWARS, "starwars.yml").expect("the book's manifests load");
        let addr: std::net::SocketAddr = "127.0.0.1:9".parse().expect("an address");
        let pods = m.pods().iter().map(|p| (p.clone(), addr)).collect();
        let cluster = Cluster::new(
            &m.cluster(),
            pods,
            m.services().to_vec(),
            Some(4095),
            SystemTime::now(),
        )
        .expect("the book's cluster");
        let access = Access {
            token: Arc::from(TOKEN),
            port: PORT,
        };
        World {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime"),
            router: app(Arc::new(cluster), access),
        }
    })
}

fn signed(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

fuzz_target!(|data: &[u8]| {
    let Some((&frame, rest)) = data.split_first() else {
        return;
    };
    let bytes = match frame % 4 {
        0 => rest.to_vec(),
        1 => signed("POST", routes::APPLY, rest),
        2 => signed("POST", routes::DELETE, rest),
        _ => {
            let path = String::from_utf8_lossy(rest);
            signed("GET", path.split_whitespace().next().unwrap_or("/"), b"")
        }
    };
    let w = world();
    w.rt.block_on(async {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let service = TowerToHyperService::new(w.router.clone());
        let conn = tokio::spawn(
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(server), service),
        );
        let exchange = async {
            client.write_all(&bytes).await.ok();
            client.shutdown().await.ok();
            let mut answer = Vec::new();
            client.read_to_end(&mut answer).await.ok();
        };
        // A request the server is still waiting on ends with the client's close.
        let _ = tokio::time::timeout(Duration::from_secs(5), exchange).await;
        conn.abort();
    });
});
