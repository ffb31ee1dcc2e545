//! Stage 1, accept: one pod's egress listener and the HTTP/1.1 connections on it.

use std::net::SocketAddr;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::Proxy;

/// Accept until `shutdown` flips; each connection gets its own task.
pub async fn run(
    proxy: Proxy,
    pod: usize,
    listener: TcpListener,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
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
                tokio::spawn(connection(
                    proxy.clone(),
                    pod,
                    stream,
                    peer,
                    shutdown.clone(),
                ));
            }
            Err(e) => {
                // EMFILE and friends: back off a little instead of spinning.
                tracing::warn!(error = %e, "egress proxy accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(
    proxy: Proxy,
    pod: usize,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let rx = shutdown.clone();
    let service = service_fn(move |req| {
        let proxy = proxy.clone();
        let rx = rx.clone();
        async move { proxy.handle(pod, peer, req, rx).await }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        // A held (dropped) request ends the connection with an error: expected, not logged.
        _ = conn => {}
        _ = shutdown.wait_for(|s| *s) => {}
    }
}
