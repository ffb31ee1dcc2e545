//! The proxies of one galaxy: each request from a pod meets the stages in order (identify,
//! policy, forward), and what Cilium would report of its packets and of the L7 proxy's view is
//! written to the flow ring ([`super::datapath`]).

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use politica::HttpRequest;
use tokio::sync::watch;

use super::accept::{self, Handler};
use super::body::{Held, ProxyBody};
use super::datapath::{ClientConn, Leg, LegPhase};
use super::forward::Upstream;
use super::identify;
use super::policy::{self, Decision, Hold};
use crate::flows::flow::{Http, PolicyRef, TcpFlags};
use crate::state::dns::Destination;
use crate::state::{Cluster, PodId};

/// The proxies of one galaxy (cheap to clone: one per pod listener and connection).
#[derive(Clone)]
pub struct Proxy {
    cluster: Arc<Cluster>,
    upstream: Upstream,
    /// The connections all of the galaxy's proxies may hold at once.
    slots: accept::Slots,
    /// For a port-forward listener: the host every origin-form request goes to (wrk, a browser).
    fixed_host: Option<Arc<str>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").finish_non_exhaustive()
    }
}

/// One pod's listener: the proxy and the pod whose clients connect to it.
#[derive(Clone)]
struct PodListener {
    proxy: Proxy,
    pod: PodId,
}

impl Handler for PodListener {
    type Conn = ClientConn;

    fn open(&self, peer: SocketAddr) -> ClientConn {
        ClientConn::new(self.pod, peer.port())
    }

    async fn handle(
        self,
        conn: Arc<ClientConn>,
        req: Request<Incoming>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Response<ProxyBody>, Held> {
        self.proxy.handle(&conn, req, shutdown).await
    }

    fn close(&self, conn: &ClientConn) {
        conn.closed(&self.proxy.cluster);
    }
}

impl Proxy {
    pub fn new(cluster: Arc<Cluster>) -> Self {
        Proxy {
            cluster,
            upstream: Upstream::new(),
            slots: accept::Slots::for_this_process(),
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
        let slots = self.slots.clone();
        accept::run(listener, shutdown, PodListener { proxy: self, pod }, slots).await;
    }

    /// One request on `conn`, through every stage.
    async fn handle(
        &self,
        conn: &ClientConn,
        req: Request<Incoming>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Response<ProxyBody>, Held> {
        let cluster = &self.cluster;
        let src = cluster.pod(conn.src);
        let target = match identify::target(&req, self.fixed_host.as_deref()) {
            Ok(t) => t,
            Err(answer) => return Ok(*answer),
        };
        let (backend, service) = match identify::backend(cluster, &target, src.namespace()) {
            Ok(b) => b,
            Err(answer) => return Ok(*answer),
        };
        // The next request of a kept-alive connection goes where its first one went (while that
        // pod serves); only a new connection is balanced.
        let backend = match service.as_ref().and_then(|s| conn.bound_to(s)) {
            Some((pod, port)) if pod != backend.pod => cluster
                .pick(Destination::Pod { pod, port })
                .unwrap_or(backend),
            _ => backend,
        };
        let dst = cluster.pod(backend.pod);
        let port = backend.port;
        let leg = Leg {
            cluster,
            conn,
            dst,
            port,
            service,
        };
        let ask = || {
            let request = HttpRequest {
                method: req.method().as_str(),
                path: &target.path,
                host: &target.authority,
                headers: req.headers(),
            };
            let in_force = cluster.policies.current();
            let decision = policy::decide(&in_force.engine, src, dst, port, &request);
            (decision, in_force)
        };
        let phase = conn.phase(dst.id, port);
        // A new connection's first packet is its SYN; an established one's, the request's data.
        let first = match phase {
            LegPhase::New => TcpFlags::SYN,
            LegPhase::Open => TcpFlags::ACK_PSH,
        };
        let (mut decision, in_force) = ask();
        let verdict_event = |decision: &Decision, in_force: &crate::state::policies::InForce| {
            let c = decision.connection();
            if !c.is_enforced() {
                return;
            }
            let allowed = c.is_allowed();
            let allowed_by = match &c.reason {
                politica::ConnectionReason::AllowedBy(r) => Some(PolicyRef {
                    id: Arc::clone(&r.policy),
                    uid: in_force
                        .uid(&r.policy)
                        .cloned()
                        .unwrap_or_else(|| Arc::from("")),
                    revision: in_force.revision,
                }),
                _ => None,
            };
            leg.policy_verdict(
                first,
                allowed,
                c.l7.is_some(),
                c.match_type,
                &c.reason,
                allowed_by,
            );
        };
        // Cilium decides a connection on its first packet, and an established one's packets only
        // when the policy now denies them.
        if phase == LegPhase::New || matches!(decision, Decision::Drop(_)) {
            verdict_event(&decision, &in_force);
        }
        if let Decision::Drop(c) = &decision {
            leg.drop(first, &c.reason);
            let again = || {
                let (d, f) = ask();
                verdict_event(&d, &f);
                match &d {
                    Decision::Drop(c) => {
                        leg.drop(first, &c.reason);
                        None
                    }
                    _ => Some((d, f)),
                }
            };
            match policy::hold(shutdown, phase == LegPhase::New, again).await {
                Hold::Through((d, _)) => decision = d,
                Hold::GaveUp => return Err(Held),
            }
        }
        let redirected = decision.connection().l7.is_some();
        if conn.phase(dst.id, port) == LegPhase::New {
            leg.open(redirected);
        }
        leg.request_sent(redirected);
        let reason = decision.reason();
        // Only what goes through Envoy has an HTTP record (and the cost of one).
        let record = |req: &Request<Incoming>| Http {
            response: false,
            method: Arc::from(req.method().as_str()),
            url: Arc::from(target.url()),
            protocol: "HTTP/1.1",
            code: 0,
            latency_ns: 0,
            headers: http_headers(req.headers()),
        };
        // The replica's access log (`galaxia logs POD`), as estrela-da-morte writes it.
        let access = crate::state::logs::Access::start(&req);
        match decision {
            Decision::Drop(_) => Err(Held),
            Decision::Deny { .. } => {
                if cluster.flows.enabled() {
                    leg.http_request(record(&req), false, reason);
                }
                leg.answer_sent();
                Ok(policy::access_denied())
            }
            Decision::Forward { l7: None, .. } => {
                let resp = self.upstream.send(req, &backend, false).await;
                access.finish(cluster.pod(backend.pod), resp.status());
                leg.answer_sent();
                Ok(resp)
            }
            Decision::Forward { l7: Some(_), .. } if !cluster.flows.enabled() => {
                let resp = self.upstream.send(req, &backend, true).await;
                access.finish(cluster.pod(backend.pod), resp.status());
                Ok(resp)
            }
            Decision::Forward { l7: Some(_), .. } => {
                let request = record(&req);
                let mut response = Http {
                    response: true,
                    headers: Vec::new(),
                    ..request.clone()
                };
                leg.http_request(request, true, reason);
                let started = std::time::Instant::now();
                let resp = self.upstream.send(req, &backend, true).await;
                access.finish(cluster.pod(backend.pod), resp.status());
                response.code = resp.status().as_u16();
                response.latency_ns =
                    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                leg.http_response(response);
                leg.answer_sent();
                Ok(resp)
            }
        }
    }
}

/// The request's headers as Envoy logs them: one entry per value, sorted by name.
fn http_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    out.sort();
    out
}
