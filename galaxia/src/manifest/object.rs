//! What names an object: its kind, namespace and name.

use std::fmt;

/// The kinds galaxia understands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ObjectKind {
    Pod,
    Deployment,
    Service,
    CiliumNetworkPolicy,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Pod => "Pod",
            ObjectKind::Deployment => "Deployment",
            ObjectKind::Service => "Service",
            ObjectKind::CiliumNetworkPolicy => "CiliumNetworkPolicy",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What identifies an object: applying an object with the same key replaces it.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ObjectKey {
    pub kind: ObjectKind,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// `namespace/name` or a bare `name`, as users name pods and Services on the command line: the
/// namespace when given, and the name.
pub fn split_namespaced(reference: &str) -> (Option<&str>, &str) {
    match reference.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, reference),
    }
}
