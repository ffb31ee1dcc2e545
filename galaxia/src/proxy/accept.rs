//! Stage 1, accept: one pod's egress listener and the HTTP/1.1 connections on it. What happens to
//! each request is the caller's `handle` (the later stages).

use std::future::Future;
use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::body::{Held, ProxyBody};

/// Accept until `shutdown` flips; each connection gets its own task, each request goes to
/// `handle(client address, request, shutdown)`.
pub async fn run<H, F>(listener: TcpListener, mut shutdown: watch::Receiver<bool>, handle: H)
where
    H: Fn(SocketAddr, Request<Incoming>, watch::Receiver<bool>) -> F
        + Clone
        + Send
        + Sync
        + 'static,
    F: Future<Output = Result<Response<ProxyBody>, Held>> + Send + 'static,
{
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Small requests and answers: do not let Nagle hold them back.
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, peer, shutdown.clone(), handle.clone()));
            }
            Err(e) => {
                // EMFILE and friends: back off a little instead of spinning.
                tracing::warn!(error = %e, "egress proxy accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection<H, F>(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
    handle: H,
) where
    H: Fn(SocketAddr, Request<Incoming>, watch::Receiver<bool>) -> F
        + Clone
        + Send
        + Sync
        + 'static,
    F: Future<Output = Result<Response<ProxyBody>, Held>> + Send + 'static,
{
    let rx = shutdown.clone();
    let service = service_fn(move |req| handle(peer, req, rx.clone()));
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        // A held (dropped) request ends the connection with an error: expected, not logged.
        _ = conn => {}
        _ = shutdown.wait_for(|s| *s) => {}
    }
}
