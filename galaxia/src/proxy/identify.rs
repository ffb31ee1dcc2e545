//! Stage 2, identify: where the request goes. The source pod is known from the listener; here the
//! request's host is resolved as cluster DNS would (Service names in their short and long forms,
//! port 80 implied) and a ready backend is picked.

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::body::{ProxyBody, local_answer};
use crate::state::{Backend, Cluster, NoBackend};

/// The request's destination as the client named it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The host, lower-cased, without the port.
    pub host: String,
    pub port: Option<u16>,
    /// `host[:port]` as sent, for the flow's URL and the Host header.
    pub authority: String,
    /// The path with its query (Envoy's `:path`).
    pub path: String,
}

impl Target {
    /// The absolute URL Hubble prints.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.path)
    }
}

/// Read the destination from an absolute-form request (what a client sends to a proxy), or from the
/// Host header of an origin-form one; `fixed_host` (a port-forward) overrides both.
pub fn target(
    req: &Request<Incoming>,
    fixed_host: Option<&str>,
) -> Result<Target, Box<Response<ProxyBody>>> {
    let uri = req.uri();
    if req.method() == http::Method::CONNECT || uri.scheme_str().is_some_and(|s| s != "http") {
        return Err(Box::new(local_answer(
            StatusCode::NOT_IMPLEMENTED,
            "galaxia: only plain http:// requests go through a pod's proxy\n".into(),
        )));
    }
    let authority = match (fixed_host, uri.authority()) {
        (Some(h), _) => h.to_string(),
        (None, Some(a)) => a.as_str().to_string(),
        (None, None) => match req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            Some(h) => h.to_string(),
            None => {
                return Err(Box::new(local_answer(
                    StatusCode::BAD_REQUEST,
                    "galaxia: the request names no host\n".into(),
                )));
            }
        },
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse::<u16>() {
            Ok(p) => (h.to_string(), Some(p)),
            Err(_) => (authority.clone(), None),
        },
        _ => (authority.clone(), None),
    };
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
    Ok(Target {
        host: host.to_ascii_lowercase(),
        port,
        authority,
        path,
    })
}

/// Resolve the target and pick a ready backend.
pub fn backend(
    shared: &Cluster,
    target: &Target,
    from_ns: &str,
) -> Result<Backend, Box<Response<ProxyBody>>> {
    let Some(dest) = shared.resolve(&target.host, target.port, from_ns) else {
        // What curl reports as "Could not resolve host" in a cluster.
        return Err(Box::new(local_answer(
            StatusCode::BAD_GATEWAY,
            format!(
                "galaxia: no Service or pod named {:?} in namespace {from_ns}\n",
                target.host
            ),
        )));
    };
    shared.pick(dest).map_err(|e| {
        Box::new(match e {
            NoBackend::NoSuchPort => local_answer(
                StatusCode::BAD_GATEWAY,
                format!(
                    "galaxia: {} has no port {}\n",
                    target.host,
                    target.port.unwrap_or(80)
                ),
            ),
            // Envoy's words when a Service has no ready endpoint.
            NoBackend::NotReady => local_answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "no healthy upstream".into(),
            ),
        })
    })
}
