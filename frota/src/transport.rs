//! One HTTP/1.1 exchange on a fresh TCP connection, shared by the ships' client and the curl front
//! end: resolve, connect (directly or to an HTTP proxy, which then gets the absolute-form URL as
//! curl sends it), write the request with headers in the caller's order, read the whole answer.
//!
//! A fresh connection per request is on purpose: every request is a new flow for Hubble, and a
//! policy drop shows up on the SYN of each request rather than once per kept-alive connection.
//!
//! A request body is bytes in memory or a [`RequestBody`] read while it goes out (curl's
//! `-d @file`), so that an endless file costs a buffer, not memory without bound.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

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
    #[error("port number {0:?} is not a decimal number between 0 and 65535")]
    Port(String),
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
        let port = port_of(auth)?;
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

/// The authority's port as curl reads it: none or empty is 80, leading zeros are fine, and
/// anything else that is not a number up to 65535 is refused (`http`'s own `port_u16` gives
/// `None` for 99999, which used to become 80).
fn port_of(auth: &http::uri::Authority) -> Result<u16, UrlError> {
    let after_userinfo = auth.as_str().rsplit('@').next().unwrap_or_default();
    let Some(rest) = after_userinfo.strip_prefix(auth.host()) else {
        return Err(UrlError::Malformed(auth.to_string()));
    };
    let digits = match rest.strip_prefix(':') {
        None if rest.is_empty() => return Ok(80),
        None => return Err(UrlError::Malformed(auth.to_string())),
        Some("") => return Ok(80),
        Some(d) => d,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::Port(digits.to_string()));
    }
    // Leading zeros do not count against the limit ("08" is 8); the rest must fit in a u16.
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    significant
        .parse::<u16>()
        .map_err(|_| UrlError::Port(digits.to_string()))
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
    /// The caller's deadline passed while the name was still being resolved.
    #[error("resolving {host} timed out after {after:?}")]
    ResolveTimeout { host: String, after: Duration },
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
    /// The status line's code is not three digits.
    #[error("malformed answer: the status code is not three digits")]
    BadStatus,
    /// The head could not be parsed: HTTP version, header line, Content-Length.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The body's framing is broken (chunked encoding).
    #[error("malformed answer body: {0}")]
    BadBody(String),
    #[error("the answer's head is too large")]
    HeadTooLarge,
    /// The connection closed in the middle of the body; `remaining` is what Content-Length
    /// still promised.
    #[error("the connection closed before the whole body ({})", match .remaining { Some(n) => format!("{n} bytes missing"), None => "chunked".to_string() })]
    IncompleteBody { remaining: Option<u64> },
    /// A streamed request body (`-d @file`) could not be read.
    #[error(transparent)]
    ReadBody(#[from] BodyReadError),
}

impl TransportError {
    /// The failure class behind [`Outcome::from_failure`].
    pub fn failure(&self) -> Failure {
        match self {
            TransportError::Connect { source, .. } => Outcome::failure_of_io(source),
            TransportError::ConnectTimeout { .. } | TransportError::Timeout(_) => Failure::Timeout,
            TransportError::EmptyReply
            | TransportError::Recv(_)
            | TransportError::Send(_)
            | TransportError::IncompleteBody { .. } => Failure::Reset,
            TransportError::Resolve(_) | TransportError::ResolveTimeout { .. } => Failure::Dns,
            TransportError::BadStatus
            | TransportError::Malformed(_)
            | TransportError::BadBody(_) => Failure::Malformed,
            TransportError::HeadTooLarge => Failure::HeadTooLarge,
            TransportError::BadRequest(_) | TransportError::ReadBody(_) => Failure::Other,
        }
    }

    /// curl's exit code for the same case (curl 7.88's, as Debian 12 ships it).
    pub fn curl_code(&self) -> i32 {
        match self {
            TransportError::Resolve(_) => 6,
            TransportError::Connect { .. } => 7,
            TransportError::ResolveTimeout { .. }
            | TransportError::ConnectTimeout { .. }
            | TransportError::Timeout(_) => 28,
            TransportError::EmptyReply => 52,
            TransportError::Send(_) => 55,
            TransportError::Recv(_) | TransportError::BadBody(_) | TransportError::HeadTooLarge => {
                56
            }
            TransportError::BadRequest(_) => 3,
            TransportError::BadStatus => 1,
            TransportError::Malformed(_) => 8,
            TransportError::IncompleteBody { .. } => 18,
            TransportError::ReadBody(_) => 26,
        }
    }
}

/// A streamed request body could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {what}: {source}")]
pub struct BodyReadError {
    pub what: String,
    #[source]
    pub source: std::io::Error,
}

/// How much of a streamed request body is read (and held) at a time.
const BODY_CHUNK: usize = 64 * 1024;

/// A request body that is read as it goes out: bytes, and readers (a file, stdin) in order.
/// Its size is known only when every part is bytes; hyper sends it chunked otherwise.
pub struct RequestBody {
    parts: VecDeque<BodyPart>,
}

/// One piece of a [`RequestBody`].
pub enum BodyPart {
    Bytes(Bytes),
    Reader {
        reader: Pin<Box<dyn AsyncRead + Send>>,
        /// curl's `-d @file`: carriage returns and newlines are left out.
        strip_newlines: bool,
        /// What the reader reads, for the error.
        what: String,
    },
}

impl std::fmt::Debug for BodyPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyPart::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            BodyPart::Reader { what, .. } => write!(f, "Reader({what})"),
        }
    }
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.parts).finish()
    }
}

impl RequestBody {
    pub fn new(parts: impl IntoIterator<Item = BodyPart>) -> Self {
        RequestBody {
            parts: parts.into_iter().collect(),
        }
    }

    /// The length when it is known before sending (every part in memory).
    pub fn known_len(&self) -> Option<u64> {
        self.parts.iter().try_fold(0u64, |n, p| match p {
            BodyPart::Bytes(b) => Some(n + b.len() as u64),
            BodyPart::Reader { .. } => None,
        })
    }
}

impl From<Bytes> for RequestBody {
    fn from(b: Bytes) -> Self {
        RequestBody::new([BodyPart::Bytes(b)])
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BodyReadError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyReadError>>> {
        loop {
            let Some(part) = self.parts.front_mut() else {
                return Poll::Ready(None);
            };
            match part {
                BodyPart::Bytes(b) => {
                    let b = std::mem::take(b);
                    self.parts.pop_front();
                    if !b.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(b))));
                    }
                }
                BodyPart::Reader {
                    reader,
                    strip_newlines,
                    what,
                } => {
                    let mut buf = vec![0u8; BODY_CHUNK];
                    let mut read = ReadBuf::new(&mut buf);
                    match reader.as_mut().poll_read(cx, &mut read) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(source)) => {
                            let what = what.clone();
                            self.parts.clear();
                            return Poll::Ready(Some(Err(BodyReadError { what, source })));
                        }
                        Poll::Ready(Ok(())) => {
                            let n = read.filled().len();
                            if n == 0 {
                                self.parts.pop_front();
                                continue;
                            }
                            buf.truncate(n);
                            if *strip_newlines {
                                buf.retain(|b| *b != b'\r' && *b != b'\n');
                            }
                            if !buf.is_empty() {
                                return Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))));
                            }
                        }
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        match self.known_len() {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

/// `fut`, unless `deadline` passes first.
async fn before<T>(deadline: Option<Instant>, fut: impl Future<Output = T>) -> Option<T> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, fut).await.ok(),
        None => Some(fut.await),
    }
}

/// Resolve `peer`'s host. The resolver bounds its own time as glibc does; `deadline` (the
/// caller's `--timeout`, curl's `-m` or `--connect-timeout`) may end it sooner, and that is a
/// [`TransportError::ResolveTimeout`]: a name resolution failure, not a drop.
pub async fn resolve(
    resolver: &Resolver,
    peer: &HttpTarget,
    deadline: Option<Instant>,
) -> Result<Vec<SocketAddr>, TransportError> {
    let start = Instant::now();
    match before(deadline, resolver.resolve(peer.bare_host(), peer.port)).await {
        Some(r) => Ok(r?),
        None => Err(TransportError::ResolveTimeout {
            host: peer.bare_host().to_string(),
            after: start.elapsed(),
        }),
    }
}

/// Connect to the first of `addrs` that accepts, by `deadline`.
pub async fn connect_to(
    addrs: Vec<SocketAddr>,
    peer: &HttpTarget,
    deadline: Option<Instant>,
) -> Result<(TcpStream, SocketAddr), TransportError> {
    let attempt = async {
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
    before(deadline, attempt).await.unwrap_or_else(|| {
        Err(TransportError::ConnectTimeout {
            host: peer.bare_host().to_string(),
            port: peer.port,
        })
    })
}

/// Resolve and connect to `peer`, trying each address in turn; `connect_timeout` bounds the whole.
pub async fn connect(
    resolver: &Resolver,
    peer: &HttpTarget,
    connect_timeout: Option<Duration>,
) -> Result<(TcpStream, SocketAddr), TransportError> {
    let deadline = connect_timeout.map(|t| Instant::now() + t);
    let addrs = resolve(resolver, peer, deadline).await?;
    connect_to(addrs, peer, deadline).await
}

/// How large an answer's head may be before it is [`TransportError::HeadTooLarge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Bytes of the head (at least 8192, hyper's smallest read buffer).
    pub bytes: usize,
    pub headers: usize,
    /// Read at most this much at a time. hyper checks `bytes` between reads that double in
    /// size, so without a step a head can pass the limit by up to one read (a 100 KiB head
    /// passes 64 KiB); with 8 KiB steps the cut is within 8 KiB of it, like loadtest's.
    pub step: Option<usize>,
}

impl HeadLimits {
    /// hyper's defaults (about 400 KiB, 100 headers): what [`exchange`] and the curl front end
    /// accept, close to curl's own 100 KiB a header line.
    pub const HYPER: HeadLimits = HeadLimits {
        bytes: 8192 + 4096 * 100,
        headers: 100,
        step: None,
    };
    /// The outcome model's limits ([`crate::outcome::MAX_HEAD_BYTES`], `MAX_HEADERS`), shared
    /// with `loadtest`: the ships' client uses these.
    pub const OUTCOME: HeadLimits = HeadLimits {
        bytes: crate::outcome::MAX_HEAD_BYTES,
        headers: crate::outcome::MAX_HEADERS,
        step: Some(8192),
    };
}

/// A stream whose reads return at most `step` bytes (see [`HeadLimits::step`]).
struct Stepped {
    inner: TcpStream,
    step: Option<usize>,
    /// The `step`-sized buffer reads go through, allocated on the first read.
    local: Vec<u8>,
}

impl AsyncRead for Stepped {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.step {
            Some(step) if buf.remaining() > step => {
                // Through a small buffer of our own: a narrower view of `buf` would need
                // unsafe code to report what was written into it.
                let this = &mut *self;
                this.local.resize(step, 0);
                let mut small = ReadBuf::new(&mut this.local);
                let r = Pin::new(&mut this.inner).poll_read(cx, &mut small);
                if let Poll::Ready(Ok(())) = r {
                    buf.put_slice(small.filled());
                }
                r
            }
            _ => Pin::new(&mut self.inner).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Stepped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Send `out` on `stream` and read the whole answer. The caller bounds the time.
pub async fn exchange(stream: TcpStream, out: &Outgoing) -> Result<Incoming, TransportError> {
    exchange_with(
        stream,
        out,
        RequestBody::from(out.body.clone()),
        HeadLimits::HYPER,
    )
    .await
}

/// [`exchange`] with `body` instead of `out.body` (a body that is read while it is sent) and
/// with `limits` on the answer's head.
pub async fn exchange_with(
    stream: TcpStream,
    out: &Outgoing,
    body: RequestBody,
    limits: HeadLimits,
) -> Result<Incoming, TransportError> {
    let mut req = http::Request::builder()
        .method(out.method.clone())
        .uri(out.request_target())
        .body(body)
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
        .max_buf_size(limits.bytes.max(8192))
        .max_headers(limits.headers)
        .handshake::<_, RequestBody>(TokioIo::new(Stepped {
            inner: stream,
            step: limits.step,
            local: Vec::new(),
        }))
        .await
        .map_err(|e| map_hyper(&e))?;
    let driver = tokio::spawn(conn);
    let _abort = AbortOnDrop(driver);
    let resp = sender.send_request(req).await.map_err(|e| map_hyper(&e))?;
    let (parts, mut body) = resp.into_parts();
    let reason = parts
        .extensions
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .or_else(|| parts.status.canonical_reason().map(str::to_string))
        .unwrap_or_default();
    // Frame by frame, to know how much of a promised Content-Length was missing.
    let promised = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut received = BytesMut::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(data) = f.into_data() {
                    received.extend_from_slice(&data);
                }
            }
            Err(e) => {
                return Err(match map_hyper(&e) {
                    TransportError::Recv(_) if is_eof(&e) => TransportError::IncompleteBody {
                        remaining: promised.map(|p| p.saturating_sub(received.len() as u64)),
                    },
                    other => other,
                });
            }
        }
    }
    Ok(Incoming {
        version: parts.version,
        status: parts.status,
        reason,
        headers: parts.headers,
        body: received.freeze(),
    })
}

struct AbortOnDrop(tokio::task::JoinHandle<Result<(), hyper::Error>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The errors `e` was caused by, itself first.
fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source())
}

fn is_eof(e: &hyper::Error) -> bool {
    chain(e)
        .filter_map(|s| s.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::UnexpectedEof)
}

/// An I/O error's text without Rust's ` (os error N)` suffix, as curl prints strerror.
pub fn io_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .map_or_else(|| text.clone(), str::to_string),
        None => text,
    }
}

/// hyper's error as one of ours, by hyper's own predicates and the error types in its chain.
fn map_hyper(e: &hyper::Error) -> TransportError {
    // Our own body's read error comes back through hyper: it is not the peer's fault.
    for s in chain(e) {
        if let Some(b) = s.downcast_ref::<BodyReadError>() {
            return TransportError::ReadBody(BodyReadError {
                what: b.what.clone(),
                source: std::io::Error::new(b.source.kind(), io_message(&b.source)),
            });
        }
    }
    if e.is_parse_too_large() {
        return TransportError::HeadTooLarge;
    }
    if e.is_parse_status() {
        return TransportError::BadStatus;
    }
    if e.is_parse() {
        return TransportError::Malformed(e.to_string());
    }
    if let Some(io) = chain(e).find_map(|s| s.downcast_ref::<std::io::Error>()) {
        return match io.kind() {
            std::io::ErrorKind::BrokenPipe => TransportError::Send(io_message(io)),
            // hyper's body decoder says so for a broken chunked encoding.
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
                TransportError::BadBody(io_message(io))
            }
            _ => TransportError::Recv(io_message(io)),
        };
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

    #[test]
    fn ports_as_curl_reads_them() {
        let port = |u: &str| HttpTarget::parse(u).map(|t| t.port);
        assert_eq!(port("127.0.0.1:65535"), Ok(65535));
        assert_eq!(port("127.0.0.1:08"), Ok(8));
        assert_eq!(port("http://127.0.0.1:/"), Ok(80));
        assert_eq!(port("[::1]:0"), Ok(0));
        assert_eq!(port("http://u:p@127.0.0.1:81/"), Ok(81));
        assert_eq!(port("127.0.0.1:99999"), Err(UrlError::Port("99999".into())));
        assert_eq!(port("127.0.0.1:65536"), Err(UrlError::Port("65536".into())));
        assert_eq!(port("[::1]:99999/"), Err(UrlError::Port("99999".into())));
        assert!(port("127.0.0.1:999999999999999999999").is_err());
    }
}
