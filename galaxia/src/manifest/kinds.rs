//! Which `apiVersion`/`kind` pairs the book's cluster serves (kind's Kubernetes 1.29 with
//! Cilium 1.15's CRDs). kubectl refuses any other pair before it reaches the server ("no matches
//! for kind ... ensure CRDs are installed first"), so galaxia must refuse the same ones, and must
//! not call a kind unknown that a cluster would create.

/// Built-in kinds by group/version, then the CRDs Cilium 1.15 installs.
const SERVED: &[(&str, &[&str])] = &[
    (
        "v1",
        &[
            "Binding",
            "ComponentStatus",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "Namespace",
            "Node",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Pod",
            "PodTemplate",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "Service",
            "ServiceAccount",
        ],
    ),
    (
        "apps/v1",
        &[
            "ControllerRevision",
            "DaemonSet",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
        ],
    ),
    ("batch/v1", &["CronJob", "Job"]),
    ("autoscaling/v1", &["HorizontalPodAutoscaler"]),
    ("autoscaling/v2", &["HorizontalPodAutoscaler"]),
    ("policy/v1", &["PodDisruptionBudget"]),
    (
        "networking.k8s.io/v1",
        &["Ingress", "IngressClass", "NetworkPolicy"],
    ),
    (
        "rbac.authorization.k8s.io/v1",
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    ),
    (
        "storage.k8s.io/v1",
        &[
            "CSIDriver",
            "CSINode",
            "CSIStorageCapacity",
            "StorageClass",
            "VolumeAttachment",
        ],
    ),
    ("apiextensions.k8s.io/v1", &["CustomResourceDefinition"]),
    (
        "admissionregistration.k8s.io/v1",
        &[
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "ValidatingWebhookConfiguration",
        ],
    ),
    ("coordination.k8s.io/v1", &["Lease"]),
    ("discovery.k8s.io/v1", &["EndpointSlice"]),
    ("events.k8s.io/v1", &["Event"]),
    ("scheduling.k8s.io/v1", &["PriorityClass"]),
    ("node.k8s.io/v1", &["RuntimeClass"]),
    ("certificates.k8s.io/v1", &["CertificateSigningRequest"]),
    (
        "cilium.io/v2",
        &[
            "CiliumClusterwideEnvoyConfig",
            "CiliumClusterwideNetworkPolicy",
            "CiliumEgressGatewayPolicy",
            "CiliumEndpoint",
            "CiliumEnvoyConfig",
            "CiliumExternalWorkload",
            "CiliumIdentity",
            "CiliumLocalRedirectPolicy",
            "CiliumNetworkPolicy",
            "CiliumNode",
        ],
    ),
    (
        "cilium.io/v2alpha1",
        &[
            "CiliumBGPPeeringPolicy",
            "CiliumCIDRGroup",
            "CiliumEndpointSlice",
            "CiliumL2AnnouncementPolicy",
            "CiliumLoadBalancerIPPool",
            "CiliumNodeConfig",
            "CiliumPodIPPool",
        ],
    ),
];

/// Whether the book's cluster serves `kind` at `api_version`.
pub fn served(api_version: &str, kind: &str) -> bool {
    SERVED
        .iter()
        .any(|(version, kinds)| *version == api_version && kinds.contains(&kind))
}

/// A kind cluster's own config (`kind create cluster --config`): galaxia reads it, a cluster's
/// API server does not serve it.
pub fn is_kind_config(api_version: &str, kind: &str) -> bool {
    kind == "Cluster" && api_version.starts_with("kind.x-k8s.io/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_book_s_kinds_and_a_misspelling() {
        assert!(served("cilium.io/v2", "CiliumNetworkPolicy"));
        assert!(served("v1", "ConfigMap"));
        assert!(served("networking.k8s.io/v1", "NetworkPolicy"));
        assert!(!served("cilium.io/v2", "CiliumNetworkPolcy"));
        // The kind is right, the version is not: kubectl says "no matches" for these too.
        assert!(!served("apps/v1beta2", "Deployment"));
        assert!(!served("kind.x-k8s.io/v1alpha4", "Cluster"));
        assert!(is_kind_config("kind.x-k8s.io/v1alpha4", "Cluster"));
    }
}
