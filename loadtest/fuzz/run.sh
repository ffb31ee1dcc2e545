#!/bin/sh
# Fuzz loadtest's parsers of what users type (target_url, mix, fail_if) for a bounded time on the
# stable toolchain, the way cargo-fuzz would (libFuzzer via libfuzzer-sys, SanitizerCoverage
# passes), without cargo-fuzz or nightly. Each target gets an equal share of SECONDS (at least 1 s).
# Usage: loadtest/fuzz/run.sh [SECONDS]   (default 60). Exit 0: no target crashed.
set -eu
cd "$(dirname "$0")"
secs=${1:-60}
targets="target_url mix fail_if"
share=$((secs / 3))
[ "$share" -ge 1 ] || share=1
host=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${CARGO_TARGET_DIR:-target}
# The coverage passes go to the workspace's crates and the targets only, at opt-level 1: a
# bounded run needs a quick build more than the last bit of speed (../../scripts/fuzz-rustc).
RUSTC_WRAPPER="$(cd ../.. && pwd)/scripts/fuzz-rustc" CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo build --release --target "$host" --bins
failed=""
for t in $targets; do
    # work/<target> collects new inputs (ignored by git); corpus/<target> holds the seeds.
    mkdir -p "work/$t" "artifacts/$t"
    echo "fuzz $t for ${share}s"
    if ! "$target_dir/$host/release/$t" \
        -max_total_time="$share" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 \
        "work/$t" "corpus/$t"; then
        failed="$failed $t"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: crashed:$failed (inputs in loadtest/fuzz/artifacts/)" >&2
    exit 1
fi
