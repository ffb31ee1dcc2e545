//! One HTTP/1.1 exchange on a fresh TCP connection, shared by the ships' client and the curl front
//! end: resolve, connect (directly or to an HTTP proxy, which then gets the absolute-form URL as
//! curl sends it), write the request with headers in the caller's order, read the whole answer.
//!
//! A fresh connection per request is on purpose: every request is a new flow for Hubble, and a
//! policy drop shows up on the SYN of each request rather than once per kept-alive connection.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::outcome::{Failure, Outcome};
use crate::resolve::{ResolveError, Resolver};

/// The default Death Star URL inside the cluster.
pub const DEFAULT_TARGET: &str = "http://estrela-da-morte.default.svc.cluster.local";

/// Where a request goes: an `http://` URL split into what the connection and the request need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    /// Host as written (IPv6 literals keep their brackets).
    pub host: String,
    pub port: u16,
    /// What the Host header carries: host, plus `:port` when it is not 80.
    pub authority: String,
    /// Path and query, at least `/`.
    pub path_and_query: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("unsupported protocol {0:?}: only http:// is supported")]
    Scheme(String),
    #[error("malformed URL {0:?}")]
    Malformed(String),
}

impl HttpTarget {
    /// Parse a URL; like curl, a URL without a scheme is `http://`.
    pub fn parse(url: &str) -> Result<HttpTarget, UrlError> {
        let url = url.trim();
        let with_scheme = if url.contains("://") {
            url.to_string()
        } else {
            format!("http://{url}")
        };
        let uri: http::Uri = with_scheme
            .parse()
            .map_err(|_| UrlError::Malformed(url.to_string()))?;
        match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => {}
            Some(s) => return Err(UrlError::Scheme(s.to_string())),
            None => return Err(UrlError::Malformed(url.to_string())),
        }
        let auth = uri
            .authority()
            .ok_or_else(|| UrlError::Malformed(url.to_string()))?;
        let host = auth.host().to_string();
        if host.is_empty() {
            return Err(UrlError::Malformed(url.to_string()));
        }
        let port = auth.port_u16().unwrap_or(80);
        let authority = if port == 80 {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        let path_and_query = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/".to_string());
        let path_and_query = if path_and_query.starts_with('/') {
            path_and_query
        } else {
            format!("/{path_and_query}")
        };
        Ok(HttpTarget {
            host,
            port,
            authority,
            path_and_query,
        })
    }

    /// The same server with another path (the ships' kinds on a configured base URL).
    pub fn with_path(&self, path: &str) -> HttpTarget {
        let base = self.path_and_query.trim_end_matches('/');
        let base = if base.contains('?') { "" } else { base };
        HttpTarget {
            path_and_query: format!("{base}{path}"),
            ..self.clone()
        }
    }

    /// `http://authority/path`: the request target sent to a proxy.
    pub fn absolute(&self) -> String {
        format!("http://{}{}", self.authority, self.path_and_query)
    }

    /// The host without IPv6 brackets, for name resolution and no_proxy matching.
    pub fn bare_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }
}

/// A request ready to send; headers go out in this order.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: Method,
    pub target: HttpTarget,
    /// An HTTP proxy to send the request through, if any.
    pub proxy: Option<HttpTarget>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Outgoing {
    /// The request line's target: absolute-form through a proxy, origin-form otherwise.
    pub fn request_target(&self) -> String {
        match self.proxy {
            Some(_) => self.target.absolute(),
            None => self.target.path_and_query.clone(),
        }
    }

    /// The host and port the TCP connection goes to.
    pub fn peer(&self) -> &HttpTarget {
        self.proxy.as_ref().unwrap_or(&self.target)
    }
}

/// The whole answer.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub version: Version,
    pub status: StatusCode,
    /// The reason phrase as received when hyper kept it, else the canonical one.
    pub reason: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why an exchange got no answer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("failed to connect to {host} port {port}: {source}")]
    Connect {
        host: String,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("connection to {host} port {port} timed out")]
    ConnectTimeout { host: String, port: u16 },
    #[error("operation timed out after {0:?} with no complete answer")]
    Timeout(Duration),
    #[error("empty reply from server")]
    EmptyReply,
    #[error("failure when receiving data from the peer: {0}")]
    Recv(String),
    #[error("failure when sending data to the peer: {0}")]
    Send(String),
    #[error("bad request: {0}")]
    BadRequest(String),
}

impl TransportError {
    /// The failure class behind [`Outcome::from_failure`].
    pub fn failure(&self) -> Failure {
        match self {
            TransportError::Connect { source, .. } => Outcome::failure_of_io(source),
            TransportError::ConnectTimeout { .. } | TransportError::Timeout(_) => Failure::Timeout,
            TransportError::EmptyReply | TransportError::Recv(_) | TransportError::Send(_) => {
                Failure::Reset
            }
            TransportError::Resolve(_) | TransportError::BadRequest(_) => Failure::Other,
        }
    }

    /// curl's exit code for the same case.
    pub fn curl_code(&self) -> i32 {
        match self {
            TransportError::Resolve(_) => 6,
            TransportError::Connect { .. } => 7,
            TransportError::ConnectTimeout { .. } | TransportError::Timeout(_) => 28,
            TransportError::EmptyReply => 52,
            TransportError::Send(_) => 55,
            TransportError::Recv(_) => 56,
            TransportError::BadRequest(_) => 3,
        }
    }
}

/// Resolve and connect to `peer`, trying each address in turn; `connect_timeout` bounds the whole.
pub async fn connect(
    resolver: &Resolver,
    peer: &HttpTarget,
    connect_timeout: Option<Duration>,
) -> Result<(TcpStream, SocketAddr), TransportError> {
    let attempt = async {
        let addrs = resolver.resolve(peer.bare_host(), peer.port).await?;
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    // Small requests: do not wait for Nagle.
                    let _ = s.set_nodelay(true);
                    return Ok((s, addr));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(TransportError::Connect {
            host: peer.bare_host().to_string(),
            port: peer.port,
            source: last.unwrap_or_else(|| std::io::Error::other("no address to connect to")),
        })
    };
    match connect_timeout {
        Some(t) => tokio::time::timeout(t, attempt).await.unwrap_or_else(|_| {
            Err(TransportError::ConnectTimeout {
                host: peer.bare_host().to_string(),
                port: peer.port,
            })
        }),
        None => attempt.await,
    }
}

/// Send `out` on `stream` and read the whole answer. The caller bounds the time.
pub async fn exchange(stream: TcpStream, out: &Outgoing) -> Result<Incoming, TransportError> {
    let mut req = http::Request::builder()
        .method(out.method.clone())
        .uri(out.request_target())
        .body(Full::new(out.body.clone()))
        .map_err(|e| TransportError::BadRequest(e.to_string()))?;
    let headers = req.headers_mut();
    for (name, value) in &out.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| TransportError::BadRequest(format!("bad header name {name:?}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| TransportError::BadRequest(format!("bad header value {value:?}")))?;
        headers.append(name, value);
    }
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        // curl writes `Host:`, `User-Agent:`: title case looks the same on the wire.
        .title_case_headers(true)
        .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|e| map_hyper(&e))?;
    let driver = tokio::spawn(conn);
    let _abort = AbortOnDrop(driver);
    let resp = sender.send_request(req).await.map_err(|e| map_hyper(&e))?;
    let (parts, body) = resp.into_parts();
    let reason = parts
        .extensions
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .or_else(|| parts.status.canonical_reason().map(str::to_string))
        .unwrap_or_default();
    let body = body.collect().await.map_err(|e| map_hyper(&e))?.to_bytes();
    Ok(Incoming {
        version: parts.version,
        status: parts.status,
        reason,
        headers: parts.headers,
        body,
    })
}

struct AbortOnDrop(tokio::task::JoinHandle<Result<(), hyper::Error>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn map_hyper(e: &hyper::Error) -> TransportError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::BrokenPipe => TransportError::Send(io.to_string()),
                _ => TransportError::Recv(io.to_string()),
            };
        }
        source = s.source();
    }
    if e.is_incomplete_message() {
        TransportError::EmptyReply
    } else {
        TransportError::Recv(e.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_like_curl() {
        let t = HttpTarget::parse("127.0.0.1:8080/v1/request-landing").unwrap();
        assert_eq!(t.authority, "127.0.0.1:8080");
        assert_eq!(t.path_and_query, "/v1/request-landing");
        let t = HttpTarget::parse("http://estrela-da-morte.default.svc.cluster.local").unwrap();
        assert_eq!(t.port, 80);
        assert_eq!(t.path_and_query, "/");
        assert_eq!(
            t.with_path("/v1").absolute(),
            "http://estrela-da-morte.default.svc.cluster.local/v1"
        );
        assert!(matches!(
            HttpTarget::parse("https://x"),
            Err(UrlError::Scheme(_))
        ));
    }
}
