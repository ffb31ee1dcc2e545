//! Hubble's Observer API over the galaxy's flow ring, as Hubble Relay serves it on
//! `localhost:4245` (what `cilium hubble port-forward` exposes and the `hubble` CLI dials by
//! default): `GetFlows`, `ServerStatus`, `GetNodes`, `GetNamespaces`, and the standard health
//! service that `hubble status` checks for `hubble.server.Observer`. Plaintext, loopback only.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::convert;
use super::filter::{self, Filters};
use super::proto::observer::observer_server::{Observer, ObserverServer};
use super::proto::observer::{
    GetFlowsRequest, GetFlowsResponse, GetNamespacesRequest, GetNamespacesResponse,
    GetNodesRequest, GetNodesResponse, Namespace, Node, ServerStatusRequest, ServerStatusResponse,
    Tls,
};
use super::proto::relay::NodeState;
use crate::flows::Flow;
use crate::state::Cluster;

/// The health service name Hubble registers (`hubble status` asks for it).
pub const HEALTH_SERVICE: &str = "hubble.server.Observer";
/// Hubble's default server address (the CLI's `--server`).
pub const DEFAULT_PORT: u16 = 4245;
/// Flows read from the ring at a time, and responses a stream may have in flight: a follower
/// that reads slower than the ring fills falls behind and is told what it lost.
const BATCH: usize = 256;
const IN_FLIGHT: usize = 256;
/// How far back GetNamespaces looks (Hubble: one hour).
const NAMESPACE_WINDOW: Duration = Duration::from_secs(3600);

/// The Observer service of one galaxy.
#[derive(Clone)]
pub struct Hubble {
    cluster: Arc<Cluster>,
    started: SystemTime,
    shutdown: watch::Receiver<bool>,
}

impl Hubble {
    pub fn new(cluster: Arc<Cluster>, shutdown: watch::Receiver<bool>) -> Hubble {
        Hubble {
            cluster,
            started: SystemTime::now(),
            shutdown,
        }
    }

    fn version() -> String {
        format!(
            "cilium v1.15.10 (emulated by galaxia {})",
            env!("CARGO_PKG_VERSION")
        )
    }

    fn uptime_ns(&self) -> u64 {
        u64::try_from(
            SystemTime::now()
                .duration_since(self.started)
                .unwrap_or_default()
                .as_nanos(),
        )
        .unwrap_or(u64::MAX)
    }
}

/// Serve the Observer API and the health service on `listener` until `shutdown` flips.
pub async fn serve(
    cluster: Arc<Cluster>,
    listener: tokio::net::TcpListener,
    shutdown: watch::Receiver<bool>,
) -> Result<(), tonic::transport::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(HEALTH_SERVICE, tonic_health::ServingStatus::Serving)
        .await;
    let hubble = Hubble::new(cluster, shutdown.clone());
    let mut stop = shutdown;
    tonic::transport::Server::builder()
        .add_service(health)
        .add_service(ObserverServer::new(hubble))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            async move {
                let _ = stop.wait_for(|s| *s).await;
            },
        )
        .await
}

type FlowStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<GetFlowsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Observer for Hubble {
    type GetFlowsStream = FlowStream;

    async fn get_flows(
        &self,
        request: Request<GetFlowsRequest>,
    ) -> Result<Response<Self::GetFlowsStream>, Status> {
        let req = request.into_inner();
        if req.first && req.follow {
            return Err(Status::invalid_argument(
                "first cannot be specified with follow",
            ));
        }
        // Cilium returns the filter's error as it is, which gRPC sends as Unknown (and the CLI
        // prints as the bare message).
        let filters = filter::compile(&req.whitelist, &req.blacklist)
            .map_err(|e| Status::unknown(e.to_string()))?;
        let (tx, rx) = mpsc::channel(IN_FLIGHT);
        let reader = Reader {
            cluster: Arc::clone(&self.cluster),
            filters,
            since: req.since.as_ref().map(from_timestamp),
            until: req.until.as_ref().map(from_timestamp),
            number: req.number,
            first: req.first,
            follow: req.follow,
        };
        let shutdown = self.shutdown.clone();
        tokio::spawn(reader.run(tx, shutdown));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn server_status(
        &self,
        _request: Request<ServerStatusRequest>,
    ) -> Result<Response<ServerStatusResponse>, Status> {
        let ring = &self.cluster.flows;
        let nodes = u32::try_from(self.cluster.topology.nodes.len()).unwrap_or(u32::MAX);
        Ok(Response::new(ServerStatusResponse {
            num_flows: ring.len() as u64,
            max_flows: ring.capacity() as u64,
            seen_flows: ring.seen(),
            uptime_ns: self.uptime_ns(),
            // As Hubble Relay reports them: every node of the galaxy is connected.
            num_connected_nodes: Some(nodes),
            num_unavailable_nodes: Some(0),
            unavailable_nodes: Vec::new(),
            version: Hubble::version(),
            flows_rate: flows_rate(&ring.snapshot()),
        }))
    }

    async fn get_nodes(
        &self,
        _request: Request<GetNodesRequest>,
    ) -> Result<Response<GetNodesResponse>, Status> {
        let flows = self.cluster.flows.snapshot();
        let seen = self.cluster.flows.seen_by_node();
        let max = self.cluster.flows.capacity() as u64;
        let nodes = self
            .cluster
            .topology
            .nodes
            .iter()
            .map(|n| Node {
                name: n.name.to_string(),
                version: Hubble::version(),
                address: format!("{}:4244", n.address),
                state: NodeState::NodeConnected as i32,
                tls: Some(Tls {
                    enabled: true,
                    server_name: format!("{}.default.hubble-grpc.cilium.io", n.name),
                }),
                uptime_ns: self.uptime_ns(),
                num_flows: flows.iter().filter(|f| f.node == n.name).count() as u64,
                max_flows: max,
                seen_flows: seen.get(&n.name).copied().unwrap_or(0),
            })
            .collect();
        Ok(Response::new(GetNodesResponse { nodes }))
    }

    async fn get_namespaces(
        &self,
        _request: Request<GetNamespacesRequest>,
    ) -> Result<Response<GetNamespacesResponse>, Status> {
        let since = SystemTime::now()
            .checked_sub(NAMESPACE_WINDOW)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut seen = BTreeSet::new();
        for f in self.cluster.flows.snapshot() {
            if f.time >= since {
                seen.insert(f.source.endpoint.namespace.to_string());
                seen.insert(f.destination.endpoint.namespace.to_string());
            }
        }
        let namespaces = seen
            .into_iter()
            .map(|namespace| Namespace {
                cluster: String::new(),
                namespace,
            })
            .collect();
        Ok(Response::new(GetNamespacesResponse { namespaces }))
    }
}

/// Flows of the last minute per second, as Hubble computes `flows_rate`.
fn flows_rate(flows: &[Arc<Flow>]) -> f64 {
    let now = SystemTime::now();
    let minute = Duration::from_secs(60);
    let recent: Vec<&Arc<Flow>> = flows
        .iter()
        .filter(|f| now.duration_since(f.time).unwrap_or_default() <= minute)
        .collect();
    if recent.is_empty() {
        return 0.0;
    }
    // Fewer than a minute of flows held: over the time they span.
    let span = if recent.len() == flows.len() {
        recent
            .first()
            .map_or(minute, |f| now.duration_since(f.time).unwrap_or(minute))
            .max(Duration::from_millis(1))
    } else {
        minute
    };
    recent.len() as f64 / span.as_secs_f64()
}

fn from_timestamp(t: &prost_types::Timestamp) -> SystemTime {
    let secs = u64::try_from(t.seconds).unwrap_or(0);
    let nanos = u32::try_from(t.nanos).unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
}

/// One GetFlows call: where to start in the ring, what to send, when to stop.
struct Reader {
    cluster: Arc<Cluster>,
    filters: Filters,
    since: Option<SystemTime>,
    until: Option<SystemTime>,
    number: u64,
    first: bool,
    follow: bool,
}

impl Reader {
    fn matches(&self, f: &Flow, pb: &super::proto::flow::Flow) -> bool {
        self.since.is_none_or(|s| f.time >= s) && self.filters.matches(pb)
    }

    /// Where reading starts: with `since`, the first flow after it; with `first`, the oldest;
    /// with `number`, far enough back for that many matching flows; following with neither,
    /// now; otherwise the oldest held.
    fn start(&self) -> u64 {
        let ring = &self.cluster.flows;
        let held = ring.snapshot();
        let oldest = held.first().map_or(ring.written(), |f| f.seq);
        if self.first || self.since.is_some() {
            return oldest;
        }
        if self.number == 0 {
            return if self.follow { ring.written() } else { oldest };
        }
        let mut found = 0;
        for f in held.iter().rev() {
            if self.matches(f, &convert::flow(f)) {
                found += 1;
                if found == self.number {
                    return f.seq;
                }
            }
        }
        oldest
    }

    async fn run(
        self,
        tx: mpsc::Sender<Result<GetFlowsResponse, Status>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let ring = &self.cluster.flows;
        let mut pos = self.start();
        // Without --follow, the flows up to now, not those that keep coming while we send.
        let end = (!self.follow).then(|| ring.written());
        let mut sent = 0u64;
        loop {
            let room = end.map_or(BATCH, |e| {
                usize::try_from(e.saturating_sub(pos))
                    .unwrap_or(BATCH)
                    .min(BATCH)
            });
            if room == 0 {
                return;
            }
            let batch = ring.read(pos, room);
            if batch.lost > 0 {
                ring.metrics().lost(batch.lost);
                let node = self.cluster.topology.nodes.first().map_or("", |n| &*n.name);
                if tx.send(Ok(convert::lost(batch.lost, node))).await.is_err() {
                    return;
                }
            }
            for f in &batch.flows {
                if self.until.is_some_and(|u| f.time > u) {
                    return;
                }
                let response = convert::response(f);
                let Some(super::proto::observer::get_flows_response::ResponseTypes::Flow(pb)) =
                    &response.response_types
                else {
                    continue;
                };
                if !self.matches(f, pb) {
                    continue;
                }
                if tx.send(Ok(response)).await.is_err() {
                    return;
                }
                sent += 1;
                if !self.follow && self.number > 0 && sent >= self.number {
                    return;
                }
            }
            pos = batch.next;
            if batch.flows.is_empty() && batch.lost == 0 {
                if !self.follow {
                    return;
                }
                tokio::select! {
                    () = ring.wait_for(pos) => {}
                    () = tx.closed() => return,
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        }
    }
}
