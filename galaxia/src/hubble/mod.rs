//! Hubble for the galaxy: its wire types ([`proto`]).

pub mod convert;
pub mod filter;
pub mod json;
pub mod printer;
pub mod proto;
pub mod request;
pub mod server;
