//! Where pods live in the emulated cluster: the nodes of the kind config, a pod subnet slice per
//! node, a pod IP for each pod and a ClusterIP for each Service. In the userspace galaxy these
//! addresses are labels (flows and tables show them, nothing dials them); they are allocated
//! deterministically, so a galaxy restarted from the same manifests looks the same.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::manifest::{KindCluster, PodModel, ServiceModel};

/// One node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: Arc<str>,
    pub control_plane: bool,
    /// This node's slice of the pod subnet: `base/24`.
    pub pod_cidr: Ipv4Addr,
    /// The node's own address on kind's docker network (`172.18.0.x`), as GetNodes reports it.
    pub address: Ipv4Addr,
}

#[derive(Debug, Clone)]
pub struct Topology {
    pub cluster: String,
    pub nodes: Vec<Node>,
    service_net: (Ipv4Addr, u8),
}

#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("the kind cluster's {field} {value:?} is not an IPv4 CIDR (like 10.244.0.0/16)")]
    BadSubnet { field: &'static str, value: String },
    #[error("the pod subnet {0} has no /24 left for node {1}")]
    PodSubnetFull(String, usize),
    #[error("the cluster has no node")]
    NoNode,
}

/// kubeadm (kind) gives each node a /24 of the pod subnet; the first addresses of it are Cilium's
/// router and health endpoint, so pods start above them.
const NODE_PREFIX: u8 = 24;
const FIRST_POD_HOST: u32 = 10;
/// The `kubernetes` Service and kube-dns take these offsets of the service subnet.
const RESERVED_SERVICE_HOSTS: [u32; 2] = [1, 10];

impl Topology {
    pub fn new(cluster: &KindCluster) -> Result<Topology, TopologyError> {
        let pod_net =
            parse_cidr(&cluster.networking.pod_subnet).ok_or_else(|| TopologyError::BadSubnet {
                field: "podSubnet",
                value: cluster.networking.pod_subnet.clone(),
            })?;
        let service_net = parse_cidr(&cluster.networking.service_subnet).ok_or_else(|| {
            TopologyError::BadSubnet {
                field: "serviceSubnet",
                value: cluster.networking.service_subnet.clone(),
            }
        })?;
        let names = cluster.node_names();
        if names.is_empty() {
            return Err(TopologyError::NoNode);
        }
        let slices = 1u32 << (NODE_PREFIX.saturating_sub(pod_net.1));
        let nodes = names
            .into_iter()
            .enumerate()
            .map(|(i, (name, control_plane))| {
                let index = u32::try_from(i).unwrap_or(u32::MAX);
                if index >= slices {
                    return Err(TopologyError::PodSubnetFull(
                        cluster.networking.pod_subnet.clone(),
                        i,
                    ));
                }
                let base = u32::from(pod_net.0) + (index << (32 - u32::from(NODE_PREFIX)));
                Ok(Node {
                    name: Arc::from(name),
                    control_plane,
                    pod_cidr: Ipv4Addr::from(base),
                    address: Ipv4Addr::new(172, 18, 0, u8::try_from(i + 2).unwrap_or(255)),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Topology {
            cluster: cluster.name.clone(),
            nodes,
            service_net,
        })
    }

    /// Place each pod on a node and give it an IP of that node's /24. The control plane is
    /// tainted in kind, so pods go to the workers (to the control plane only when there is no
    /// worker); each pod goes to the least loaded one, ties to the first, which spreads a
    /// Deployment's replicas over the nodes as its hostname topology spread asks.
    pub fn place(&self, pods: &[PodModel]) -> Vec<(usize, Ipv4Addr)> {
        let workers: Vec<usize> = {
            let w: Vec<usize> = (0..self.nodes.len())
                .filter(|&i| !self.nodes[i].control_plane)
                .collect();
            if w.is_empty() {
                (0..self.nodes.len()).collect()
            } else {
                w
            }
        };
        let mut load = vec![0usize; self.nodes.len()];
        let mut used: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); self.nodes.len()];
        pods.iter()
            .map(|p| {
                let node = workers
                    .iter()
                    .copied()
                    .min_by_key(|&i| (load[i], i))
                    .unwrap_or(0);
                load[node] += 1;
                let span = 255 - FIRST_POD_HOST;
                let mut host = FIRST_POD_HOST + hash(&format!("{}/{}", p.namespace, p.name)) % span;
                while used[node].contains(&host) {
                    host = if host == 254 {
                        FIRST_POD_HOST
                    } else {
                        host + 1
                    };
                }
                used[node].insert(host);
                (
                    node,
                    Ipv4Addr::from(u32::from(self.nodes[node].pod_cidr) + host),
                )
            })
            .collect()
    }

    /// Place one more pod beside the `live` ones (node, IP): the least loaded worker, an IP of
    /// its /24 that no live pod holds.
    pub fn place_one(&self, pod: &PodModel, live: &[(usize, Ipv4Addr)]) -> (usize, Ipv4Addr) {
        let mut workers: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| !self.nodes[i].control_plane)
            .collect();
        if workers.is_empty() {
            workers = (0..self.nodes.len()).collect();
        }
        let load = |n: usize| live.iter().filter(|(node, _)| *node == n).count();
        let node = workers
            .iter()
            .copied()
            .min_by_key(|&i| (load(i), i))
            .unwrap_or(0);
        let span = 255 - FIRST_POD_HOST;
        let base = u32::from(self.nodes[node].pod_cidr);
        let mut host = FIRST_POD_HOST + hash(&format!("{}/{}", pod.namespace, pod.name)) % span;
        for _ in 0..span {
            let ip = Ipv4Addr::from(base + host);
            if !live.iter().any(|(_, taken)| *taken == ip) {
                break;
            }
            host = if host == 254 {
                FIRST_POD_HOST
            } else {
                host + 1
            };
        }
        (node, Ipv4Addr::from(base + host))
    }

    /// The service subnet (network, prefix length).
    pub fn service_subnet(&self) -> (Ipv4Addr, u8) {
        self.service_net
    }

    /// The `kubernetes` Service's ClusterIP (the API server's, the service subnet's first address).
    pub fn kubernetes_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.service_net.0) + RESERVED_SERVICE_HOSTS[0])
    }

    /// The kube-dns Service's ClusterIP (the tenth address of the service subnet, as kubeadm
    /// gives it), reserved here so that no Service takes it.
    pub fn kube_dns_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.service_net.0) + RESERVED_SERVICE_HOSTS[1])
    }

    /// A ClusterIP for each Service, in order, from the service subnet.
    pub fn cluster_ips(&self, services: &[ServiceModel]) -> Vec<Ipv4Addr> {
        let (base, prefix) = self.service_net;
        let size = 1u32 << (32 - u32::from(prefix));
        let mut used: BTreeSet<u32> = RESERVED_SERVICE_HOSTS.into_iter().collect();
        services
            .iter()
            .map(|s| {
                let span = size.saturating_sub(2).max(1);
                let mut host = 1 + hash(&format!("{}/{}", s.namespace, s.name)) % span;
                while used.contains(&host) {
                    host = if host + 1 >= size { 1 } else { host + 1 };
                }
                used.insert(host);
                Ipv4Addr::from(u32::from(base) + host)
            })
            .collect()
    }
}

/// `10.244.0.0/16` as (network, prefix length); the host bits are cleared.
fn parse_cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (ip, prefix) = s.trim().split_once('/')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let prefix: u8 = prefix.parse().ok().filter(|p| *p <= NODE_PREFIX)?;
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    Some((Ipv4Addr::from(u32::from(ip) & mask), prefix))
}

fn hash(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;
    use crate::manifest::{book, load_str};

    #[test]
    fn the_books_cluster_has_its_nodes_and_subnets() {
        let t = Topology::new(&KindCluster::book()).unwrap();
        let names: Vec<&str> = t.nodes.iter().map(|n| &*n.name).collect();
        assert_eq!(
            names,
            [
                "jornada-k8s-ebpf-control-plane",
                "jornada-k8s-ebpf-worker",
                "jornada-k8s-ebpf-worker2",
                "jornada-k8s-ebpf-worker3"
            ]
        );
        assert_eq!(t.nodes[0].pod_cidr, Ipv4Addr::new(10, 244, 0, 0));
        assert_eq!(t.nodes[3].pod_cidr, Ipv4Addr::new(10, 244, 3, 0));
        let m = load_str(book::STARWARS, "starwars.yml").unwrap();
        let placed = t.place(m.pods());
        let nodes: Vec<usize> = placed.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            nodes,
            [1, 2, 3, 1],
            "replicas spread, nothing on the control plane"
        );
        for (n, ip) in &placed {
            let o = ip.octets();
            assert_eq!((o[0], o[1], o[2]), (10, 244, u8::try_from(*n).unwrap()));
        }
        let ips = t.cluster_ips(m.services());
        let o = ips[0].octets();
        assert!(o[0] == 10 && (96..112).contains(&o[1]), "{ips:?}");
        assert_ne!(ips[0], Ipv4Addr::new(10, 96, 0, 1));
    }
}
