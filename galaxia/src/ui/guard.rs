//! What every request to the UI passes first, because the port is reachable by any page the
//! user's browser opens and by any user of a shared machine.
//!
//! - `Host` must name the loopback address or `localhost` with the UI's own port: a DNS rebinding
//!   page (`evil.example` resolving to 127.0.0.1) reaches the socket but sends its own name, so it
//!   is refused before it can read the galaxy's flows.
//! - An `Origin` (or `Sec-Fetch-Site: cross-site`) from another site is refused, for every method:
//!   the page never needs a cross-site request, and refusing them all means no state-changing
//!   request from a foreign page gets through should one ever be added.
//! - Only GET and HEAD: the UI is read-only; changes go through the verbs and the control API.
//!
//! Every answer, refusals included, carries a strict Content-Security-Policy (the page's own
//! scripts and styles only, connections to itself only) and no framing.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The page's Content-Security-Policy: everything from the galaxia binary itself.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Why a request was turned away (the body says so, for whoever reads it in a terminal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `Host`, or a name other than 127.0.0.1 or localhost with our port.
    Host(String),
    /// An `Origin` of another site, or a browser's word that the request is cross-site.
    Origin(String),
    /// A method other than GET or HEAD.
    Method(Method),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Host(h) => (
                StatusCode::FORBIDDEN,
                format!(
                    "galaxia ui: refused: Host {h:?} is not this UI's loopback address (open http://127.0.0.1:PORT or http://localhost:PORT)\n"
                ),
            )
                .into_response(),
            Refusal::Origin(o) => (
                StatusCode::FORBIDDEN,
                format!("galaxia ui: refused: cross-site request from {o:?}\n"),
            )
                .into_response(),
            Refusal::Method(m) => (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, HEAD")],
                format!("galaxia ui: {m} is not allowed: the UI is read-only\n"),
            )
                .into_response(),
        }
    }
}

/// The names a browser on this machine may use for the UI on `port`.
fn loopback_host(host: &str, port: u16) -> bool {
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    p.parse::<u16>().ok() == Some(port)
        && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
}

/// The origins of the page itself.
fn own_origin(origin: &str, port: u16) -> bool {
    origin
        .strip_prefix("http://")
        .is_some_and(|h| loopback_host(h, port))
}

/// The whole decision, apart from the plumbing, for tests.
pub fn decide(method: &Method, headers: &HeaderMap, port: u16) -> Result<(), Refusal> {
    let host = headers
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
    match &host {
        Some(h) if loopback_host(h, port) => {}
        _ => return Err(Refusal::Host(host.unwrap_or_default())),
    }
    if let Some(o) = headers.get(header::ORIGIN) {
        let o = String::from_utf8_lossy(o.as_bytes()).into_owned();
        if !own_origin(&o, port) {
            return Err(Refusal::Origin(o));
        }
    }
    if headers
        .get("sec-fetch-site")
        .is_some_and(|s| s.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return Err(Refusal::Origin("Sec-Fetch-Site: cross-site".into()));
    }
    if method != Method::GET && method != Method::HEAD {
        return Err(Refusal::Method(method.clone()));
    }
    Ok(())
}

/// The middleware: refuse, or pass on; either way with the security headers.
pub async fn check(State(port): State<u16>, req: Request, next: Next) -> Response {
    let mut resp = match decide(req.method(), req.headers(), port) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            tracing::debug!(?refusal, "ui request refused");
            refusal.into_response()
        }
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    resp
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn only_loopback_names_with_our_port_pass() {
        let get = Method::GET;
        for ok in ["127.0.0.1:12000", "localhost:12000", "LocalHost:12000"] {
            assert_eq!(
                decide(&get, &headers(&[("host", ok)]), 12000),
                Ok(()),
                "{ok}"
            );
        }
        for bad in [
            "evil.example",
            "evil.example:12000",
            "127.0.0.1",
            "127.0.0.1:12001",
            "localhost.evil.example:12000",
            "127.0.0.2:12000",
            "[::1]:12000",
            "",
        ] {
            assert!(
                matches!(
                    decide(&get, &headers(&[("host", bad)]), 12000),
                    Err(Refusal::Host(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            decide(&get, &HeaderMap::new(), 12000),
            Err(Refusal::Host(_))
        ));
    }

    #[test]
    fn foreign_origins_and_writes_are_refused() {
        let host = ("host", "127.0.0.1:8080");
        let own = decide(
            &Method::GET,
            &headers(&[host, ("origin", "http://localhost:8080")]),
            8080,
        );
        assert_eq!(own, Ok(()));
        for origin in [
            "http://evil.example",
            "null",
            "http://127.0.0.1:9999",
            "https://127.0.0.1:8080",
        ] {
            let r = decide(&Method::POST, &headers(&[host, ("origin", origin)]), 8080);
            assert!(matches!(r, Err(Refusal::Origin(_))), "{origin}: {r:?}");
        }
        let r = decide(
            &Method::GET,
            &headers(&[host, ("sec-fetch-site", "cross-site")]),
            8080,
        );
        assert!(matches!(r, Err(Refusal::Origin(_))));
        let r = decide(
            &Method::POST,
            &headers(&[host, ("origin", "http://127.0.0.1:8080")]),
            8080,
        );
        assert_eq!(r, Err(Refusal::Method(Method::POST)));
    }
}
