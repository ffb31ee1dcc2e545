//! Where requests go and their exact bytes: the Death Star's URL, an optional HTTP proxy, the
//! Host header, and one pre-built HTTP/1.1 request per [`RequestKind`].
//!
//! The requests are serialized once, before the run, so that sending one costs a single write.
//!
//! URLs are read like curl and the ships read them: no scheme means `http://`, and a port must be
//! a decimal number from 0 to 65535 (curl's words for it are the error message).

use std::net::SocketAddr;

use bytes::Bytes;
use frota::RequestKind;
use http::Uri;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{url:?} is not a URL")]
    BadUrl {
        url: String,
        source: http::uri::InvalidUri,
    },
    #[error("{0:?}: only http:// URLs are supported (TLS is not)")]
    NotHttp(String),
    #[error("{0:?}: URL rejected: Port number was not a decimal number between 0 and 65535")]
    BadPort(String),
    #[error("{0:?} has no host")]
    NoHost(String),
    #[error("{0:?}: give the base URL only; request paths come from --mix")]
    HasPath(String),
    #[error("--host {0:?} is not a valid Host header value")]
    BadHost(String),
    #[error("cannot resolve {authority}")]
    Resolve {
        authority: String,
        source: std::io::Error,
    },
    #[error("{0} resolves to no address")]
    NoAddress(String),
}

/// A validated target.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port` the TCP connections go to: the Death Star, or the proxy.
    connect: String,
    /// The Death Star's authority, as written in the URL.
    authority: String,
    via_proxy: bool,
    requests: [Bytes; 3],
}

struct HttpUrl {
    authority: String,
    connect: String,
}

/// True when `url` starts with a scheme (RFC 3986: a letter, then letters, digits, `+`, `-`,
/// `.`) followed by `://`.
fn has_scheme(url: &str) -> bool {
    url.split_once("://").is_some_and(|(scheme, _)| {
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// The port of an authority (`user@host:port`, `[v6]:port`): `None` when absent or empty (the
/// default), an error unless it is all digits and at most 65535. `http` parses `:70000` or
/// `:8x` and then reports no port, which would silently mean 80.
fn port_of(authority: &str, url: &str) -> Result<Option<u16>, TargetError> {
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let after_host = match host_port.rfind(']') {
        Some(i) => &host_port[i + 1..],
        None => host_port,
    };
    let Some((_, port)) = after_host.rsplit_once(':') else {
        return Ok(None);
    };
    if port.is_empty() {
        return Ok(None);
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TargetError::BadPort(url.to_string()));
    }
    port.parse::<u16>()
        .map(Some)
        .map_err(|_| TargetError::BadPort(url.to_string()))
}

fn parse_http_url(url: &str) -> Result<HttpUrl, TargetError> {
    let with_scheme = if has_scheme(url) {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let uri: Uri = with_scheme.parse().map_err(|source| TargetError::BadUrl {
        url: url.to_string(),
        source,
    })?;
    if !uri
        .scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("http"))
    {
        return Err(TargetError::NotHttp(url.to_string()));
    }
    let Some(auth) = uri.authority() else {
        return Err(TargetError::NoHost(url.to_string()));
    };
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(TargetError::HasPath(url.to_string()));
    }
    let host = auth.host();
    if host.is_empty() {
        return Err(TargetError::NoHost(url.to_string()));
    }
    let port = port_of(auth.as_str(), url)?.unwrap_or(80);
    Ok(HttpUrl {
        authority: auth.as_str().to_string(),
        connect: format!("{host}:{port}"),
    })
}

impl Target {
    pub fn new(
        url: &str,
        proxy: Option<&str>,
        host: Option<&str>,
        keepalive: bool,
    ) -> Result<Target, TargetError> {
        let dest = parse_http_url(url)?;
        let proxy = proxy.map(parse_http_url).transpose()?;
        let host_header = match host {
            Some(h) if h.is_empty() || h.bytes().any(|b| b.is_ascii_control() || b == b' ') => {
                return Err(TargetError::BadHost(h.to_string()));
            }
            Some(h) => h.to_string(),
            None => dest.authority.clone(),
        };
        let via_proxy = proxy.is_some();
        let build = |kind: RequestKind| {
            // A proxy needs the absolute form to know where to forward (RFC 9112 3.2.2).
            let target = if via_proxy {
                format!("http://{}{}", dest.authority, kind.path())
            } else {
                kind.path().to_string()
            };
            let mut req = format!(
                "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: loadtest/{}\r\nAccept: */*\r\n",
                kind.method(),
                target,
                host_header,
                env!("CARGO_PKG_VERSION"),
            );
            if kind.method() != http::Method::GET {
                req.push_str("Content-Length: 0\r\n");
            }
            if !keepalive {
                req.push_str("Connection: close\r\n");
            }
            req.push_str("\r\n");
            Bytes::from(req)
        };
        let requests = RequestKind::ALL.map(build);
        Ok(Target {
            connect: proxy.map_or(dest.connect, |p| p.connect),
            authority: dest.authority,
            via_proxy,
            requests,
        })
    }

    /// The exact bytes of one request of this kind.
    pub fn request(&self, kind: RequestKind) -> &Bytes {
        let i = RequestKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_default();
        &self.requests[i]
    }

    /// The Death Star's authority (`host:port` as written in the URL).
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// `host:port` that connections go to (the proxy's when there is one).
    pub fn connect_to(&self) -> &str {
        &self.connect
    }

    pub fn via_proxy(&self) -> bool {
        self.via_proxy
    }

    /// Resolve the connection address once, before the run: a Service name's ClusterIP does
    /// not change during a run, and a per-request lookup would measure the resolver.
    pub async fn resolve(&self) -> Result<SocketAddr, TargetError> {
        let mut addrs = tokio::net::lookup_host(self.connect.as_str())
            .await
            .map_err(|source| TargetError::Resolve {
                authority: self.connect.clone(),
                source,
            })?;
        addrs
            .next()
            .ok_or_else(|| TargetError::NoAddress(self.connect.clone()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builds_origin_form_requests() {
        let t = Target::new("http://127.0.0.1:8080", None, None, true).unwrap();
        assert_eq!(t.connect_to(), "127.0.0.1:8080");
        let land = std::str::from_utf8(t.request(RequestKind::Land)).unwrap();
        assert!(land.starts_with("POST /v1/request-landing HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
        assert!(land.contains("Content-Length: 0\r\n"));
        assert!(land.ends_with("\r\n\r\n"));
        let info = std::str::from_utf8(t.request(RequestKind::Info)).unwrap();
        assert!(info.starts_with("GET /v1 HTTP/1.1\r\n"));
        assert!(!info.contains("Content-Length"));
    }

    #[test]
    fn proxy_host_and_close() {
        let t = Target::new(
            "http://estrela-da-morte.default.svc.cluster.local/",
            Some("http://127.0.0.1:9000"),
            Some("deathstar.empire"),
            false,
        )
        .unwrap();
        assert_eq!(t.connect_to(), "127.0.0.1:9000");
        let ex = std::str::from_utf8(t.request(RequestKind::Exhaust)).unwrap();
        assert!(ex.starts_with(
            "PUT http://estrela-da-morte.default.svc.cluster.local/v1/exhaust-port HTTP/1.1\r\n\
             Host: deathstar.empire\r\n"
        ));
        assert!(ex.contains("Connection: close\r\n"));
    }

    #[test]
    fn rejects_what_it_cannot_load() {
        assert!(matches!(
            Target::new("https://x", None, None, true),
            Err(TargetError::NotHttp(_))
        ));
        assert!(matches!(
            Target::new("http://x/v1", None, None, true),
            Err(TargetError::HasPath(_))
        ));
        assert!(matches!(
            Target::new("http://x", None, Some("a b"), true),
            Err(TargetError::BadHost(_))
        ));
        assert!(matches!(
            Target::new("ftp://x", None, None, true),
            Err(TargetError::NotHttp(_))
        ));
    }

    #[test]
    fn a_url_without_a_scheme_is_http() {
        for (url, connect) in [
            ("127.0.0.1:8080", "127.0.0.1:8080"),
            (
                "estrela-da-morte.default.svc.cluster.local",
                "estrela-da-morte.default.svc.cluster.local:80",
            ),
            ("[::1]:9000", "[::1]:9000"),
            ("HTTP://127.0.0.1:8080", "127.0.0.1:8080"),
        ] {
            let t = Target::new(url, None, None, true).unwrap();
            assert_eq!(t.connect_to(), connect, "{url}");
        }
        let t = Target::new("http://x", Some("127.0.0.1:3128"), None, true).unwrap();
        assert_eq!(t.connect_to(), "127.0.0.1:3128");
        let t = Target::new("127.0.0.1:8080", None, None, true).unwrap();
        let land = std::str::from_utf8(t.request(RequestKind::Land)).unwrap();
        assert!(land.contains("\r\nHost: 127.0.0.1:8080\r\n"), "{land}");
    }

    #[test]
    fn ports_must_be_decimal_and_at_most_65535() {
        for url in [
            "http://127.0.0.1:65536",
            "http://127.0.0.1:70000",
            "127.0.0.1:99999999999999999999",
            "http://[::1]:65536",
            "http://127.0.0.1:+80",
            "http://127.0.0.1:8x",
            "http://user:pw@127.0.0.1:1x",
        ] {
            let e = Target::new(url, None, None, true).unwrap_err();
            assert!(matches!(e, TargetError::BadPort(_)), "{url}: {e:?}");
            assert!(
                e.to_string().ends_with(
                    "URL rejected: Port number was not a decimal number between 0 and 65535"
                ),
                "{e}"
            );
        }
        assert!(matches!(
            Target::new("http://x", Some("http://127.0.0.1:65536"), None, true),
            Err(TargetError::BadPort(_))
        ));
        for (url, connect) in [
            ("http://127.0.0.1:65535", "127.0.0.1:65535"),
            ("http://127.0.0.1:0", "127.0.0.1:0"),
            ("http://127.0.0.1:", "127.0.0.1:80"),
            ("http://127.0.0.1:08080", "127.0.0.1:8080"),
        ] {
            let t = Target::new(url, None, None, true).unwrap();
            assert_eq!(t.connect_to(), connect, "{url}");
        }
    }
}
