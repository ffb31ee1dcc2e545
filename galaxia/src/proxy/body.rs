//! What the proxy answers with: a replica's streamed body or a short local one, and the marker of a
//! request that gets no answer at all.

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::{Response, StatusCode};

/// The body of every answer the proxy gives: a replica's streamed body, or a short local one.
pub type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// Returned instead of an answer when a policy dropped the request: hyper then closes the
/// connection without writing a byte.
#[derive(Debug, thiserror::Error)]
#[error("dropped by policy")]
pub struct Held;

/// A short local answer (a proxy error, not the Death Star's).
pub fn local_answer(status: StatusCode, body: String) -> Response<ProxyBody> {
    let mut resp = Response::new(
        http_body_util::Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    resp
}
