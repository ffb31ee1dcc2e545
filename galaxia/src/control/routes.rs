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
