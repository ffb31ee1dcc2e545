//! Hubble for the galaxy: its wire types ([`proto`]).

pub mod proto;
