//! The manifest model: Kubernetes and Cilium YAML files read into typed objects (in progress).

/// Every problem found while loading manifests.
#[derive(Debug, thiserror::Error)]
#[error("invalid manifests")]
pub struct LoadErrors(pub Vec<String>);
