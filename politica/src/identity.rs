//! Security identities as Cilium allocates them: one number per distinct set of
//! identity-relevant labels (so the replicas of a Deployment share one), cluster-scoped numbers
//! from 256 up, and the reserved ones with Cilium's numbers and names.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::endpoint::Endpoint;

/// A numeric security identity (what Hubble prints as `(ID:n)`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct NumericIdentity(pub u32);

/// The identities Cilium reserves, with its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reserved {
    Unknown = 0,
    Host = 1,
    World = 2,
    Unmanaged = 3,
    Health = 4,
    Init = 5,
    RemoteNode = 6,
    KubeApiserver = 7,
    Ingress = 8,
    WorldIpv4 = 9,
    WorldIpv6 = 10,
}

impl Reserved {
    pub const ALL: [Reserved; 11] = [
        Reserved::Unknown,
        Reserved::Host,
        Reserved::World,
        Reserved::Unmanaged,
        Reserved::Health,
        Reserved::Init,
        Reserved::RemoteNode,
        Reserved::KubeApiserver,
        Reserved::Ingress,
        Reserved::WorldIpv4,
        Reserved::WorldIpv6,
    ];

    /// Cilium's name (`reserved:<name>` is the identity's label).
    pub fn name(self) -> &'static str {
        match self {
            Reserved::Unknown => "unknown",
            Reserved::Host => "host",
            Reserved::World => "world",
            Reserved::Unmanaged => "unmanaged",
            Reserved::Health => "health",
            Reserved::Init => "init",
            Reserved::RemoteNode => "remote-node",
            Reserved::KubeApiserver => "kube-apiserver",
            Reserved::Ingress => "ingress",
            Reserved::WorldIpv4 => "world-ipv4",
            Reserved::WorldIpv6 => "world-ipv6",
        }
    }

    pub fn identity(self) -> NumericIdentity {
        NumericIdentity(self as u32)
    }

    pub fn of(id: NumericIdentity) -> Option<Reserved> {
        Reserved::ALL.into_iter().find(|r| *r as u32 == id.0)
    }
}

impl fmt::Display for NumericIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Reserved::of(*self) {
            Some(r) => f.write_str(r.name()),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The first identity a cluster (cluster ID 0) allocates, and the last.
pub const MIN_CLUSTER_IDENTITY: u32 = 256;
pub const MAX_CLUSTER_IDENTITY: u32 = 65_535;

/// Label keys Cilium leaves out of identities by default: they differ between pods that must
/// share one (a Deployment's template hash) or say nothing about security.
const IGNORED_PREFIXES: [&str; 10] = [
    "io.kubernetes",
    "kubernetes.io",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/job-completion-index",
    "k8s.io",
    "pod-template-generation",
    "pod-template-hash",
    "controller-revision-hash",
    "annotation",
];
/// ...unless a longer rule keeps them (the namespace label, namespace labels, app.kubernetes.io).
const KEPT_PREFIXES: [&str; 4] = [
    "io.kubernetes.pod.namespace",
    "io.cilium.k8s.namespace.labels",
    "app.kubernetes.io",
    "io.cilium.k8s.policy.cluster",
];

/// True when a (k8s-source) label key counts for the identity.
pub fn identity_relevant(key: &str) -> bool {
    let shortest_ignore = IGNORED_PREFIXES
        .iter()
        .filter(|p| key.starts_with(*p))
        .map(|p| p.len())
        .min();
    let ignored_beta = key.contains("beta.kubernetes.io");
    let Some(ignore) = shortest_ignore.or(ignored_beta.then_some(0)) else {
        return key != "etcd_node";
    };
    KEPT_PREFIXES
        .iter()
        .filter(|p| key.starts_with(*p))
        .any(|p| p.len() > ignore)
}

/// An endpoint's identity labels as Hubble lists them: `k8s:key=value`, relevant ones only,
/// sorted byte-wise.
pub fn identity_labels(endpoint: &Endpoint) -> Vec<String> {
    let mut labels: Vec<String> = endpoint
        .labels
        .iter()
        .filter(|(k, _)| identity_relevant(k))
        .map(|(k, v)| {
            if v.is_empty() {
                format!("k8s:{k}")
            } else {
                format!("k8s:{k}={v}")
            }
        })
        .collect();
    labels.sort();
    labels
}

/// The identities of one cluster: the same labels always get the same number. Numbers come
/// from a hash of the labels (Cilium draws them at random), so a galaxy restarted from the same
/// manifests shows the same identities.
#[derive(Debug, Clone, Default)]
pub struct Identities {
    by_labels: BTreeMap<Vec<String>, NumericIdentity>,
    used: BTreeSet<u32>,
}

impl Identities {
    pub fn new() -> Identities {
        Identities::default()
    }

    /// The identity of this label set, allocated on first sight.
    pub fn allocate(&mut self, labels: &[String]) -> NumericIdentity {
        if let Some(id) = self.by_labels.get(labels) {
            return *id;
        }
        let span = MAX_CLUSTER_IDENTITY - MIN_CLUSTER_IDENTITY + 1;
        let hash = labels.iter().fold(0x811c_9dc5u32, |h, l| {
            l.bytes()
                .chain(std::iter::once(0))
                .fold(h, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
        });
        let mut n = MIN_CLUSTER_IDENTITY + hash % span;
        while self.used.contains(&n) {
            n = if n == MAX_CLUSTER_IDENTITY {
                MIN_CLUSTER_IDENTITY
            } else {
                n + 1
            };
        }
        self.used.insert(n);
        let id = NumericIdentity(n);
        self.by_labels.insert(labels.to_vec(), id);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(labels: &[(&str, &str)]) -> Endpoint {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Endpoint::new("p", "default", &labels, None, Vec::new())
    }

    #[test]
    fn replicas_share_an_identity_and_others_differ() {
        let a = ep(&[("class", "estrela-da-morte"), ("pod-template-hash", "abc")]);
        let b = ep(&[("class", "estrela-da-morte"), ("pod-template-hash", "xyz")]);
        let c = ep(&[("class", "caca-tie")]);
        let mut ids = Identities::new();
        let (ia, ib, ic) = (
            ids.allocate(&identity_labels(&a)),
            ids.allocate(&identity_labels(&b)),
            ids.allocate(&identity_labels(&c)),
        );
        assert_eq!(ia, ib);
        assert_ne!(ia, ic);
        for id in [ia, ic] {
            assert!((MIN_CLUSTER_IDENTITY..=MAX_CLUSTER_IDENTITY).contains(&id.0));
        }
    }

    #[test]
    fn labels_read_as_hubble_lists_them() {
        let e = ep(&[
            ("app.kubernetes.io/name", "estrela-da-morte"),
            ("class", "estrela-da-morte"),
            ("org", "imperio"),
            ("pod-template-hash", "abc"),
        ]);
        assert_eq!(
            identity_labels(&e),
            [
                "k8s:app.kubernetes.io/name=estrela-da-morte",
                "k8s:class=estrela-da-morte",
                "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default",
                "k8s:io.cilium.k8s.policy.cluster=default",
                "k8s:io.cilium.k8s.policy.serviceaccount=default",
                "k8s:io.kubernetes.pod.namespace=default",
                "k8s:org=imperio",
            ]
        );
    }

    #[test]
    fn reserved_identities_have_ciliums_numbers_and_names() {
        assert_eq!(Reserved::World.identity(), NumericIdentity(2));
        assert_eq!(NumericIdentity(1).to_string(), "host");
        assert_eq!(NumericIdentity(4).to_string(), "health");
        assert_eq!(NumericIdentity(256).to_string(), "256");
    }
}
