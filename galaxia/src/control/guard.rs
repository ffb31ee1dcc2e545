//! Who may talk to the control API: a process of the galaxy's user on this machine. Every
//! request must name the API by its loopback address (`Host: 127.0.0.1:PORT`, `localhost:PORT` or
//! `[::1]:PORT`: a page that points a name of its own at 127.0.0.1, DNS rebinding, is refused),
//! must not come from a web page of another origin, and must carry the per-run token that only
//! the discovery file (mode 0600, in the user's own directory) holds.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::views::ErrorBody;

/// What a request must show.
#[derive(Debug, Clone)]
pub struct Access {
    pub token: Arc<str>,
    /// The API's own port, the only one `Host` may name.
    pub port: u16,
}

impl Access {
    /// True when `host` names this API by a loopback name.
    pub fn host_ok(&self, host: &str) -> bool {
        let port = self.port.to_string();
        ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .any(|h| host.strip_prefix(h).and_then(|r| r.strip_prefix(':')) == Some(&port))
    }

    /// True when there is no `Origin` (not a browser), or it is this API itself.
    pub fn origin_ok(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::ORIGIN) {
            None => true,
            Some(o) => o
                .to_str()
                .ok()
                .and_then(|o| o.strip_prefix("http://"))
                .is_some_and(|host| self.host_ok(host)),
        }
    }

    fn token_ok(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| constant_time_eq(t.as_bytes(), self.token.as_bytes()))
    }
}

/// A refusal, as the API answers every error.
fn refuse(why: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::Json(ErrorBody {
            error: why.to_string(),
        }),
    )
        .into_response()
}

/// The check in front of every route.
pub async fn check(State(access): State<Access>, req: Request<Body>, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !access.host_ok(host) {
        return refuse(&format!(
            "the control API answers only to 127.0.0.1:{0}, localhost:{0} or [::1]:{0}, not to Host {host:?}",
            access.port
        ));
    }
    if !access.origin_ok(req.headers()) {
        return refuse("the control API does not take requests from web pages");
    }
    if !access.token_ok(req.headers()) {
        return refuse(
            "missing or wrong token: the verbs read it from the galaxy's discovery file (galaxia up writes it; --control-file or GALAXIA_CONTROL_FILE name it)",
        );
    }
    next.run(req).await
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_with_the_right_port() {
        let a = Access {
            token: Arc::from("t"),
            port: 4242,
        };
        for ok in ["127.0.0.1:4242", "localhost:4242", "[::1]:4242"] {
            assert!(a.host_ok(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:4242",
            "127.0.0.1:4243",
            "127.0.0.1",
            "localhost.evil.example:4242",
            "",
        ] {
            assert!(!a.host_ok(bad), "{bad}");
        }
    }
}
