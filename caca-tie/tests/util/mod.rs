//! What only caca-tie's tests use, on loopback: a server that resets, an upload sink, a
//! nameserver that never answers, and a raw GET. The harness every ship's tests share (the Death
//! Star, canned and faulty servers, the canned answers) is the `testkit` crate.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use testkit::http::read_request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

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
