//! Load balancing, as a Service does it: round robin over the ready pods behind it, each reached
//! on the container port its Service port targets.

use std::net::SocketAddr;

use estrela_da_morte::pipe::PipeConnector;

use super::cluster::Cluster;
use super::dns::Destination;
use super::pod::{Pod, PodId};

/// A ready backend: the pod, its container port, where that port listens, and the in-process way
/// in when the port has one.
#[derive(Debug, Clone)]
pub struct Backend {
    pub pod: PodId,
    pub port: u16,
    pub addr: SocketAddr,
    pub pipe: Option<PipeConnector>,
}

/// Why no backend could be picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoBackend {
    /// The Service has no port with that number.
    NoSuchPort,
    /// No member is ready (all exploded, or none selected).
    NotReady,
}

impl Cluster {
    /// Pick a ready backend: the pod itself, or round robin over the Service's ready members.
    pub fn pick(&self, dest: Destination) -> Result<Backend, NoBackend> {
        match dest {
            Destination::Pod { pod, port } => {
                ready_backend(self.pod(pod), port).ok_or(NoBackend::NotReady)
            }
            Destination::Service { service, port } => {
                let svc = &self.services[service];
                let sp = svc.model.port(port).ok_or(NoBackend::NoSuchPort)?;
                let n = svc.members.len();
                let start = svc.turn();
                (0..n)
                    .map(|i| self.pod(svc.members[(start + i) % n.max(1)]))
                    .find_map(|p| {
                        let container_port = svc.model.target_port_on(sp, &p.model)?;
                        ready_backend(p, container_port)
                    })
                    .ok_or(NoBackend::NotReady)
            }
        }
    }
}

/// Container port `port` of `pod`, when the pod is ready to serve it.
fn ready_backend(pod: &Pod, port: u16) -> Option<Backend> {
    pod.read(|st| {
        if !st.ready {
            return None;
        }
        let addr = st.listen.get(&port).copied()?;
        let pipe = st
            .pipe
            .as_ref()
            .filter(|(p, _)| *p == port)
            .map(|(_, c)| c.clone());
        Some(Backend {
            pod: pod.id,
            port,
            addr,
            pipe,
        })
    })
}
