//! Stage 1, accept: one pod's egress listener and the HTTP/1.1 connections on it. What a
//! connection is and what happens to each request on it is the [`Handler`]'s (the later stages).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::body::{Held, ProxyBody};

/// The stages after accept.
pub trait Handler: Clone + Send + Sync + 'static {
    /// What the handler keeps for one client connection.
    type Conn: Send + Sync + 'static;

    /// A client connected from `peer`.
    fn open(&self, peer: SocketAddr) -> Self::Conn;

    /// One request on `conn` (by value: the future outlives this call).
    fn handle(
        self,
        conn: Arc<Self::Conn>,
        req: Request<Incoming>,
        shutdown: watch::Receiver<bool>,
    ) -> impl Future<Output = Result<Response<ProxyBody>, Held>> + Send + 'static;

    /// The client's connection ended (closed by either side, or cut).
    fn close(&self, conn: &Self::Conn);
}

/// Accept until `shutdown` flips; each connection gets its own task.
pub async fn run<H: Handler>(
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    handler: H,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Small requests and answers: do not let Nagle hold them back.
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, peer, shutdown.clone(), handler.clone()));
            }
            Err(e) => {
                // EMFILE and friends: back off a little instead of spinning.
                tracing::warn!(error = %e, "egress proxy accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection<H: Handler>(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
    handler: H,
) {
    let conn = Arc::new(handler.open(peer));
    let rx = shutdown.clone();
    let (h, c) = (handler.clone(), Arc::clone(&conn));
    let service = service_fn(move |req| h.clone().handle(Arc::clone(&c), req, rx.clone()));
    let serving = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        // A held (dropped) request ends the connection with an error: expected, not logged.
        _ = serving => {}
        _ = shutdown.wait_for(|s| *s) => {}
    }
    handler.close(&conn);
}
