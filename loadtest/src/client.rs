//! A minimal HTTP/1.1 client connection for throughput: one pre-built request written whole,
//! the answer's head parsed with `httparse`, the body framed by `Content-Length`, chunked
//! encoding or the connection's end, and only its first bytes kept for classification.
//!
//! Why not hyper's client: the run needs nothing of a general client (no header map, no body
//! stream, no pool), and skipping those per-request allocations and the per-connection task
//! hand-off is what lets one generator keep up with the reference server (see README.md).

use std::io;
use std::net::SocketAddr;

use frota::{Failure, Outcome};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The body bytes kept for [`Outcome::from_response`]: enough for Cilium's whole
/// `Access denied\r\n` and the start of the Death Star's panic text.
pub const BODY_PREFIX: usize = 64;
/// An answer head larger than this is refused as malformed.
pub const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;
const READ_CHUNK: usize = 8 * 1024;

/// Why an exchange got no whole HTTP answer; every value is one [`ErrorKind`].
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connect: {0}")]
    Connect(io::Error),
    #[error("write: {0}")]
    Write(io::Error),
    #[error("read: {0}")]
    Read(io::Error),
    #[error("the connection closed before a whole answer")]
    Closed,
    #[error("malformed answer: {0}")]
    Malformed(&'static str),
    #[error("answer head larger than {MAX_HEAD} bytes")]
    HeadTooLarge,
}

/// The kinds of errors the report counts (typed: never by message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// No whole answer before `--timeout`.
    Timeout,
    Connect,
    Write,
    Read,
    /// The peer closed the connection before a whole answer.
    Closed,
    Malformed,
    HeadTooLarge,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Timeout,
        ErrorKind::Connect,
        ErrorKind::Write,
        ErrorKind::Read,
        ErrorKind::Closed,
        ErrorKind::Malformed,
        ErrorKind::HeadTooLarge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Write => "write",
            ErrorKind::Read => "read",
            ErrorKind::Closed => "closed",
            ErrorKind::Malformed => "malformed",
            ErrorKind::HeadTooLarge => "head_too_large",
        }
    }
}

impl ClientError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::Connect(_) => ErrorKind::Connect,
            ClientError::Write(_) => ErrorKind::Write,
            ClientError::Read(_) => ErrorKind::Read,
            ClientError::Closed => ErrorKind::Closed,
            ClientError::Malformed(_) => ErrorKind::Malformed,
            ClientError::HeadTooLarge => ErrorKind::HeadTooLarge,
        }
    }

    /// The shared classification's view of this error.
    pub fn failure(&self) -> Failure {
        match self {
            ClientError::Connect(e) | ClientError::Write(e) | ClientError::Read(e) => {
                Outcome::failure_of_io(e)
            }
            ClientError::Closed => Failure::Reset,
            ClientError::Malformed(_) => Failure::Malformed,
            ClientError::HeadTooLarge => Failure::HeadTooLarge,
        }
    }
}

/// A whole answer, reduced to what classification needs.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    prefix: [u8; BODY_PREFIX],
    prefix_len: usize,
    /// Whether the connection may carry another request.
    pub reusable: bool,
}

impl Answer {
    /// The first [`BODY_PREFIX`] bytes of the body.
    pub fn body_prefix(&self) -> &[u8] {
        &self.prefix[..self.prefix_len]
    }

    pub fn outcome(&self) -> Outcome {
        Outcome::from_response(self.status, self.body_prefix())
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = BODY_PREFIX - self.prefix_len;
        let n = room.min(bytes.len());
        self.prefix[self.prefix_len..self.prefix_len + n].copy_from_slice(&bytes[..n]);
        self.prefix_len += n;
    }
}

/// How the body of the answer being read ends.
enum Body {
    Length(usize),
    ChunkSize,
    ChunkData(usize),
    ChunkEnd,
    Trailers,
    UntilClose,
    Done,
}

/// One open connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> Result<Conn, ClientError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(ClientError::Connect)?;
        // Requests are single small writes; Nagle would only add latency.
        stream.set_nodelay(true).map_err(ClientError::Connect)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(READ_CHUNK),
        })
    }

    async fn fill(&mut self) -> Result<usize, ClientError> {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 2 {
            self.buf.reserve(READ_CHUNK);
        }
        self.stream
            .read_buf(&mut self.buf)
            .await
            .map_err(ClientError::Read)
    }

    /// Send one request and read its whole answer.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<Answer, ClientError> {
        self.stream
            .write_all(request)
            .await
            .map_err(ClientError::Write)?;
        self.buf.clear();
        let (mut answer, mut body, head_len) = loop {
            if self.fill().await? == 0 {
                return Err(ClientError::Closed);
            }
            if let Some(parsed) = parse_head(&self.buf)? {
                break parsed;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ClientError::HeadTooLarge);
            }
        };
        let mut pos = head_len;
        loop {
            let avail = &self.buf[pos..];
            match &mut body {
                Body::Done => break,
                Body::Length(rem) | Body::ChunkData(rem) => {
                    let n = (*rem).min(avail.len());
                    answer.keep(&avail[..n]);
                    pos += n;
                    *rem -= n;
                    if *rem == 0 {
                        body = match body {
                            Body::Length(_) => Body::Done,
                            _ => Body::ChunkEnd,
                        };
                        continue;
                    }
                }
                Body::ChunkSize => match httparse::parse_chunk_size(avail) {
                    Ok(httparse::Status::Complete((used, 0))) => {
                        pos += used;
                        body = Body::Trailers;
                        continue;
                    }
                    Ok(httparse::Status::Complete((used, size))) => {
                        pos += used;
                        let size = usize::try_from(size)
                            .map_err(|_| ClientError::Malformed("chunk size"))?;
                        body = Body::ChunkData(size);
                        continue;
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(_) => return Err(ClientError::Malformed("chunk size")),
                },
                Body::ChunkEnd => {
                    if avail.len() >= 2 {
                        if &avail[..2] != b"\r\n" {
                            return Err(ClientError::Malformed("chunk end"));
                        }
                        pos += 2;
                        body = Body::ChunkSize;
                        continue;
                    }
                }
                Body::Trailers => {
                    if let Some(i) = avail.windows(2).position(|w| w == b"\r\n") {
                        pos += i + 2;
                        if i == 0 {
                            body = Body::Done;
                        }
                        continue;
                    }
                }
                Body::UntilClose => {
                    answer.keep(avail);
                    pos = self.buf.len();
                }
            }
            // Drop what has been consumed so that a long body never grows the buffer.
            self.buf.drain(..pos);
            pos = 0;
            if self.fill().await? == 0 {
                if matches!(body, Body::UntilClose) {
                    answer.reusable = false;
                    break;
                }
                return Err(ClientError::Closed);
            }
        }
        // Bytes after the answer were never asked for: the connection's state is unknown.
        if pos < self.buf.len() {
            answer.reusable = false;
        }
        Ok(answer)
    }
}

/// Parse the head if it is complete: the answer so far, how its body is framed, the head's length.
fn parse_head(buf: &[u8]) -> Result<Option<(Answer, Body, usize)>, ClientError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(ClientError::HeadTooLarge),
        Err(_) => return Err(ClientError::Malformed("status line or header")),
    };
    let status = resp.code.unwrap_or_default();
    let mut reusable = resp.version == Some(1);
    let mut length = None;
    let mut chunked = false;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
                .ok_or(ClientError::Malformed("content-length"))?;
            length = Some(v);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h
                .value
                .split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            for t in h.value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
                if t.eq_ignore_ascii_case(b"close") {
                    reusable = false;
                } else if t.eq_ignore_ascii_case(b"keep-alive") {
                    reusable = true;
                }
            }
        }
    }
    let body = if (100..200).contains(&status) || status == 204 || status == 304 {
        Body::Done
    } else if chunked {
        Body::ChunkSize
    } else if let Some(0) = length {
        Body::Done
    } else if let Some(n) = length {
        Body::Length(n)
    } else {
        reusable = false;
        Body::UntilClose
    };
    let answer = Answer {
        status,
        prefix: [0; BODY_PREFIX],
        prefix_len: 0,
        reusable,
    };
    Ok(Some((answer, body, head_len)))
}
