//! Hubble-like flows: the record of each decision ([`flow`]) and the bounded log of them ([`log`]).

pub mod flow;
pub mod log;

pub use flow::{Decided, Flow, FlowEndpoint, FlowKind, Verdict};
pub use log::{FlowFilter, FlowLog};
