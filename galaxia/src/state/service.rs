//! One running Service: its manifest model, the pods its selector picks, and its round-robin
//! position.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use super::arena::Members;
use super::pod::Pod;
use crate::flows::flow::ServiceRef;
use crate::manifest::ServiceModel;

#[derive(Debug)]
pub struct Service {
    pub model: ServiceModel,
    pub created: SystemTime,
    pub cluster_ip: Ipv4Addr,
    /// How flows name it (`destination_service`).
    pub flow_ref: Arc<ServiceRef>,
    /// The pods the selector has picked (deleted pods stay, never ready again).
    pub members: Members,
    next: AtomicUsize,
}

impl Service {
    pub fn new(
        model: ServiceModel,
        cluster_ip: Ipv4Addr,
        pods: &[&Pod],
        created: SystemTime,
    ) -> Service {
        let members = Members::with_capacity(super::pod::POD_CAPACITY);
        for p in pods.iter().filter(|p| model.selects(&p.model)) {
            let _ = members.push(p.id);
        }
        Service {
            flow_ref: Arc::new(ServiceRef {
                name: Arc::from(model.name.as_str()),
                namespace: Arc::from(model.namespace.as_str()),
            }),
            model,
            created,
            cluster_ip,
            members,
            next: AtomicUsize::new(0),
        }
    }

    /// Take `pod` as a member when the selector picks it.
    pub fn admit(&self, pod: &Pod) {
        if self.model.selects(&pod.model) {
            let _ = self.members.push(pod.id);
        }
    }

    /// Where the next round-robin turn starts.
    pub(crate) fn turn(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}
