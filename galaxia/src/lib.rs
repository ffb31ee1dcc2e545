//! `galaxia`: the book's Star Wars tutorial on one machine, without a cluster.
//!
//! The layers, from the bottom: the policy engine (the `politica` crate) -> the manifest model
//! ([`manifest`]: the same Kubernetes and Cilium YAML files) -> flows ([`flows`]) -> the running
//! galaxy's state ([`state`]) -> the pods' egress proxies ([`proxy`]) and the control API
//! ([`control`]) -> the galaxy's lifecycle ([`galaxy`]) -> the verbs ([`cli`]) -> the tutorial
//! ([`tutorial`]) -> the whole command line ([`app`]). The real engine is Kubernetes with Cilium;
//! this is its local twin for learning and testing.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod ebpf;
pub mod flows;
pub mod galaxy;
pub mod hubble;
pub mod manifest;
pub mod proxy;
pub mod state;
/// Go's `text/tabwriter`, which lays out kubectl's, Hubble's and Cilium's tables.
pub mod tabwriter;
pub mod tutorial;
pub mod ui;
