//! Everything the proxies, the control API, Hubble and the supervisors share about the running
//! galaxy: its nodes, pods, Services, the policies in force and the flows.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use politica::{EndpointId, Endpoints, NumericIdentity};

use super::arena::{Full, Pods};
use super::pod::{Pod, PodId};
use super::policies::PolicyStore;
use super::service::Service;
use super::topology::{Topology, TopologyError};
use crate::flows::FlowRing;
use crate::flows::flow::EndpointInfo;
use crate::flows::ring::RingError;
use crate::manifest::{KindCluster, PodModel, ServiceModel, split_namespaced};

use super::pod::ENDPOINT_IDS;
pub use super::pod::POD_CAPACITY;

#[derive(Debug)]
pub struct Cluster {
    pub topology: Topology,
    pub pods: Pods,
    pub services: Vec<Service>,
    pub policies: PolicyStore,
    pub flows: FlowRing,
    /// The controllers that change workloads while the galaxy runs (set once it has started).
    pub workloads: std::sync::OnceLock<Arc<dyn super::Workloads>>,
    /// Endpoint numbers given so far (a new pod gets a new one, as in Cilium).
    used_ids: Mutex<BTreeSet<u16>>,
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

impl From<Full> for ClusterError {
    fn from(f: Full) -> Self {
        ClusterError::TooManyPods(f.0)
    }
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
        let built = Pods::with_capacity(POD_CAPACITY);
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
            let info = endpoint_info(&model, id, identity, labels, ip, &topology.nodes[node].name);
            built.push_with(|pid| {
                debug_assert_eq!(pid, PodId(i));
                Pod::new(pid, model, (id, info, node), egress, created)
            })?;
        }
        let built_list: Vec<&Pod> = built.iter().collect();
        let ips = topology.cluster_ips(&services);
        let services = services
            .into_iter()
            .zip(ips)
            .map(|(model, ip)| Service::new(model, ip, &built_list, created))
            .collect();
        drop(built_list);
        Ok(Cluster {
            topology,
            used_ids: Mutex::new(used_ids),
            workloads: std::sync::OnceLock::new(),
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

    /// Add a pod while the galaxy runs (a Deployment's new replica): placed on the least loaded
    /// worker with a free IP, a new endpoint number, its identity from its labels, and a member
    /// of every Service that selects it (it takes traffic once ready).
    pub fn add_pod(
        &self,
        model: PodModel,
        egress: SocketAddr,
        created: SystemTime,
    ) -> Result<PodId, ClusterError> {
        if self
            .find_pod(&format!("{}/{}", model.namespace, model.name))
            .is_some()
        {
            return Err(ClusterError::DuplicatePod(model.name));
        }
        let live: Vec<(usize, std::net::Ipv4Addr)> =
            self.pods.iter().map(|p| (p.node, p.info.ip)).collect();
        let (node, ip) = self.topology.place_one(&model, &live);
        let id = endpoint_id(
            &model,
            &mut self.used_ids.lock().unwrap_or_else(|p| p.into_inner()),
        );
        let (identity, labels) = self.policies.add_endpoint(id, model.endpoint());
        let info = endpoint_info(
            &model,
            id,
            identity,
            labels,
            ip,
            &self.topology.nodes[node].name,
        );
        let pid = self
            .pods
            .push_with(|pid| Pod::new(pid, model, (id, info, node), egress, created))?;
        let pod = self.pod(pid);
        for s in &self.services {
            s.admit(pod);
        }
        Ok(pid)
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
    if used.len() >= usize::from(ENDPOINT_IDS) {
        // Every number given: the arena refuses the pod before it is used.
        return EndpointId(n);
    }
    while used.contains(&n) {
        n = if n == ENDPOINT_IDS { 1 } else { n + 1 };
    }
    used.insert(n);
    EndpointId(n)
}

/// What flows say of a pod: the same for the pods of `up` and those a controller makes later.
fn endpoint_info(
    model: &PodModel,
    id: EndpointId,
    identity: NumericIdentity,
    labels: Vec<String>,
    ip: std::net::Ipv4Addr,
    node: &Arc<str>,
) -> Arc<EndpointInfo> {
    Arc::new(EndpointInfo {
        id: id.0,
        identity,
        namespace: Arc::from(model.namespace.as_str()),
        pod: Arc::from(model.name.as_str()),
        labels,
        workload: model.owner.as_deref().map(Arc::from),
        ip,
        node: Arc::clone(node),
    })
}
