//! Stage 4, forward: send the request to the chosen replica over a keep-alive pool and stream the
//! answer back. Bodies stream both ways; hop-by-hop headers stop here, as at any proxy.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use super::body::{ProxyBody, local_answer};
use crate::config::{UPSTREAM_CONNECT, UPSTREAM_MAX_IDLE};
use crate::state::Backend;

/// Headers that belong to one hop (RFC 9110 7.6.1, plus the proxy ones curl sends).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
];

/// One idle keep-alive connection to a replica.
type Sender = hyper::client::conn::http1::SendRequest<Incoming>;

/// The connection pool to every replica: idle HTTP/1.1 connections by the replica's address (a
/// restarted replica has a new pipe; the old run's connections are closed and skipped). Leaner than a
/// general-purpose client (no URI rewriting rules, no connect racing): a connection goes back to
/// the pool when its response body has been passed on, and a stale one (its replica exploded) is
/// noticed before the request is sent, so the request goes out on a fresh connection instead.
#[derive(Clone, Debug, Default)]
pub struct Upstream {
    idle: Arc<Mutex<HashMap<SocketAddr, Vec<Sender>>>>,
}

/// Why no connection to a replica could be had.
#[derive(Debug, thiserror::Error)]
enum ConnectError {
    #[error("connecting to {0} timed out")]
    Timeout(SocketAddr),
    #[error("connecting")]
    Io(#[from] std::io::Error),
    #[error("HTTP handshake")]
    Http(#[from] hyper::Error),
}

impl Upstream {
    pub fn new() -> Self {
        Self::default()
    }

    fn checkout(&self, addr: SocketAddr) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(&addr)?;
        while let Some(s) = list.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    fn checkin(&self, addr: SocketAddr, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.entry(addr).or_default();
        if list.len() < UPSTREAM_MAX_IDLE {
            list.push(sender);
        }
    }

    /// A new connection to `backend`: in-process when the replica offers a pipe (no trip through
    /// the kernel), else TCP to where its port listens.
    async fn connect(backend: &Backend) -> Result<Sender, ConnectError> {
        let addr = backend.addr;
        let sender = match &backend.pipe {
            Some(pipe) => {
                // The replica logs this as the client's address: the proxy has none of its own.
                let peer = SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
                let stream = tokio::time::timeout(UPSTREAM_CONNECT, pipe.connect(peer))
                    .await
                    .map_err(|_| ConnectError::Timeout(addr))??;
                Self::handshake(stream).await?
            }
            None => {
                let stream =
                    tokio::time::timeout(UPSTREAM_CONNECT, tokio::net::TcpStream::connect(addr))
                        .await
                        .map_err(|_| ConnectError::Timeout(addr))??;
                stream.set_nodelay(true)?;
                Self::handshake(stream).await?
            }
        };
        Ok(sender)
    }

    async fn handshake<S>(stream: S) -> Result<Sender, hyper::Error>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the replica closes the connection (idle timeout, explosion) or the
            // sender is dropped; either way there is nobody left to tell.
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// A connection ready for a request: an idle one that is still alive, else a new one.
    async fn ready(&self, backend: &Backend) -> Result<Sender, ConnectError> {
        while let Some(mut s) = self.checkout(backend.addr) {
            if s.ready().await.is_ok() {
                return Ok(s);
            }
        }
        let mut s = Self::connect(backend).await?;
        s.ready().await?;
        Ok(s)
    }

    /// Forward `req` to `backend`. A failure becomes Envoy's 503, as a client behind Cilium sees it.
    pub async fn send(
        &self,
        mut req: Request<Incoming>,
        backend: &Backend,
        via_envoy: bool,
    ) -> Response<ProxyBody> {
        let addr = backend.addr;
        // The Host header keeps the name the client used; only the connection goes to `addr`.
        if !req.headers().contains_key(http::header::HOST)
            && let Some(a) = req.uri().authority()
            && let Ok(v) = http::HeaderValue::from_str(a.as_str())
        {
            req.headers_mut().insert(http::header::HOST, v);
        }
        // Origin-form on the wire to the replica (the path is shared, not copied).
        let mut origin_form = http::uri::Parts::default();
        origin_form.path_and_query = Some(
            req.uri()
                .path_and_query()
                .cloned()
                .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/")),
        );
        match http::Uri::from_parts(origin_form) {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => {
                return local_answer(
                    StatusCode::BAD_REQUEST,
                    "galaxia: bad request path\n".into(),
                );
            }
        }
        strip_hop_by_hop(req.headers_mut());
        let mut sender = match self.ready(backend).await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, %addr, "no connection to the replica");
                return upstream_failure();
            }
        };
        match sender.send_request(req).await {
            Ok(resp) => {
                let (mut parts, body) = resp.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                if via_envoy {
                    parts.headers.insert(
                        http::header::SERVER,
                        http::HeaderValue::from_static("envoy"),
                    );
                }
                let body = Returning::new(body, sender, self.clone(), addr);
                Response::from_parts(parts, body.boxed())
            }
            Err(e) => {
                tracing::debug!(error = %e, %addr, "upstream request failed");
                upstream_failure()
            }
        }
    }
}

/// Envoy's words when the replica went away under a request.
fn upstream_failure() -> Response<ProxyBody> {
    local_answer(
        StatusCode::SERVICE_UNAVAILABLE,
        "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
            .into(),
    )
}

/// A replica's response body on its way to the client; its connection goes back to the pool once
/// the body has ended (dropped early, the connection is closed instead: its state is unknown).
struct Returning {
    inner: Incoming,
    back: Option<(Sender, Upstream, SocketAddr)>,
}

impl Returning {
    fn new(inner: Incoming, sender: Sender, pool: Upstream, addr: SocketAddr) -> Self {
        let mut r = Returning {
            inner,
            back: Some((sender, pool, addr)),
        };
        if r.inner.is_end_stream() {
            r.finish();
        }
        r
    }

    fn finish(&mut self) {
        if let Some((sender, pool, addr)) = self.back.take() {
            pool.checkin(addr, sender);
        }
    }
}

impl Body for Returning {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => this.finish(),
            Poll::Ready(Some(Err(_))) => this.back = None,
            _ if this.inner.is_end_stream() => this.finish(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn strip_hop_by_hop(headers: &mut http::HeaderMap) {
    // Names listed in Connection are hop-by-hop too (most requests have none: no allocation then).
    let listed: Vec<http::HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| http::HeaderName::from_bytes(s.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    for name in listed {
        headers.remove(name);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::state::PodId;

    #[test]
    fn hop_by_hop_headers_stop_here() {
        let mut h = http::HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, x-trace"),
            ("keep-alive", "timeout=5"),
            ("proxy-connection", "keep-alive"),
            ("x-trace", "1"),
            ("te", "trailers"),
            ("host", "estrela-da-morte"),
            ("accept", "*/*"),
        ] {
            h.append(k, v.parse().unwrap());
        }
        strip_hop_by_hop(&mut h);
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["accept", "host"]);
    }

    /// A proxy of one route: every request on `listener` goes to `backend` through `Upstream`.
    async fn proxy_to(backend: Backend, via_envoy: bool) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let pool = Upstream::new();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (pool, backend) = (pool.clone(), backend.clone());
                let service = hyper::service::service_fn(move |req| {
                    let (pool, backend) = (pool.clone(), backend.clone());
                    async move {
                        Ok::<_, std::convert::Infallible>(pool.send(req, &backend, via_envoy).await)
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        addr
    }

    /// One request through the proxy; the answer's raw bytes (the connection is closed after).
    async fn roundtrip(proxy: std::net::SocketAddr, request: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(proxy).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn a_gone_replica_is_envoys_503() {
        // A port nothing listens on: bound, noted, closed.
        let gone = {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap()
        };
        let backend = Backend {
            pod: PodId(0),
            port: 80,
            addr: gone,
            pipe: None,
        };
        let proxy = proxy_to(backend, true).await;
        let answer = roundtrip(
            proxy,
            "POST http://estrela-da-morte/v1/request-landing HTTP/1.1\r\nHost: estrela-da-morte\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{answer}"
        );
        assert!(answer.contains("content-type: text/plain\r\n"), "{answer}");
        assert!(
            answer.ends_with("\r\n\r\nupstream connect error or disconnect/reset before headers. reset reason: connection failure"),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn forwards_origin_form_over_a_pipe_or_tcp_and_says_envoy_on_l7() {
        let demo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let demo_addr = demo.local_addr().unwrap();
        let (connector, pipe) = estrela_da_morte::pipe::pipe();
        let config = estrela_da_morte::Config {
            host: std::net::Ipv4Addr::LOCALHOST.into(),
            port: demo_addr.port(),
            hostname: Some("estrela-da-morte-0".into()),
            drain: std::time::Duration::ZERO,
            ..estrela_da_morte::Config::default()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(estrela_da_morte::run_with_pipe(
            demo,
            pipe,
            admin,
            config,
            async move {
                let _ = stopped.await;
            },
        ));
        for (pipe, via_envoy) in [(Some(connector.clone()), true), (None, false)] {
            let backend = Backend {
                pod: PodId(0),
                port: 80,
                addr: demo_addr,
                pipe,
            };
            let proxy = proxy_to(backend, via_envoy).await;
            let answer = roundtrip(
                proxy,
                "POST http://estrela-da-morte.default.svc.cluster.local/v1/request-landing HTTP/1.1\r\nHost: estrela-da-morte.default.svc.cluster.local\r\nProxy-Connection: keep-alive\r\nConnection: close\r\n\r\n",
            )
            .await;
            assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
            assert!(answer.ends_with("\r\n\r\nShip landed\n"), "{answer}");
            assert_eq!(
                answer.to_ascii_lowercase().contains("server: envoy\r\n"),
                via_envoy,
                "{answer}"
            );
        }
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}
