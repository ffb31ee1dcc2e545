//! `galaxia`: the book's Star Wars tutorial on one machine, without a cluster.
//!
//! It reads the very same Kubernetes and Cilium YAML files ([`manifest`]), decides what each
//! connection and HTTP request gets as Cilium 1.15 would ([`policy`], a pure library), and runs
//! the galaxy with kubectl-like verbs ([`cli`]). The real engine is Kubernetes with Cilium; this
//! is its local twin for learning and testing.

pub mod cli;
pub mod control;
pub mod flows;
pub mod galaxy;
pub mod manifest;
pub mod policy;
pub mod proxy;
pub mod tutorial;
