//! Everything the proxies, the control API, Hubble and the supervisors share about the running
//! galaxy: its nodes, pods, Services, the policies in force and the flows.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use politica::{EndpointId, Endpoints};

use super::pod::{Pod, PodId};
use super::policies::PolicyStore;
use super::service::Service;
use super::topology::{Topology, TopologyError};
use crate::flows::FlowRing;
use crate::flows::flow::EndpointInfo;
use crate::flows::ring::RingError;
use crate::manifest::{KindCluster, PodModel, ServiceModel, split_namespaced};

/// Cilium numbers a node's endpoints between 1 and 4095.
const ENDPOINT_IDS: u16 = 4095;

#[derive(Debug)]
pub struct Cluster {
    pub topology: Topology,
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub policies: PolicyStore,
    pub flows: FlowRing,
}

/// Why a galaxy cannot be built from these manifests.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("two pods are named {0}")]
    DuplicatePod(String),
    #[error("more pods than endpoint numbers ({0})")]
    TooManyPods(usize),
    #[error(transparent)]
    Topology(#[from] TopologyError),
    #[error("the flow buffer")]
    Ring(#[from] RingError),
}

impl Cluster {
    /// The galaxy's pods (each with its egress proxy's address) on the nodes of `kind`, its
    /// Services, no policy yet, and a flow ring of `capacity` (`None`: Hubble off, no flows).
    pub fn new(
        kind: &KindCluster,
        pods: Vec<(PodModel, SocketAddr)>,
        services: Vec<ServiceModel>,
        capacity: Option<usize>,
        created: SystemTime,
    ) -> Result<Cluster, ClusterError> {
        let topology = Topology::new(kind)?;
        let models: Vec<PodModel> = pods.iter().map(|(m, _)| m.clone()).collect();
        let placed = topology.place(&models);
        if pods.len() > usize::from(ENDPOINT_IDS) {
            return Err(ClusterError::TooManyPods(pods.len()));
        }
        let mut built: Vec<Pod> = Vec::with_capacity(pods.len());
        let mut endpoints = Endpoints::new();
        let mut used_ids = BTreeSet::new();
        for (i, ((model, egress), (node, ip))) in pods.into_iter().zip(placed).enumerate() {
            if built
                .iter()
                .any(|p| p.name() == model.name && p.namespace() == model.namespace)
            {
                return Err(ClusterError::DuplicatePod(model.name));
            }
            let id = endpoint_id(&model, &mut used_ids);
            let identity = endpoints.insert(id, model.endpoint());
            let labels = endpoints
                .get(id)
                .map(|k| k.labels.clone())
                .unwrap_or_default();
            let info = Arc::new(EndpointInfo {
                id: id.0,
                identity,
                namespace: Arc::from(model.namespace.as_str()),
                pod: Arc::from(model.name.as_str()),
                labels,
                workload: model.owner.as_deref().map(Arc::from),
                ip,
                node: Arc::clone(&topology.nodes[node].name),
            });
            built.push(Pod::new(PodId(i), model, (id, info, node), egress, created));
        }
        let ips = topology.cluster_ips(&services);
        let services = services
            .into_iter()
            .zip(ips)
            .map(|(model, ip)| Service::new(model, ip, &built, created))
            .collect();
        Ok(Cluster {
            topology,
            pods: built,
            services,
            policies: PolicyStore::new(Arc::new(endpoints)),
            flows: match capacity {
                Some(c) => FlowRing::new(c)?,
                None => FlowRing::disabled()?,
            },
        })
    }

    pub fn pod(&self, id: PodId) -> &Pod {
        &self.pods[id.0]
    }

    /// The pod `name` (in any namespace) or `namespace/name`.
    pub fn find_pod(&self, reference: &str) -> Option<&Pod> {
        let (ns, name) = split_namespaced(reference);
        self.pods
            .iter()
            .find(|p| p.name() == name && ns.is_none_or(|ns| ns == p.namespace()))
    }
}

/// A pod's endpoint ID: from a hash of its name (Cilium draws them at random), unique.
fn endpoint_id(model: &PodModel, used: &mut BTreeSet<u16>) -> EndpointId {
    let key = format!("{}/{}", model.namespace, model.name);
    let h = key.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let mut n = 1 + u16::try_from(h % u32::from(ENDPOINT_IDS)).unwrap_or(0);
    while used.contains(&n) {
        n = if n == ENDPOINT_IDS { 1 } else { n + 1 };
    }
    used.insert(n);
    EndpointId(n)
}
