#!/bin/sh
# Fuzz galaxia's YAML and policy loader for a bounded time on the stable toolchain, the way
# cargo-fuzz would (libFuzzer via libfuzzer-sys, SanitizerCoverage passes), without cargo-fuzz or
# nightly. Usage: galaxia/fuzz/run.sh [SECONDS]   (default 60). Exit 0: no crash found.
set -eu
cd "$(dirname "$0")"
secs=${1:-60}
host=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${CARGO_TARGET_DIR:-target}
# --target keeps these flags off build scripts and proc macros, which must not be instrumented.
RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks" \
    cargo build --release --target "$host" --bin load_manifests
mkdir -p corpus artifacts
# The first corpus directory collects new inputs; the testdata directories are the seeds.
exec "$target_dir/$host/release/load_manifests" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix=artifacts/ \
    corpus ../testdata/livro ../testdata/cilium ../testdata/invalid
