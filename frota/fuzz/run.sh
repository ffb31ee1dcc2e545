#!/bin/sh
# Fuzz the ships' curl argument parser for a bounded time on the stable toolchain, the way
# cargo-fuzz would (libFuzzer via libfuzzer-sys, SanitizerCoverage passes), without cargo-fuzz or
# nightly. Usage: frota/fuzz/run.sh [SECONDS]   (default 60). Exit 0: no crash found.
set -eu
cd "$(dirname "$0")"
secs=${1:-60}
host=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${CARGO_TARGET_DIR:-target}
# The coverage passes go to the workspace's crates and the targets only, at opt-level 1: a
# bounded run needs a quick build more than the last bit of speed (../../scripts/fuzz-rustc).
RUSTC_WRAPPER="$(cd ../.. && pwd)/scripts/fuzz-rustc" CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo build --release --locked --target "$host" --bin curl_args
mkdir -p found/curl_args artifacts
# The first corpus directory collects new inputs (ignored by git); corpus/curl_args holds the
# committed seeds, which libFuzzer only reads.
exec "$target_dir/$host/release/curl_args" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -artifact_prefix=artifacts/ \
    found/curl_args corpus/curl_args
