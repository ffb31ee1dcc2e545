//! Hubble's wire types, generated at build time from `galaxia/proto` (Cilium's names and numbers).

#![allow(clippy::all, clippy::pedantic, missing_docs, rust_2018_idioms)]

pub mod flow {
    tonic::include_proto!("flow");
}

pub mod relay {
    tonic::include_proto!("relay");
}

pub mod observer {
    tonic::include_proto!("observer");
}
