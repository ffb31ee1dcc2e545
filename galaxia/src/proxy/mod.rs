//! Each pod's egress HTTP proxy on 127.0.0.1: the pod's "veth", where the galaxy enforces Cilium's
//! policies. The pod's clients send through it (the ships by configuration, `galaxia exec` through
//! `http_proxy`), so the listener a connection arrives on tells which pod is talking.
//!
//! A request meets the stages in this order, one module each:
//! [`accept`] (the listener and the HTTP/1.1 connection) -> [`identify`] (source pod, destination
//! name, backend) -> [`policy`] (L3/L4 then L7 verdict: drop, deny or go on) -> [`forward`] (the
//! keep-alive pool to the Death Star replicas, through their in-process pipes unless `--upstream
//! tcp`). Every decision is written to the flow log.

pub mod accept;
pub mod forward;
pub mod identify;
pub mod policy;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::flows::{Flow, FlowKind, Verdict};
use crate::galaxy::Shared;

/// The body of every answer the proxy gives: a replica's streamed body, or a short local one.
pub type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// Returned instead of an answer when a policy dropped the request: hyper then closes the
/// connection without writing a byte.
#[derive(Debug, thiserror::Error)]
#[error("dropped by policy")]
pub struct Held;

/// The proxies of one galaxy (cheap to clone: one per pod listener and connection).
#[derive(Clone)]
pub struct Proxy {
    shared: Arc<Shared>,
    upstream: forward::Upstream,
    /// For a port-forward listener: the host every origin-form request goes to (wrk, a browser).
    fixed_host: Option<Arc<str>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").finish_non_exhaustive()
    }
}

impl Proxy {
    pub fn new(shared: Arc<Shared>) -> Self {
        Proxy {
            shared,
            upstream: forward::Upstream::new(),
            fixed_host: None,
        }
    }

    /// The same pod's egress path, for clients that cannot use a proxy: origin-form requests go
    /// to `host` (a Service or pod name), still with the pod's identity and under its policies.
    pub fn with_fixed_host(mut self, host: &str) -> Self {
        self.fixed_host = Some(Arc::from(host));
        self
    }

    /// Serve pod `pod`'s egress listener until `shutdown` flips.
    pub async fn serve(
        self,
        pod: usize,
        listener: tokio::net::TcpListener,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        accept::run(self, pod, listener, shutdown).await;
    }

    /// One request from pod `from`, through every stage.
    async fn handle(
        &self,
        from: usize,
        peer: SocketAddr,
        req: Request<Incoming>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Response<ProxyBody>, Held> {
        let shared = &self.shared;
        let src = &shared.pods[from].spec;
        let target = match identify::target(&req, self.fixed_host.as_deref()) {
            Ok(t) => t,
            Err(answer) => return Ok(*answer),
        };
        let backend = match identify::backend(shared, &target, &src.namespace) {
            Ok(b) => b,
            Err(answer) => return Ok(*answer),
        };
        let (to, port) = (backend.pod, backend.port);
        let source = shared.pods[from].flow_endpoint(peer.port());
        let destination = shared.pods[to].flow_endpoint(port);
        let url = target.url();
        let decision = policy::decide(shared, from, to, port, &target, &req);
        let flow = |verdict, kind, reason| Flow {
            seq: 0,
            time_ms: 0,
            source: source.clone(),
            destination: destination.clone(),
            verdict,
            kind,
            reason: Some(reason),
        };
        let method = req.method().as_str().to_string();
        match decision {
            policy::Decision::Drop { reason } => {
                shared
                    .flows
                    .push(flow(Verdict::Dropped, FlowKind::PolicyDenied, reason));
                policy::hold(shutdown).await;
                Err(Held)
            }
            policy::Decision::Deny { reason } => {
                shared.flows.push(flow(
                    Verdict::Dropped,
                    FlowKind::HttpRequest { method, url },
                    reason,
                ));
                Ok(policy::access_denied())
            }
            policy::Decision::Forward { l7, reason } => {
                shared.flows.push(flow(
                    Verdict::Forwarded,
                    FlowKind::HttpRequest {
                        method: method.clone(),
                        url: url.clone(),
                    },
                    reason,
                ));
                let started = std::time::Instant::now();
                let resp = self.upstream.send(req, &backend, l7).await;
                if l7 {
                    shared.flows.push(Flow {
                        seq: 0,
                        time_ms: 0,
                        source,
                        destination,
                        verdict: Verdict::Forwarded,
                        kind: FlowKind::HttpResponse {
                            method,
                            url,
                            code: resp.status().as_u16(),
                            latency_ms: u64::try_from(started.elapsed().as_millis())
                                .unwrap_or(u64::MAX),
                        },
                        reason: None,
                    });
                }
                Ok(resp)
            }
        }
    }
}
