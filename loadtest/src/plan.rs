//! The validated plan of a run: the load model, the stop condition and the target, built from
//! the raw flags by [`Plan::new`] before anything runs, so that the worker loop never looks at
//! flags.
//!
//! It takes the flags as a plain [`Flags`] rather than clap's `Args`, so that this module and
//! everything that reads a plan (the schedule, the report) never depend on the command line.

use std::time::Duration;

use frota::Mix;

use crate::target::{Target, TargetError};

/// When neither `--duration` nor `--requests` is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// How requests are started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Each connection sends its next request when the previous one is answered.
    Closed { connections: usize },
    /// Requests start on a fixed schedule of `rate` per second, at most `connections` at once.
    Open { rate: f64, connections: usize },
}

impl Model {
    pub fn connections(&self) -> usize {
        match *self {
            Model::Closed { connections } | Model::Open { connections, .. } => connections,
        }
    }
}

/// When the measured part of the run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    After(Duration),
    Requests(u64),
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    pub model: Model,
    pub stop: Stop,
    pub warmup: Duration,
    pub mix: Mix,
    pub timeout: Duration,
    pub keepalive: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("-c/--connections must be at least 1")]
    NoConnections,
    #[error("--rate must be a positive number of requests per second, got {0}")]
    BadRate(f64),
    #[error("--requests must be at least 1")]
    NoRequests,
    #[error("--duration must be longer than 0s")]
    NoDuration,
    #[error("--timeout must be longer than 0s")]
    NoTimeout,
    #[error("--threads must be at least 1")]
    NoThreads,
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// The flags that shape a plan, as given (the command line's, or a library caller's).
#[derive(Debug, Clone)]
pub struct Flags<'a> {
    pub url: &'a str,
    pub connections: usize,
    pub rate: Option<f64>,
    pub duration: Option<Duration>,
    pub requests: Option<u64>,
    pub warmup: Duration,
    pub mix: &'a Mix,
    pub timeout: Duration,
    pub host: Option<&'a str>,
    pub proxy: Option<&'a str>,
    pub keepalive: bool,
    /// Not part of the plan (the runtime is built before it), but checked with it.
    pub threads: Option<usize>,
}

impl Plan {
    /// Check how the flags combine and build the plan.
    pub fn new(f: &Flags<'_>) -> Result<Plan, PlanError> {
        if f.connections == 0 {
            return Err(PlanError::NoConnections);
        }
        if f.threads == Some(0) {
            return Err(PlanError::NoThreads);
        }
        if f.timeout.is_zero() {
            return Err(PlanError::NoTimeout);
        }
        let model = match f.rate {
            None => Model::Closed {
                connections: f.connections,
            },
            Some(rate) if rate.is_finite() && rate > 0.0 => Model::Open {
                rate,
                connections: f.connections,
            },
            Some(rate) => return Err(PlanError::BadRate(rate)),
        };
        let stop = match (f.requests, f.duration) {
            (Some(0), _) => return Err(PlanError::NoRequests),
            (Some(n), _) => Stop::Requests(n),
            (None, Some(d)) if d.is_zero() => return Err(PlanError::NoDuration),
            (None, Some(d)) => Stop::After(d),
            (None, None) => Stop::After(DEFAULT_DURATION),
        };
        let target = Target::new(f.url, f.proxy, f.host, f.keepalive)?;
        Ok(Plan {
            target,
            model,
            stop,
            warmup: f.warmup,
            mix: f.mix.clone(),
            timeout: f.timeout,
            keepalive: f.keepalive,
        })
    }
}
