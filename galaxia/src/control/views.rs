//! What the control API sends: the JSON shapes shared by the server and the verbs (and by
//! `-o json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::flows::Flow;
use crate::galaxy::policies::{ApplyMode, ApplyResult, StoredPolicy};
use crate::galaxy::{Phase, Role, Shared};

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
    /// Container port -> where it really listens on 127.0.0.1.
    pub ports: BTreeMap<u16, String>,
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyRequest {
    pub mode: ApplyMode,
    pub origin: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteRequest {
    /// (namespace, name) pairs.
    #[serde(default)]
    pub names: Vec<(String, String)>,
    /// Or the policies found in this text (`delete -f`).
    #[serde(default)]
    pub text: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyResponse {
    pub results: Vec<ApplyResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlowsResponse {
    pub flows: Vec<Flow>,
    pub last_seq: u64,
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

pub fn ms(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

pub fn pods(shared: &Shared) -> Vec<PodView> {
    shared
        .pods
        .iter()
        .map(|p| {
            let st = p.state();
            PodView {
                name: p.spec.name.clone(),
                namespace: p.spec.namespace.clone(),
                role: p.spec.role,
                labels: p.spec.labels.clone(),
                ready: st.ready,
                phase: st.phase,
                restarts: st.restarts,
                last_restart_ms: st.last_restart.map(ms),
                created_ms: ms(p.created),
                egress: format!("http://{}", p.egress),
                ports: st.listen.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            }
        })
        .collect()
}

pub fn services(shared: &Shared) -> Vec<ServiceView> {
    shared
        .services
        .iter()
        .map(|s| ServiceView {
            name: s.spec.name.clone(),
            namespace: s.spec.namespace.clone(),
            ports: s
                .spec
                .ports
                .iter()
                .map(|p| format!("{}/TCP", p.port))
                .collect(),
            endpoints: s
                .members
                .iter()
                .map(|&i| &shared.pods[i])
                .filter(|p| p.state().ready)
                .map(|p| p.spec.name.clone())
                .collect(),
            selector: s.spec.selector.clone(),
            created_ms: ms(s.created),
        })
        .collect()
}
