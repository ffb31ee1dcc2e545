//! The proxies of one galaxy: each request from a pod meets the stages in order (identify,
//! policy, forward), and every decision is written to the flow log with its typed reason.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use politica::HttpRequest;
use tokio::sync::watch;

use super::body::{Held, ProxyBody};
use super::forward::Upstream;
use super::policy::{self, Decision};
use super::{accept, identify};
use crate::flows::{Decided, Flow, FlowKind, Verdict};
use crate::state::{Cluster, PodId};

/// The proxies of one galaxy (cheap to clone: one per pod listener and connection).
#[derive(Clone)]
pub struct Proxy {
    cluster: Arc<Cluster>,
    upstream: Upstream,
    /// For a port-forward listener: the host every origin-form request goes to (wrk, a browser).
    fixed_host: Option<Arc<str>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").finish_non_exhaustive()
    }
}

impl Proxy {
    pub fn new(cluster: Arc<Cluster>) -> Self {
        Proxy {
            cluster,
            upstream: Upstream::new(),
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
        pod: PodId,
        listener: tokio::net::TcpListener,
        shutdown: watch::Receiver<bool>,
    ) {
        let handle = move |peer, req, shutdown| {
            let proxy = self.clone();
            async move { proxy.handle(pod, peer, req, shutdown).await }
        };
        accept::run(listener, shutdown, handle).await;
    }

    /// One request from pod `from`, through every stage.
    async fn handle(
        &self,
        from: PodId,
        peer: SocketAddr,
        req: Request<Incoming>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Response<ProxyBody>, Held> {
        let cluster = &self.cluster;
        let src = cluster.pod(from);
        let target = match identify::target(&req, self.fixed_host.as_deref()) {
            Ok(t) => t,
            Err(answer) => return Ok(*answer),
        };
        let backend = match identify::backend(cluster, &target, src.namespace()) {
            Ok(b) => b,
            Err(answer) => return Ok(*answer),
        };
        let dst = cluster.pod(backend.pod);
        let port = backend.port;
        let source = src.flow_endpoint(peer.port());
        let destination = dst.flow_endpoint(port);
        let url = target.url();
        let request = HttpRequest {
            method: req.method().as_str(),
            path: &target.path,
            host: &target.authority,
            headers: req.headers(),
        };
        let decision = policy::decide(&cluster.policies.engine(), src, dst, port, &request);
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
            Decision::Drop(reason) => {
                cluster.flows.push(flow(
                    Verdict::Dropped,
                    FlowKind::PolicyDenied,
                    Decided::Connection(reason),
                ));
                policy::hold(shutdown).await;
                Err(Held)
            }
            Decision::Deny(reason) => {
                cluster.flows.push(flow(
                    Verdict::Dropped,
                    FlowKind::HttpRequest { method, url },
                    Decided::Http(reason),
                ));
                Ok(policy::access_denied())
            }
            Decision::Forward { l7, reason } => {
                cluster.flows.push(flow(
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
                    cluster.flows.push(Flow {
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
