//! The galaxy's lifecycle, above its state, proxies and control API: [`start`] brings it up and
//! down, [`deathstar`] runs each replica as the kubelet runs a container, [`ship`] runs each
//! ship's patrol. Everything runs inside one process on loopback; nothing needs root.

pub mod deathstar;
pub mod error;
pub mod lifecycle;
pub mod listen;
pub mod options;
pub mod ship;
pub mod start;

pub use options::{Datapath, Options, Upstream};
pub use start::{Ports, Running, launch};
