//! The L7 proxy of the eBPF datapath, Cilium's Envoy in miniature: one listener per node, in the
//! node's namespace, that the programs hand redirected connections to (`bpf_sk_assign`, the
//! TPROXY way). An accepted connection's local address is the pod it was sent to and its peer the
//! client; the client's identity comes from the ipcache map, as Envoy gets it from Cilium. Each
//! request then meets the same stages as in the userspace proxy: the policy engine's HTTP rules
//! ([`crate::proxy::policy::decide`]), Envoy's 403 ([`crate::proxy::policy::access_denied`]) or the
//! backend over real TCP ([`crate::proxy::forward::Upstream`]), and the proxy's HTTP records
//! ([`crate::proxy::datapath::Leg`]).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use politica::HttpRequest;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::maps::{IpKey, IpcacheVal, Table};
use crate::flows::flow::Http;
use crate::proxy::body::{Held, ProxyBody};
use crate::proxy::datapath::{ClientConn, Leg};
use crate::proxy::forward::Upstream;
use crate::proxy::identify;
use crate::proxy::policy::{self, Decision};
use crate::state::{Backend, Cluster, Pod};

/// The proxy's port in every node (Cilium draws one per listener; one fixed port keeps the
/// policy map readable).
pub const PROXY_PORT: u16 = 15001;

/// The ipcache, shared with the loader.
pub type Ipcache = Arc<Mutex<Table<4, 8>>>;

/// The proxy's listener in the current thread's namespace (call it inside the node's):
/// transparent, so that the connections it accepts may answer from the pod's address.
pub fn listener() -> std::io::Result<std::net::TcpListener> {
    let s = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    s.set_ip_transparent_v4(true)?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, PROXY_PORT)).into())?;
    s.listen(1024)?;
    Ok(s.into())
}

/// Serve redirected connections until `shutdown` flips.
pub async fn serve(
    cluster: Arc<Cluster>,
    ipcache: Ipcache,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    let upstream = Upstream::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let Ok(original) = stream.local_addr() else {
                    continue;
                };
                tokio::spawn(connection(
                    cluster.clone(),
                    ipcache.clone(),
                    upstream.clone(),
                    stream,
                    peer,
                    original,
                    shutdown.clone(),
                ));
            }
            Err(e) => {
                tracing::warn!(error = %e, "L7 proxy accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

fn v4(a: SocketAddr) -> Option<Ipv4Addr> {
    match a {
        SocketAddr::V4(a) => Some(*a.ip()),
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped(),
    }
}

/// The pod behind `ip`, if the ipcache gives it the pod's identity.
fn identify(cluster: &Cluster, ipcache: &Ipcache, ip: Ipv4Addr) -> Option<usize> {
    let key: IpKey = ip.octets();
    let known = ipcache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key, 0)
        .ok()
        .map(|v| IpcacheVal::decode(&v))?;
    cluster
        .pods
        .iter()
        .position(|p| p.info.ip == ip && p.info.identity.0 == known.identity)
}

async fn connection(
    cluster: Arc<Cluster>,
    ipcache: Ipcache,
    upstream: Upstream,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    original: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) {
    let (Some(src_ip), Some(dst_ip)) = (v4(peer), v4(original)) else {
        return;
    };
    let (Some(src), Some(dst)) = (
        identify(&cluster, &ipcache, src_ip),
        cluster.pods.iter().position(|p| p.info.ip == dst_ip),
    ) else {
        // Not a pod's connection to a pod: nothing the policy could allow.
        return;
    };
    let conn = Arc::new(ClientConn::new(cluster.pods[src].id, peer.port()));
    let handler = Arc::new(Handler {
        cluster,
        upstream,
        src,
        dst,
        backend: original,
    });
    let service = service_fn(move |req| {
        let (h, c) = (Arc::clone(&handler), Arc::clone(&conn));
        async move { h.handle(&c, req).await }
    });
    let serving = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = serving => {}
        _ = shutdown.wait_for(|s| *s) => {}
    }
}

struct Handler {
    cluster: Arc<Cluster>,
    upstream: Upstream,
    src: usize,
    dst: usize,
    /// The pod and port the client sent to (the accepted socket's local address).
    backend: SocketAddr,
}

impl Handler {
    fn src(&self) -> &Pod {
        &self.cluster.pods[self.src]
    }

    fn dst(&self) -> &Pod {
        &self.cluster.pods[self.dst]
    }

    async fn handle(
        &self,
        conn: &ClientConn,
        req: Request<Incoming>,
    ) -> Result<Response<ProxyBody>, Held> {
        let target = match identify::target(&req, None) {
            Ok(t) => t,
            Err(answer) => return Ok(*answer),
        };
        let port = self.backend.port();
        let in_force = self.cluster.policies.current();
        let decision = policy::decide(
            &in_force.engine,
            self.src(),
            self.dst(),
            port,
            &HttpRequest {
                method: req.method().as_str(),
                path: &target.path,
                host: &target.authority,
                headers: req.headers(),
            },
        );
        let leg = Leg {
            cluster: &self.cluster,
            conn,
            dst: self.dst(),
            port,
            service: None,
        };
        let record = Http {
            response: false,
            method: Arc::from(req.method().as_str()),
            url: Arc::from(target.url()),
            protocol: "HTTP/1.1",
            code: 0,
            latency_ns: 0,
            headers: headers(req.headers()),
        };
        let reason = decision.reason();
        match decision {
            // The kernel drops such packets before they get here; a policy changed under the
            // connection. Nothing goes back, as for a drop.
            Decision::Drop(_) => Err(Held),
            Decision::Deny { .. } => {
                if self.cluster.flows.enabled() {
                    leg.http_request(record, false, reason);
                }
                Ok(policy::access_denied())
            }
            Decision::Forward { l7, .. } => {
                let backend = Backend {
                    pod: self.dst().id,
                    port,
                    addr: self.backend,
                    pipe: None,
                };
                let recorded = l7.is_some() && self.cluster.flows.enabled();
                if !recorded {
                    return Ok(self.upstream.send(req, &backend, true).await);
                }
                let mut response = Http {
                    response: true,
                    headers: Vec::new(),
                    ..record.clone()
                };
                leg.http_request(record, true, reason);
                let started = std::time::Instant::now();
                let resp = self.upstream.send(req, &backend, true).await;
                response.code = resp.status().as_u16();
                response.latency_ns =
                    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                leg.http_response(response);
                Ok(resp)
            }
        }
    }
}

/// Headers as Envoy logs them: one entry per value, sorted by name.
fn headers(h: &http::HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = h
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    out.sort();
    out
}
