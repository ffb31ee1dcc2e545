//! What every ship of the demo shares: the request kinds, the outcome of a request, and (in later
//! modules) the ship identity, the HTTP client, the patrol loop, metrics and the curl front end.
//!
//! `loadtest` and `galaxia` use [`outcome`] and [`kind`] too, so that an outcome has the same name
//! in logs, metrics, reports and flows everywhere.

pub mod kind;
pub mod outcome;

pub use kind::{Mix, MixError, RequestKind};
pub use outcome::{Failure, Outcome};
