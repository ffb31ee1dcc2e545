//! Stage 4, forward: send the request to the chosen replica over a keep-alive pool and stream the
//! answer back. Bodies stream both ways; hop-by-hop headers stop here, as at any proxy.

use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::ProxyBody;
use super::identify::local_answer;
use crate::galaxy::config::{UPSTREAM_CONNECT, UPSTREAM_IDLE};
use http_body_util::BodyExt;

/// Headers that belong to one hop (RFC 9110 7.6.1, plus the proxy ones curl sends).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
];

/// The shared connection pool to every replica.
#[derive(Clone, Debug)]
pub struct Upstream {
    client: Client<HttpConnector, Incoming>,
}

impl Default for Upstream {
    fn default() -> Self {
        Self::new()
    }
}

impl Upstream {
    pub fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(UPSTREAM_CONNECT));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(UPSTREAM_IDLE)
            .build(connector);
        Upstream { client }
    }

    /// Forward `req` to `addr`. A failure becomes Envoy's 503, as a client behind Cilium sees it.
    pub async fn send(
        &self,
        mut req: Request<Incoming>,
        addr: SocketAddr,
        via_envoy: bool,
    ) -> Response<ProxyBody> {
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_string();
        // The Host header keeps the name the client used; only the connection goes to `addr`.
        if !req.headers().contains_key(http::header::HOST) {
            if let Some(a) = req.uri().authority() {
                if let Ok(v) = http::HeaderValue::from_str(a.as_str()) {
                    req.headers_mut().insert(http::header::HOST, v);
                }
            }
        }
        match format!("http://{addr}{path}").parse::<http::Uri>() {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => {
                return local_answer(
                    StatusCode::BAD_REQUEST,
                    "galaxia: bad request path\n".into(),
                );
            }
        }
        strip_hop_by_hop(req.headers_mut());
        match self.client.request(req).await {
            Ok(resp) => {
                let (mut parts, body) = resp.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                if via_envoy {
                    parts.headers.insert(
                        http::header::SERVER,
                        http::HeaderValue::from_static("envoy"),
                    );
                }
                Response::from_parts(parts, body.boxed())
            }
            Err(e) => {
                tracing::debug!(error = %e, %addr, "upstream request failed");
                local_answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
                        .into(),
                )
            }
        }
    }
}

fn strip_hop_by_hop(headers: &mut http::HeaderMap) {
    // Names listed in Connection are hop-by-hop too.
    let listed: Vec<String> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    for name in HOP_BY_HOP
        .iter()
        .copied()
        .chain(listed.iter().map(String::as_str))
    {
        headers.remove(name);
    }
}
