//! Cluster DNS as a pod sees it: Service names in their short and long forms, and (a convenience
//! of the twin) pod names, resolved to where a request goes.

use super::cluster::Cluster;
use super::pod::PodId;

/// Where a request is going, once its host name is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// A Service (by its place in the list) and the Service port asked for.
    Service { service: usize, port: u16 },
    /// A pod and the container port asked for.
    Pod { pod: PodId, port: u16 },
}

impl Cluster {
    /// Resolve a host as cluster DNS would for a client in namespace `from_ns`: `svc`,
    /// `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`, and pod names; port 80 when none.
    pub fn resolve(&self, host: &str, port: Option<u16>, from_ns: &str) -> Option<Destination> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let port = port.unwrap_or(80);
        let mut parts = host.splitn(2, '.');
        let name = parts.next().unwrap_or_default();
        let ns = match parts.next() {
            None => from_ns,
            Some(rest) => {
                let ns = rest
                    .strip_suffix(".svc.cluster.local")
                    .or_else(|| rest.strip_suffix(".svc"))
                    .unwrap_or(rest);
                if ns.contains('.') {
                    return None;
                }
                ns
            }
        };
        if let Some(service) = self
            .services
            .iter()
            .position(|s| s.model.name == name && s.model.namespace == ns)
        {
            return Some(Destination::Service { service, port });
        }
        let pod = self
            .pods
            .iter()
            .find(|p| p.name() == name && p.namespace() == ns)?;
        Some(Destination::Pod { pod: pod.id, port })
    }
}
