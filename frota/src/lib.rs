//! What every ship of the demo shares: the request kinds, the outcome of a request, the ship
//! identity, the HTTP client (with its own resolv.conf-aware name resolution and HTTP proxy
//! support), the patrol loop, its metrics and admin listener, the curl front end, and the command
//! line that `caca-tie` and `asa-x` wrap.
//!
//! `loadtest` and `galaxia` use [`outcome`] and [`kind`] too, so that an outcome has the same name
//! in logs, metrics, reports and flows everywhere.

pub mod admin;
pub mod cli;
pub mod client;
pub mod curl;
pub mod identity;
pub mod kind;
pub mod metrics;
pub mod outcome;
pub mod patrol;
pub mod proxy;
pub mod resolve;
pub mod signal;
pub mod transport;

pub use client::{Client, ClientConfig, Reply};
pub use identity::Identity;
pub use kind::{Mix, MixError, RequestKind};
pub use metrics::ShipMetrics;
pub use outcome::{Failure, Outcome};
pub use patrol::{PatrolConfig, PatrolTotals};
