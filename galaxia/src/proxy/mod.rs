//! Each pod's egress HTTP proxy on 127.0.0.1: the pod's "veth", where the galaxy enforces Cilium's
//! policies. The pod's clients send through it (the ships by configuration, `galaxia exec` through
//! `http_proxy`), so the listener a connection arrives on tells which pod is talking.
//!
//! A request meets the stages in this order, one module each:
//! [`accept`] (the listener and the HTTP/1.1 connection) -> [`identify`] (destination name,
//! backend) -> [`policy`] (L3/L4 then L7 verdict: drop, deny or go on) -> [`forward`] (the
//! keep-alive pool to the Death Star replicas, through their in-process pipes unless `--upstream
//! tcp`). [`server`] runs them in that order and writes every decision to the flow log.

pub mod accept;
pub mod body;
pub mod datapath;
pub mod forward;
pub mod identify;
pub mod policy;
pub mod server;

pub use server::Proxy;
