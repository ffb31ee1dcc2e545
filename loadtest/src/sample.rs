//! [`Sample`]: what one request got, as a worker sends it to the collector and the live metrics.
//!
//! Its own module so that the collector and the metrics both read it without importing each
//! other.

use frota::{Outcome, RequestKind};
use tokio::time::{Duration, Instant};

use crate::client::ErrorKind;

/// What one request got.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub kind: RequestKind,
    pub outcome: Outcome,
    /// Set when the request got no HTTP answer.
    pub error: Option<ErrorKind>,
    /// From the request's due time to its end.
    pub latency: Duration,
    /// Started more than [`crate::schedule::LATE_AFTER`] after its due time.
    pub late: bool,
    /// False during the warm-up.
    pub recorded: bool,
    pub done_at: Instant,
}
