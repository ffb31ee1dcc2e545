//! The options of a running galaxy that are not in the manifests.

use std::time::Duration;

use crate::config;

#[derive(Debug, Clone)]
pub struct Options {
    /// Start the ships' patrols (off for tests that count only their own requests).
    pub patrol: bool,
    /// The base of the restart back-off (Kubernetes: 10 s).
    pub restart_backoff: Duration,
    /// Seconds between the exhaust-port hit and the Death Star's exit.
    pub explosion_delay: Duration,
    /// The ships' patrol interval between requests.
    pub patrol_interval: Duration,
    /// The ships' per-request timeout (what turns a drop into `dropped`).
    pub patrol_timeout: Duration,
    /// How the proxies reach the Death Star replicas.
    pub upstream: Upstream,
    /// How many flows Hubble's ring keeps (one less than a power of two); `None`: Hubble off.
    pub hubble_buffer: Option<usize>,
    /// Which datapath carries the pods' traffic.
    pub datapath: Datapath,
}

/// Which datapath carries the pods' traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Datapath {
    /// Pods in this process behind per-pod egress proxies on loopback: no root needed.
    #[default]
    Userspace,
    /// Pods as processes in network namespaces, policy in eBPF programs (`crate::ebpf`): root.
    Ebpf,
}

/// How the proxies reach the Death Star replicas. Either way each replica is a whole estrela-da-morte
/// server that parses, answers and keeps alive the connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Upstream {
    /// An in-process connection (estrela-da-morte's pipe): no second trip through the kernel.
    #[default]
    Pipe,
    /// TCP to the replica's loopback port, as a proxy in another process would.
    Tcp,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            patrol: true,
            restart_backoff: config::RESTART_BACKOFF_BASE,
            explosion_delay: Duration::from_secs(2),
            patrol_interval: Duration::from_secs(1),
            patrol_timeout: Duration::from_secs(2),
            upstream: Upstream::default(),
            hubble_buffer: Some(crate::flows::ring::DEFAULT_CAPACITY),
            datapath: Datapath::default(),
        }
    }
}
