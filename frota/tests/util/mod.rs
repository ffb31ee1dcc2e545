//! Shared test harness: a real Death Star on 127.0.0.1:0, a server that answers canned bytes
//! (Cilium's Envoy 403, an HTTP proxy stand-in, malformed answers) and records what it got, a
//! listener that never answers (a policy drop), a closed port, a server that closes without
//! answering, one that resets, an upload sink, and a nameserver that never answers.
//! Everything binds on loopback with ephemeral ports. Compiled into caca-tie's and asa-x's tests
//! too (`#[path]`): only crates all three depend on.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Envoy's L7 denial, byte for byte as DESIGN.md describes it (with a fixed date).
pub const ENVOY_403: &[u8] = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 15\r\ncontent-type: text/plain\r\ndate: Thu, 26 Nov 2026 05:00:00 GMT\r\nserver: envoy\r\n\r\nAccess denied\r\n";

/// A landing answer with lowercase headers, as a hyper server sends them.
pub const LANDED_200: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 12\r\ndate: Thu, 26 Nov 2026 05:00:00 GMT\r\n\r\nShip landed\n";

/// A running Death Star; dropping it leaves it running until the runtime ends.
pub struct DeathStar {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl DeathStar {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shut it down and wait until it no longer listens.
    pub async fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// A Death Star with explosions off, on `127.0.0.1:0`.
pub async fn death_star() -> DeathStar {
    let demo = TcpListener::bind("127.0.0.1:0").await.unwrap();
    death_star_on(demo).await
}

/// A Death Star on a given listener (to restart one on the port it had).
pub async fn death_star_on(demo: TcpListener) -> DeathStar {
    let addr = demo.local_addr().unwrap();
    let admin = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = estrela_da_morte::Config::parse_from([
        "estrela-da-morte",
        "--no-explosions",
        "--hostname",
        "estrela-da-morte-test",
        "--drain",
        "0s",
        "--grace",
        "1s",
    ]);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = estrela_da_morte::run(demo, admin, config, async {
            let _ = rx.await;
        })
        .await;
    });
    DeathStar {
        addr,
        stop: Some(tx),
        task: Some(task),
    }
}

/// Requests a [`canned`] server received (head and body, as bytes).
pub type Recorded = Arc<Mutex<Vec<Vec<u8>>>>;

/// A server that answers every request with `response` (without the body after a HEAD) and
/// closes; it records each request.
pub async fn canned(response: &'static [u8]) -> (SocketAddr, Recorded) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let recorded: Recorded = Arc::default();
    let rec = recorded.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                continue;
            };
            let rec = rec.clone();
            tokio::spawn(async move {
                let req = read_request(&mut s).await;
                let head_only = req.starts_with(b"HEAD ");
                rec.lock().unwrap().push(req);
                let out = if head_only {
                    let end = find(response, b"\r\n\r\n").map_or(response.len(), |i| i + 4);
                    &response[..end]
                } else {
                    response
                };
                let _ = s.write_all(out).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (addr, recorded)
}

/// A listener that accepts and never answers: what a dropped packet looks like to the client.
pub async fn silent() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    addr
}

/// A loopback port where nothing listens.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A server that reads the request and closes without a byte of answer (curl's exit 52).
pub async fn hangs_up() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = read_request(&mut s).await;
                drop(s);
            });
        }
    });
    addr
}

/// A server that reads the request and resets the connection (RST): curl's exit 56.
pub async fn resets() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = read_request(&mut s).await;
                // SO_LINGER 0: close sends RST instead of FIN.
                let _ = s.set_zero_linger();
                drop(s);
            });
        }
    });
    addr
}

/// A server that reads whatever comes, forever, and never answers; counts the bytes.
pub async fn sink() -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let got = Arc::new(AtomicU64::new(0));
    let count = got.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 256 * 1024];
                while let Ok(n @ 1..) = s.read(&mut buf).await {
                    count.fetch_add(n as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (addr, got)
}

/// A nameserver on 127.0.0.1 (UDP, ephemeral port) that reads queries and never answers: a
/// cluster DNS that is down. Records the names asked (`nope.`, with the trailing dot).
pub async fn silent_dns() -> (u16, Arc<Mutex<Vec<String>>>) {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = asked.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, _)) = sock.recv_from(&mut buf).await {
            if let Some(name) = query_name(&buf[..n]) {
                log.lock().unwrap().push(name);
            }
        }
    });
    (port, asked)
}

/// The question's name of a DNS query (RFC 1035 4.1: a 12-byte header, then length-prefixed
/// labels).
fn query_name(msg: &[u8]) -> Option<String> {
    let mut i = 12;
    let mut name = String::new();
    loop {
        let len = usize::from(*msg.get(i)?);
        i += 1;
        if len == 0 {
            return Some(if name.is_empty() { ".".into() } else { name });
        }
        name.push_str(&String::from_utf8_lossy(msg.get(i..i + len)?));
        name.push('.');
        i += len;
    }
}

async fn read_request(s: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return buf;
            }
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return buf,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A GET with a fresh connection, returning the whole raw answer (for /metrics).
pub async fn get_raw(addr: SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// The sum of a counter family's samples in Prometheus text, filtered by a label substring.
pub fn sum_metric(text: &str, name: &str, label_filter: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with('{'))
        .filter(|l| l.contains(label_filter))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// The Prometheus text of `registry`.
pub fn metrics_text(registry: &frota::metrics::Registry) -> String {
    String::from_utf8(frota::metrics::render(registry).unwrap()).unwrap()
}

/// A caca-tie patrol of `target` with a mix of every request kind and a summary every 100 ms.
pub fn patrol_config(
    target: String,
    rate: f64,
    timeout: std::time::Duration,
) -> frota::patrol::PatrolConfig {
    let mut c = frota::ClientConfig::new(frota::Identity::caca_tie().named("caca-tie-patrol"));
    c.target = target;
    c.timeout = timeout;
    let mut p = frota::patrol::PatrolConfig::new(c);
    p.rate = rate;
    p.mix = "land=3,info=1,exhaust=1".parse().unwrap();
    p.report_every = Some(std::time::Duration::from_millis(100));
    p
}
