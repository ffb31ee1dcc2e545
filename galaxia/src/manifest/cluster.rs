//! The kind cluster the manifests run on (`k8s/cluster.yml`): its name, its nodes and its
//! subnets. galaxia runs no kind, but lays its pods out on these nodes and addresses, so that
//! flows and `get pods -o wide` read as on the book's cluster.

use serde::Deserialize;

/// The parts of kind's `Cluster` config (`kind.x-k8s.io/v1alpha4`) that shape a galaxy; the rest
/// (port mappings, mounts, CNI switches) is kind's business and is accepted unread.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindCluster {
    /// kind's default when unnamed.
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default = "default_nodes")]
    pub nodes: Vec<KindNode>,
    #[serde(default)]
    pub networking: Networking,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KindNode {
    /// `control-plane` or `worker`.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Networking {
    #[serde(default = "default_pod_subnet")]
    pub pod_subnet: String,
    #[serde(default = "default_service_subnet")]
    pub service_subnet: String,
}

impl Default for Networking {
    fn default() -> Self {
        Networking {
            pod_subnet: default_pod_subnet(),
            service_subnet: default_service_subnet(),
        }
    }
}

fn default_name() -> String {
    "kind".into()
}

fn default_nodes() -> Vec<KindNode> {
    vec![KindNode {
        role: "control-plane".into(),
    }]
}

fn default_pod_subnet() -> String {
    "10.244.0.0/16".into()
}

fn default_service_subnet() -> String {
    "10.96.0.0/12".into()
}

impl KindCluster {
    /// The book's cluster (`k8s/cluster.yml`), when the manifests bring none.
    pub fn book() -> KindCluster {
        serde_norway::from_str(super::book::CLUSTER).unwrap_or(KindCluster {
            name: default_name(),
            nodes: default_nodes(),
            networking: Networking::default(),
        })
    }

    /// kind's node names: `<cluster>-control-plane`, `<cluster>-worker`, `<cluster>-worker2`, ...
    pub fn node_names(&self) -> Vec<(String, bool)> {
        let mut seen = std::collections::BTreeMap::<&str, usize>::new();
        self.nodes
            .iter()
            .map(|n| {
                let i = seen.entry(n.role.as_str()).or_default();
                *i += 1;
                let suffix = if *i == 1 {
                    String::new()
                } else {
                    i.to_string()
                };
                (
                    format!("{}-{}{suffix}", self.name, n.role),
                    n.role == "control-plane",
                )
            })
            .collect()
    }
}
