//! The Death Star of Cilium's Star Wars demo, wire-compatible with `quay.io/cilium/starwars:v2.1`,
//! plus an admin port (probes, metrics), logs and graceful shutdown.
//!
//! [`run`] serves one station on two listeners until a shutdown trigger or an explosion; the caller
//! decides what an explosion means (the binary exits with status 2, galaxia restarts the pod).
//! [`run_with_pipe`] also takes in-process connections ([`pipe`]), for hosts like galaxia.

pub mod admin;
pub mod config;
pub mod demo;
pub mod logging;
pub mod metrics;
pub mod pipe;
mod server;
pub mod wire;

pub use config::Config;
pub use server::{run, run_with_pipe};

/// How [`run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The shutdown trigger fired; connections were drained and closed.
    Shutdown,
    /// The exhaust port was hit and the station blew up `explode_after` later.
    Exploded,
}

/// What can stop [`run`] from serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The metrics registry refused a metric (a bug, not an input problem).
    #[error("cannot set up metrics")]
    Metrics(#[from] prometheus::Error),
    /// A socket operation failed.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The cause.
        source: std::io::Error,
    },
}
