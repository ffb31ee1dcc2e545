//! Stage 3, policy: ask the compiled policy set about the connection (L3/L4) and, where HTTP rules
//! apply, about the request (L7). A drop holds the connection silently; a denial is Envoy's 403.

use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::ProxyBody;
use super::identify::Target;
use crate::galaxy::Shared;
use crate::galaxy::config::DROP_HOLD;
use crate::policy::HttpRequest;

pub use crate::galaxy::policies::Decision;

/// Ask the policy set in force now.
pub fn decide(
    shared: &Shared,
    from: usize,
    to: usize,
    port: u16,
    target: &Target,
    req: &Request<Incoming>,
) -> Decision {
    let request = HttpRequest {
        method: req.method().as_str(),
        path: &target.path,
        host: &target.authority,
        headers: req.headers(),
    };
    shared.policies.current().decide(from, to, port, &request)
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
