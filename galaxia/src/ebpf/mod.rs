//! The eBPF datapath (`galaxia up --datapath ebpf`, root): Cilium's datapath in miniature, with
//! real kernel objects and no Kubernetes. Pods are processes of our real binaries in network
//! namespaces of their own ([`fabric`], [`enter`], [`pods`]), each emulated node a namespace,
//! joined by a bridge in another; cluster DNS answers at the kube-dns ClusterIP ([`dns`]); eBPF
//! programs ([`loader`], `galaxia/bpf/galaxia.c`) load-balance Services at connect(), enforce
//! identity-based L3/L4 policy on every packet into a pod from an ipcache, a policy map compiled
//! from the policy engine ([`policy`]) and conntrack ([`maps`]), hand L7 ports to galaxia's proxy
//! ([`l7`]), and report drops, verdicts and traces that become Hubble flows ([`events`]).
//!
//! Nothing of it touches the host's network namespace, and everything carries a `galaxia-<pid>-<n>`
//! name ([`names`]): removed when the galaxy stops, and by the next start after a `kill -9`
//! ([`cleanup`]).

pub mod cgroup;
pub mod cleanup;
pub mod datapath;
pub mod dns;
pub mod enter;
pub mod events;
pub mod fabric;
pub mod l7;
pub mod loader;
pub mod maps;
pub mod names;
pub mod netns;
pub mod pods;
pub mod policy;
pub mod registry;

pub use datapath::{Datapath, EbpfError, preflight};
pub use enter::Sandbox;
