#!/bin/sh
# Fuzz the Death Star's request handling for a bounded time on the stable toolchain, the way
# cargo-fuzz would (libFuzzer via libfuzzer-sys, SanitizerCoverage passes), without cargo-fuzz or
# nightly. Usage: estrela-da-morte/fuzz/run.sh [SECONDS]   (default 60). Exit 0: no crash found.
set -eu
cd "$(dirname "$0")"
secs=${1:-60}
target=demo_connection
host=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${CARGO_TARGET_DIR:-target}
# The coverage passes go to the workspace's crates and the targets only, at opt-level 1: a
# bounded run needs a quick build more than the last bit of speed (../../scripts/fuzz-rustc).
RUSTC_WRAPPER="$(cd ../.. && pwd)/scripts/fuzz-rustc" CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo build --release --target "$host" --bin "$target"
mkdir -p "new/$target" artifacts
# The first corpus directory collects new inputs (ignored by git); the committed seeds follow.
# -max_len reaches past the 16 KiB head limit, so that both sides of it are tried.
exec "$target_dir/$host/release/$target" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=20000 \
    -artifact_prefix=artifacts/ \
    "new/$target" "corpus/$target"
