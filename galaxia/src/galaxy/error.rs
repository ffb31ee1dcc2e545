//! Why a galaxy did not start.

use crate::state::ClusterError;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("binding a loopback port for {what}")]
    Bind {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no pod named {0}")]
    UnknownPod(String),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The eBPF datapath could not start (its message says what to install or to do instead).
    #[error(transparent)]
    Ebpf(#[from] crate::ebpf::EbpfError),
}
