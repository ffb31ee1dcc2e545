#!/bin/sh
# Fuzz galaxia for a bounded time on the stable toolchain, the way cargo-fuzz would (libFuzzer via
# libfuzzer-sys, SanitizerCoverage passes), without cargo-fuzz or nightly: the YAML and policy
# loader (load_manifests), the control API's requests (control_request), a pod's egress proxy
# (proxy_request, over loopback to a galaxy in the fuzzer's process). Each target gets an equal
# share of SECONDS (at least 1 s).
# Usage: galaxia/fuzz/run.sh [SECONDS]   (default 60). Exit 0: no target crashed.
set -eu
cd "$(dirname "$0")"
secs=${1:-60}
share=$((secs / 3))
[ "$share" -ge 1 ] || share=1
host=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${CARGO_TARGET_DIR:-target}
# The coverage passes go to the workspace's crates and the targets only, at opt-level 1: a
# bounded run needs a quick build more than the last bit of speed (../../scripts/fuzz-rustc).
RUSTC_WRAPPER="$(cd ../.. && pwd)/scripts/fuzz-rustc" CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo build --release --locked --target "$host" --bins
failed=""
# Each target: its seeds, then the length that lets it reach what it must (the loader's nesting
# limit is 64 levels; 1 MiB inputs reach its size limit).
run() {
    t=$1 max_len=$2
    shift 2
    # work/<target> collects new inputs (ignored by git); the other directories are seeds.
    mkdir -p "work/$t" "artifacts/$t"
    echo "fuzz $t for ${share}s"
    if ! "$target_dir/$host/release/$t" \
        -max_total_time="$share" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 \
        "work/$t" "$@"; then
        failed="$failed $t"
    fi
}
run load_manifests 65536 ../testdata/livro ../testdata/cilium ../testdata/invalid
run control_request 16384 corpus/control_request
run proxy_request 8192 corpus/proxy_request
if [ -n "$failed" ]; then
    echo "fuzz: crashed:$failed (inputs in galaxia/fuzz/artifacts/)" >&2
    exit 1
fi
