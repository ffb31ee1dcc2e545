//! The running galaxy's state, below the proxies and the control API that read and change it:
//! pods ([`pod`]), Services ([`service`]), cluster DNS ([`dns`]), load balancing ([`balance`]),
//! the policies in force ([`policies`]), all held by one [`Cluster`].

pub mod arena;
pub mod balance;
pub mod cluster;
pub mod dns;
pub mod events;
pub mod logs;
pub mod pod;
pub mod policies;
pub mod service;
pub mod topology;
pub mod workloads;

pub use arena::{Members, Pods};
pub use balance::{Backend, NoBackend};
pub use cluster::{Cluster, ClusterError};
pub use events::Event;
pub use pod::{Phase, Pod, PodId, Role};
pub use policies::{PolicyError, PolicyStore, StoredPolicy};
pub use topology::{Node, Topology};
pub use workloads::{DeploymentView, WorkloadError, Workloads};
