//! The control API's routes: the one list the server mounts and the client calls.

/// `GET`: the pods ([`super::views::PodView`]).
pub const PODS: &str = "/v1/pods";
/// `GET`: the Services ([`super::views::ServiceView`]).
pub const SERVICES: &str = "/v1/services";
/// `GET`: the policies in force ([`super::views::PoliciesResponse`]).
pub const POLICIES: &str = "/v1/cnp";
/// `POST`: create or apply policies ([`super::views::ApplyRequest`]).
pub const APPLY: &str = "/v1/cnp/apply";
/// `POST`: delete policies by key or by file ([`super::views::DeleteRequest`]).
pub const DELETE: &str = "/v1/cnp/delete";
/// `GET`: Prometheus text of the galaxy's metrics (Hubble's among them).
pub const METRICS: &str = "/metrics";
/// `GET`: a pod's container log ([`crate::state::logs::LogChunk`]); query `pod`, `previous`,
/// `since`, `tail`.
pub const LOGS: &str = "/v1/pods/log";
/// `POST`: delete a pod ([`super::api::PodRequest`]); its Deployment makes another.
pub const DELETE_POD: &str = "/v1/pods/delete";
/// `GET`: the Deployments ([`crate::state::DeploymentView`]).
pub const DEPLOYMENTS: &str = "/v1/deployments";
/// `POST`: set a Deployment's replicas ([`super::api::ScaleRequest`]).
pub const SCALE: &str = "/v1/deployments/scale";
/// `POST`: `rollout restart` a Deployment ([`super::api::DeploymentRequest`]).
pub const RESTART: &str = "/v1/deployments/restart";
