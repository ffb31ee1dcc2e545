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
    bpf::build()?;
    Ok(())
}

/// The eBPF datapath's programs (`galaxia up --datapath ebpf`), compiled from `bpf/` with clang
/// when it is installed. Without clang (or when it fails) an empty object is written instead and
/// the build goes on: the rest of galaxia works, and `--datapath ebpf` refuses, saying why
/// (`GALAXIA_BPF_STATUS`).
mod bpf {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    const SOURCES: [&str; 2] = ["bpf/galaxia.c", "bpf/galaxia.h"];

    pub fn build() -> Result<(), Box<dyn std::error::Error>> {
        for f in SOURCES {
            println!("cargo:rerun-if-changed={f}");
        }
        println!("cargo:rerun-if-env-changed=GALAXIA_CLANG");
        let out = PathBuf::from(std::env::var("OUT_DIR")?).join("galaxia.bpf.o");
        let status = match compile(&out) {
            Ok(()) => "ok".to_string(),
            Err(why) => {
                println!("cargo:warning=galaxia's eBPF datapath is not built: {why}");
                std::fs::write(&out, b"")?;
                why
            }
        };
        println!("cargo:rustc-env=GALAXIA_BPF_STATUS={status}");
        Ok(())
    }

    fn compile(out: &Path) -> Result<(), String> {
        let clang = std::env::var("GALAXIA_CLANG").unwrap_or_else(|_| "clang".into());
        let Some(path) = on_path(&clang) else {
            return Err(format!("{clang} is not installed"));
        };
        // Installing or upgrading clang rebuilds the programs.
        println!("cargo:rerun-if-changed={}", path.display());
        // clang -target bpf does not search the multiarch include directory (asm/types.h).
        let multiarch = Command::new(&path)
            .arg("-print-multiarch")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("{}-linux-gnu", std::env::consts::ARCH));
        let result = Command::new(&path)
            .args(["-O2", "-g", "-Wall", "-Werror", "-target", "bpf"])
            .arg(format!("-I/usr/include/{multiarch}"))
            .args(["-c", "bpf/galaxia.c", "-o"])
            .arg(out)
            .output()
            .map_err(|e| format!("running {}: {e}", path.display()))?;
        if result.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&result.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        Err(format!(
            "clang -target bpf failed ({}; are libbpf-dev and linux-libc-dev installed?): {first}",
            result.status
        ))
    }

    fn on_path(program: &str) -> Option<PathBuf> {
        if program.contains('/') {
            return Some(PathBuf::from(program)).filter(|p| p.is_file());
        }
        let paths = std::env::var_os("PATH")?;
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    }
}
