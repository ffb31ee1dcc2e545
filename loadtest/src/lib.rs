//! `loadtest`: a load generator that knows the Star Wars demo.
//!
//! [`cli::Args`] is validated into a [`plan::Plan`] (closed or open model, duration or count);
//! [`run::run`] starts one worker per connection on a [`schedule::Schedule`], each sending one
//! [`sample::Sample`] per request to the collector, which folds them into an HDR histogram and
//! counts by [`frota::Outcome`]; [`report::Report`] is the result, rendered for people or as JSON,
//! and [`failif::Condition`]s decide the exit status.

pub mod backoff;
pub mod cli;
pub mod client;
pub mod collector;
pub mod failif;
pub mod metrics;
pub mod output;
pub mod plan;
pub mod report;
pub mod run;
pub mod sample;
pub mod schedule;
pub mod target;

pub use cli::Args;
pub use failif::Condition;
pub use plan::{Model, Plan, PlanError, Stop};
pub use report::Report;
pub use run::{RunError, RunOptions, run};
