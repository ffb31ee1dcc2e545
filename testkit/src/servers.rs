//! Servers on `127.0.0.1:0` for tests: the real Death Star, and stand-ins for what a ship meets
//! on the way to it (Cilium's Envoy, an HTTP proxy, a policy drop, a closed port, a server that
//! hangs up). Each runs as tasks of the calling test's tokio runtime.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use clap::Parser as _;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::http::{find, read_request};

/// An ephemeral port on loopback.
async fn bind_loopback() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("the local address of a bound listener");
    (listener, addr)
}

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
    let (demo, _) = bind_loopback().await;
    death_star_on(demo).await
}

/// A Death Star on a given listener (to restart one on the port it had).
pub async fn death_star_on(demo: TcpListener) -> DeathStar {
    let addr = demo
        .local_addr()
        .expect("the Death Star listener's address");
    let (admin, _) = bind_loopback().await;
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
    let (listener, addr) = bind_loopback().await;
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
                rec.lock().unwrap_or_else(PoisonError::into_inner).push(req);
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
    let (listener, addr) = bind_loopback().await;
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
    let (_listener, addr) = bind_loopback().await;
    addr
}

/// A server that reads the request and closes without a byte of answer (curl's exit 52).
pub async fn hangs_up() -> SocketAddr {
    let (listener, addr) = bind_loopback().await;
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    async fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(request).await.expect("write");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        out
    }

    #[tokio::test]
    async fn canned_answers_and_records_and_drops_the_body_after_a_head() {
        let (addr, seen) = canned(crate::consts::LANDED_200).await;
        let got = exchange(addr, b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\nhi").await;
        assert_eq!(got, crate::consts::LANDED_200);
        let got = exchange(addr, b"HEAD / HTTP/1.1\r\n\r\n").await;
        assert!(got.ends_with(b"\r\n\r\n"), "{got:?}");
        let seen = seen.lock().expect("not poisoned");
        assert_eq!(seen[0], b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\nhi");
    }

    #[tokio::test]
    async fn a_hang_up_answers_nothing_and_a_closed_port_refuses() {
        assert_eq!(
            exchange(hangs_up().await, b"GET / HTTP/1.1\r\n\r\n").await,
            b""
        );
        let refused = TcpStream::connect(closed_port().await).await;
        assert!(refused.is_err());
    }

    #[tokio::test]
    async fn the_death_star_lands_ships_and_stops() {
        let mut ds = death_star().await;
        let got = exchange(
            ds.addr,
            b"POST /v1/request-landing HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"), "{got:?}");
        assert!(got.ends_with(estrela_da_morte::wire::LANDED), "{got:?}");
        ds.stop().await;
        assert!(TcpStream::connect(ds.addr).await.is_err());
    }
}
