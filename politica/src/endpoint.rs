//! What the engine knows about a pod: its identity labels (as Cilium derives them), namespace and
//! container ports. Built once per pod; verdicts only borrow it.

use std::collections::BTreeMap;
use std::fmt;

/// Cilium's label for the pod's namespace, added to every endpoint.
pub const NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
/// Kubernetes labels every namespace with its name; Cilium exposes namespace labels on endpoints.
pub const NAMESPACE_NAME_LABEL: &str = "io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name";
/// Prefix of the namespace labels Cilium copies onto endpoints.
pub const NAMESPACE_LABELS_PREFIX: &str = "io.cilium.k8s.namespace.labels";
const SERVICE_ACCOUNT_LABEL: &str = "io.cilium.k8s.policy.serviceaccount";
const CLUSTER_LABEL: &str = "io.cilium.k8s.policy.cluster";

/// A transport protocol, as a container port or a policy names it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// Parse Kubernetes' spelling (`TCP`, `UDP`, `SCTP`).
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An endpoint's number, as Cilium numbers the endpoints of a node (`cilium endpoint list`'s
/// ENDPOINT column).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct EndpointId(pub u16);

impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A container port, with its name when it has one (policies may name it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct NamedPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

/// One endpoint (pod) as the policy engine sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Endpoint {
    pub name: String,
    pub namespace: String,
    /// The pod's labels plus the ones Cilium adds (namespace, namespace name, service account,
    /// cluster), all of source `k8s`.
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<NamedPort>,
}

impl Endpoint {
    /// An endpoint from a pod's own labels; adds Cilium's derived labels so that selectors on
    /// `io.kubernetes.pod.namespace` and friends match as in a cluster.
    pub fn new(
        name: impl Into<String>,
        namespace: impl Into<String>,
        pod_labels: &BTreeMap<String, String>,
        service_account: Option<&str>,
        ports: Vec<NamedPort>,
    ) -> Endpoint {
        let namespace = namespace.into();
        let mut labels = pod_labels.clone();
        labels.insert(NAMESPACE_LABEL.to_string(), namespace.clone());
        labels.insert(NAMESPACE_NAME_LABEL.to_string(), namespace.clone());
        labels.insert(
            SERVICE_ACCOUNT_LABEL.to_string(),
            service_account.unwrap_or("default").to_string(),
        );
        labels.insert(CLUSTER_LABEL.to_string(), "default".to_string());
        Endpoint {
            name: name.into(),
            namespace,
            labels,
            ports,
        }
    }

    /// The port number and protocol behind a named port, if this endpoint has one by that name.
    pub fn named_port(&self, name: &str) -> impl Iterator<Item = &NamedPort> {
        self.ports
            .iter()
            .filter(move |p| p.name.as_deref() == Some(name))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace == "default" {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}
