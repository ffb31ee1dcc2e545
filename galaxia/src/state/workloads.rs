//! What a running galaxy's controllers do to its workloads, as the verbs ask: delete a pod (its
//! ReplicaSet makes another), scale a Deployment, restart its rollout. The galaxy's lifecycle
//! (`galaxy::lifecycle`) implements it; the control API calls it through [`super::Cluster`].

use serde::{Deserialize, Serialize};

/// Why a workload change was refused; the message is kubectl's (or says what galaxia cannot do).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// `Error from server (NotFound): ...`
    #[error("{0}")]
    NotFound(String),
    /// This galaxy cannot do it (the eBPF datapath's pods are fixed).
    #[error("{0}")]
    Unsupported(String),
}

/// A Deployment as `get deploy`/`describe deployment` need it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeploymentView {
    pub name: String,
    pub namespace: String,
    /// Desired replicas (`spec.replicas`).
    pub replicas: u32,
    /// The current ReplicaSet's `pod-template-hash`.
    pub template_hash: String,
    /// The pods it owns now, oldest first.
    pub pods: Vec<String>,
    /// Of those, how many are ready, and how many run the current template.
    pub ready: u32,
    pub updated: u32,
    /// `kubectl.kubernetes.io/restartedAt` of the last `rollout restart`.
    pub restarted_at: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// Ready for the Deployment's purposes (galaxia has no minReadySeconds: the ready ones).
    #[serde(default)]
    pub available: u32,
    /// The ReplicaSets that rollouts replaced (`NAME-HASH`) and the pods each still has.
    #[serde(default)]
    pub old_replica_sets: Vec<(String, u32)>,
    /// The Deployment as declared (`serde_json::to_value` of the k8s object).
    #[serde(default)]
    pub object: serde_json::Value,
    /// The deployment controller's events about it, oldest first.
    #[serde(default)]
    pub events: Vec<super::Event>,
    /// The replicaset controller's events, by ReplicaSet name.
    #[serde(default)]
    pub replica_set_events: std::collections::BTreeMap<String, Vec<super::Event>>,
}

pub trait Workloads: Send + Sync + std::fmt::Debug {
    /// Delete pod `reference` (`name` or `namespace/name`); returns its name.
    fn delete_pod(&self, reference: &str) -> Result<String, WorkloadError>;
    /// Set Deployment `name`'s replicas.
    fn scale(&self, namespace: &str, name: &str, replicas: u32) -> Result<(), WorkloadError>;
    /// Replace Deployment `name`'s pods one by one with pods of a new template hash.
    fn restart(&self, namespace: &str, name: &str) -> Result<(), WorkloadError>;
    fn deployments(&self) -> Vec<DeploymentView>;
}
