//! Stage 3, policy: ask the policy engine about the connection (L3/L4) and, where HTTP rules
//! apply, about the request (L7). A drop holds the connection silently; a denial is Envoy's 403.

use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::{Response, StatusCode};
use politica::{ConnectionReason, Engine, HttpReason, HttpRequest, L7Verdict, Protocol};

use super::body::ProxyBody;
use crate::config::DROP_HOLD;
use crate::flows::Decided;
use crate::state::Pod;

/// What the proxy does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// L3/L4 drop: nothing goes back, as Cilium drops the SYN.
    Drop(ConnectionReason),
    /// L7 denial: Envoy's `403 Access denied`.
    Deny(HttpReason),
    /// On to the backend; `l7` when HTTP rules were checked (the request went "through Envoy").
    Forward { l7: bool, reason: Decided },
}

/// Ask `engine` about a request from `src` to container `port` of `dst`. The L3/L4 verdict is
/// per connection in Cilium; the proxy asks per request, which is the same thing for the ships
/// (a fresh connection per request) and makes a policy change felt from the very next request.
pub fn decide(
    engine: &Engine,
    src: &Pod,
    dst: &Pod,
    port: u16,
    request: &HttpRequest<'_>,
) -> Decision {
    let conn = engine.connection(src.endpoint, dst.endpoint, port, Protocol::Tcp);
    let l7 = conn.l7.is_some();
    match conn.http(request) {
        None => Decision::Drop(conn.reason),
        Some(_) if !l7 => Decision::Forward {
            l7: false,
            reason: Decided::Connection(conn.reason),
        },
        Some(v) => match v.verdict {
            L7Verdict::Forwarded => Decision::Forward {
                l7: true,
                reason: Decided::Http(v.reason),
            },
            L7Verdict::Denied => Decision::Deny(v.reason),
        },
    }
}

/// Hold a dropped request: answer nothing until the client gives up (hyper notices the close and
/// drops this future), the galaxy stops, or [`DROP_HOLD`] passes.
pub async fn hold(mut shutdown: tokio::sync::watch::Receiver<bool>) {
    tokio::select! {
        _ = tokio::time::sleep(DROP_HOLD) => {}
        _ = shutdown.wait_for(|s| *s) => {}
    }
}

/// Cilium's L7 denial, exactly as its Envoy writes it: the only place that does.
pub fn access_denied() -> Response<ProxyBody> {
    let body = frota::outcome::ACCESS_DENIED_BODY;
    let mut resp = Response::new(
        http_body_util::Full::new(Bytes::from_static(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = StatusCode::FORBIDDEN;
    let h = resp.headers_mut();
    // Envoy's header order; hyper writes them as inserted.
    h.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(body.len()),
    );
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    if let Ok(date) = http::HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now())) {
        h.insert(http::header::DATE, date);
    }
    h.insert(
        http::header::SERVER,
        http::HeaderValue::from_static("envoy"),
    );
    resp
}
