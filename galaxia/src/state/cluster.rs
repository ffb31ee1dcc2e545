//! Everything the proxies, the control API and the supervisors share about the running galaxy:
//! its pods, Services, the policies in force and the flow log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use politica::{EndpointId, Endpoints};

use super::pod::{Pod, PodId};
use super::policies::PolicyStore;
use super::service::Service;
use crate::flows::FlowLog;
use crate::manifest::{PodModel, ServiceModel, split_namespaced};

/// Cilium numbers endpoints per node from 1; the galaxy numbers its pods in manifest order.
const FIRST_ENDPOINT_ID: u16 = 1;

#[derive(Debug)]
pub struct Cluster {
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub policies: PolicyStore,
    pub flows: FlowLog,
}

/// Why a galaxy cannot be built from these manifests.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("two pods are named {0}")]
    DuplicatePod(String),
    #[error("more pods than endpoint numbers ({0})")]
    TooManyPods(usize),
}

impl Cluster {
    /// The galaxy's pods (each with its egress proxy's address), its Services, no policy yet.
    pub fn new(
        pods: Vec<(PodModel, SocketAddr)>,
        services: Vec<ServiceModel>,
        created: SystemTime,
    ) -> Result<Cluster, ClusterError> {
        let mut built: Vec<Pod> = Vec::with_capacity(pods.len());
        let mut endpoints = Endpoints::new();
        let count = pods.len();
        for (i, (model, egress)) in pods.into_iter().enumerate() {
            if built
                .iter()
                .any(|p| p.name() == model.name && p.namespace() == model.namespace)
            {
                return Err(ClusterError::DuplicatePod(model.name));
            }
            let id = u16::try_from(i)
                .ok()
                .and_then(|i| i.checked_add(FIRST_ENDPOINT_ID))
                .map(EndpointId)
                .ok_or(ClusterError::TooManyPods(count))?;
            endpoints.insert(id, model.endpoint());
            built.push(Pod::new(PodId(i), model, id, egress, created));
        }
        let services = services
            .into_iter()
            .map(|model| Service::new(model, &built, created))
            .collect();
        Ok(Cluster {
            pods: built,
            services,
            policies: PolicyStore::new(Arc::new(endpoints)),
            flows: FlowLog::default(),
        })
    }

    /// A galaxy with nothing in it (a placeholder before one starts).
    pub fn empty() -> Cluster {
        Cluster {
            pods: Vec::new(),
            services: Vec::new(),
            policies: PolicyStore::new(Arc::new(Endpoints::new())),
            flows: FlowLog::default(),
        }
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
