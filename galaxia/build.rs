//! Hubble's wire types, generated from galaxia's own `.proto` subset of Cilium's API with protox
//! (a protobuf compiler in Rust), so that building needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/flow/flow.proto",
        "proto/relay/relay.proto",
        "proto/observer/observer.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
