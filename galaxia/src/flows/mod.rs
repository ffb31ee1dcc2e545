//! Hubble-like flows: the record of each datapath event ([`flow`]), the bounded ring that holds
//! them ([`ring`]) and Hubble's metrics counted from them ([`metrics`]).

pub mod flow;
pub mod metrics;
pub mod ring;

pub use flow::{Decided, Flow};
pub use ring::FlowRing;
