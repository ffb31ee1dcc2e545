//! Which HTTP proxy a request goes through, decided like curl: an explicit proxy wins, else
//! `http_proxy` (and, for galaxia's sake, `HTTP_PROXY`, which curl itself ignores for http),
//! unless the host is listed in `no_proxy`/`NO_PROXY` (or curl's `--noproxy`).

use crate::transport::{HttpTarget, UrlError};

/// The chosen proxy's URL is not one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{proxy}: {source}")]
pub struct ProxyError {
    /// The value as given (`-x`, `--proxy` or the environment), for curl's message.
    pub proxy: String,
    #[source]
    pub source: UrlError,
}

/// The proxy for `target`: `explicit` (a `--proxy`/`-x` value; empty means none) wins over the
/// environment; `noproxy` (curl's `--noproxy`) wins over `no_proxy`.
pub fn select(
    target: &HttpTarget,
    explicit: Option<&str>,
    noproxy: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<HttpTarget>, ProxyError> {
    let exclusions = noproxy
        .map(str::to_string)
        .or_else(|| env("no_proxy"))
        .or_else(|| env("NO_PROXY"))
        .unwrap_or_default();
    if excluded(target.bare_host(), &exclusions) {
        return Ok(None);
    }
    let chosen = match explicit {
        Some(p) => Some(p.to_string()),
        None => env("http_proxy")
            .or_else(|| env("HTTP_PROXY"))
            .or_else(|| env("all_proxy"))
            .or_else(|| env("ALL_PROXY")),
    };
    match chosen.filter(|p| !p.trim().is_empty()) {
        Some(p) => parse_proxy(&p)
            .map(Some)
            .map_err(|source| ProxyError { proxy: p, source }),
        None => Ok(None),
    }
}

/// A proxy URL; like curl, a bare `host:port` is HTTP and the default port is 1080.
pub fn parse_proxy(url: &str) -> Result<HttpTarget, UrlError> {
    let with_scheme = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let has_port = with_scheme
        .split("://")
        .nth(1)
        .map(|rest| rest.split('/').next().unwrap_or(""))
        .map(|auth| auth.rsplit_once(':').is_some_and(|(_, p)| !p.contains(']')))
        .unwrap_or(false);
    let mut t = HttpTarget::parse(&with_scheme)?;
    if !has_port {
        t.port = 1080;
        t.authority = format!("{}:1080", t.host);
    }
    Ok(t)
}

/// curl's no_proxy matching: `*` is everything; otherwise a comma list of hosts or domains
/// (`example.com` and `.example.com` both cover `a.example.com`), and IP addresses.
pub fn excluded(host: &str, list: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    list.split(',')
        .map(|e| {
            e.trim()
                .trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase()
        })
        .filter(|e| !e.is_empty())
        .any(|e| e == "*" || host == e || host.ends_with(&format!(".{e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn env_proxy_and_exclusions() {
        let t = HttpTarget::parse("http://estrela-da-morte.default.svc.cluster.local/v1").unwrap();
        let env = env_of(&[("http_proxy", "127.0.0.1:3128")]);
        let p = select(&t, None, None, &env).unwrap().unwrap();
        assert_eq!((p.host.as_str(), p.port), ("127.0.0.1", 3128));
        let env = env_of(&[
            ("HTTP_PROXY", "http://127.0.0.1:3128"),
            ("no_proxy", ".cluster.local"),
        ]);
        assert_eq!(select(&t, None, None, &env).unwrap(), None);
        let env = env_of(&[("http_proxy", "127.0.0.1:3128")]);
        assert_eq!(select(&t, Some(""), None, &env).unwrap(), None);
        assert_eq!(select(&t, None, Some("*"), &env).unwrap(), None);
        assert_eq!(parse_proxy("127.0.0.1").unwrap().port, 1080);
    }
}
