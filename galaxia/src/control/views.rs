//! What the control API sends and takes: the JSON shapes shared by the server and the client
//! (and by the verbs' `-o json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::epoch_ms;
use crate::manifest::{Applied, ApplyMode, NotRun, ObjectKey};
use crate::state::{Cluster, Phase, Role, StoredPolicy};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PodView {
    pub name: String,
    pub namespace: String,
    pub role: Role,
    pub labels: BTreeMap<String, String>,
    pub ready: bool,
    pub phase: Phase,
    pub restarts: u32,
    pub last_restart_ms: Option<u64>,
    pub created_ms: u64,
    /// The pod's egress proxy (`http_proxy` for `galaxia exec`).
    pub egress: String,
    /// The pod's IP in the emulated cluster (a label: nothing dials it).
    pub ip: String,
    /// The node it runs on.
    pub node: String,
    /// Container port -> where it really listens on 127.0.0.1.
    pub ports: BTreeMap<u16, String>,
    /// Cilium's endpoint id and the pod's security identity (what flows and `galaxia bpf` show).
    #[serde(default)]
    pub endpoint: u16,
    #[serde(default)]
    pub identity: u32,
    /// The identity's labels (`k8s:key=value`, sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_labels: Vec<String>,
    /// On the eBPF datapath: the pod's namespaces (`galaxia exec` runs commands inside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::ebpf::Sandbox>,
    /// The Deployment that owns the pod (through its ReplicaSet), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The node's address (the pod's `status.hostIP`).
    #[serde(default)]
    pub node_ip: String,
    /// The Pod object as declared or built from its Deployment's template (what `describe`,
    /// `-o yaml` and `-o json` show, with the status the galaxy knows).
    #[serde(default)]
    pub object: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceView {
    pub name: String,
    pub namespace: String,
    /// `80/TCP`-style entries.
    pub ports: Vec<String>,
    /// Ready member pods.
    pub endpoints: Vec<String>,
    pub selector: BTreeMap<String, String>,
    pub created_ms: u64,
    /// The ClusterIP in the emulated cluster (a label: the pods' proxies resolve the name).
    pub cluster_ip: String,
    /// The Service's own labels (`metadata.labels`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The Service object as declared (`describe`, `-o yaml`).
    #[serde(default)]
    pub object: serde_json::Value,
    /// Every selected pod and the container port each Service port reaches on it (the
    /// EndpointSlices' content; `endpoints` above are the ready ones' names).
    #[serde(default)]
    pub members: Vec<MemberView>,
}

/// One pod behind a Service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberView {
    pub pod: String,
    pub ip: String,
    pub ready: bool,
    /// Per Service port (by its name, empty when unnamed): the container port, when the pod
    /// has the port a named `targetPort` names.
    pub ports: Vec<(String, Option<u16>, String)>,
}

/// Manifest text and the name it came from (a file, or `-`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub origin: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyRequest {
    pub mode: ApplyMode,
    #[serde(flatten)]
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteRequest {
    #[serde(default)]
    pub keys: Vec<ObjectKey>,
    /// Or the policies found in this text (`delete -f`).
    #[serde(default)]
    pub source: Option<Source>,
}

/// One typed result per object, in the order sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyResponse {
    pub results: Vec<Applied>,
    /// Documents left alone because of their kind (kubectl reports each as an error).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<NotRun>,
    /// kubectl's warnings, printed to stderr before the result lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PoliciesResponse {
    pub policies: Vec<StoredPolicy>,
}

/// An error from the control API: the message is meant for people, as kubectl's are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

pub fn pods(cluster: &Cluster) -> Vec<PodView> {
    cluster
        .pods
        .iter()
        .map(|p| {
            let st = p.state();
            PodView {
                name: p.name().to_string(),
                namespace: p.namespace().to_string(),
                role: p.role(),
                labels: p.model.labels.clone(),
                ready: st.ready,
                phase: st.phase,
                restarts: st.restarts,
                last_restart_ms: st.last_restart.map(epoch_ms),
                created_ms: epoch_ms(p.created),
                egress: format!("http://{}", p.egress),
                ip: p.info.ip.to_string(),
                node: p.info.node.to_string(),
                ports: st.listen.iter().map(|(k, v)| (*k, v.to_string())).collect(),
                endpoint: p.info.id,
                identity: p.info.identity.0,
                identity_labels: p.info.labels.clone(),
                sandbox: crate::ebpf::registry::sandbox(cluster, p.id),
                owner: p.model.owner.clone(),
                node_ip: cluster
                    .topology
                    .nodes
                    .get(p.node)
                    .map(|n| n.address.to_string())
                    .unwrap_or_default(),
                object: serde_json::to_value(&p.model.pod).unwrap_or_default(),
            }
        })
        .collect()
}

/// The Services, sorted by namespace and name as the API server lists them, with the `kubernetes`
/// Service every cluster has (the API server's; in a galaxy it has no endpoints: the control API
/// plays its part on 127.0.0.1).
pub fn services(cluster: &Cluster) -> Vec<ServiceView> {
    let created_ms = cluster
        .pods
        .iter()
        .map(|p| epoch_ms(p.created))
        .chain(cluster.services.iter().map(|s| epoch_ms(s.created)))
        .min()
        .unwrap_or_else(|| epoch_ms(std::time::SystemTime::now()));
    let kubernetes = ServiceView {
        name: "kubernetes".into(),
        namespace: "default".into(),
        ports: vec!["443/TCP".into()],
        endpoints: Vec::new(),
        selector: BTreeMap::new(),
        created_ms,
        cluster_ip: cluster.topology.kubernetes_ip().to_string(),
        labels: BTreeMap::from([
            ("component".to_string(), "apiserver".to_string()),
            ("provider".to_string(), "kubernetes".to_string()),
        ]),
        object: serde_json::json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default"},
            "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        }),
        members: Vec::new(),
    };
    let mut all: Vec<ServiceView> = cluster
        .services
        .iter()
        .map(|s| ServiceView {
            name: s.model.name.clone(),
            namespace: s.model.namespace.clone(),
            ports: s
                .model
                .ports
                .iter()
                .map(|p| format!("{}/{}", p.port, p.protocol))
                .collect(),
            endpoints: s
                .members
                .iter()
                .map(|&id| cluster.pod(id))
                .filter(|p| !p.is_deleted())
                .filter(|p| p.read(|st| st.ready))
                .map(|p| p.name().to_string())
                .collect(),
            selector: s.model.selector.clone(),
            created_ms: epoch_ms(s.created),
            cluster_ip: s.cluster_ip.to_string(),
            labels: s.model.service.metadata.labels.clone().unwrap_or_default(),
            object: serde_json::to_value(&s.model.service).unwrap_or_default(),
            // A deleted pod stays in the Service's member list (ids are never reused) but has
            // left its EndpointSlice.
            members: s
                .members
                .iter()
                .map(|&id| cluster.pod(id))
                .filter(|p| !p.is_deleted())
                .map(|p| MemberView {
                    pod: p.name().to_string(),
                    ip: p.info.ip.to_string(),
                    ready: p.read(|st| st.ready),
                    ports: s
                        .model
                        .ports
                        .iter()
                        .map(|sp| {
                            (
                                sp.name.clone().unwrap_or_default(),
                                s.model.target_port_on(sp, &p.model),
                                sp.protocol.to_string(),
                            )
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    if !all
        .iter()
        .any(|s| s.name == "kubernetes" && s.namespace == "default")
    {
        all.push(kubernetes);
    }
    all.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    all
}
