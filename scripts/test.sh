#!/usr/bin/env bash
# The repository's test command (README.md): every test of the workspace, then the checks that need
# system tools (manifests and scripts, images, fuzzing). On a fresh machine it installs what it needs when
# it can (root with apt-get, pip); where it cannot, the part that needs the tool says so and is skipped.
#
#   scripts/test.sh           everything
#   scripts/test.sh --quick   cargo tests only
#
# It ends with a summary: each part passed, skipped (and why) or failed, and every test that skipped
# itself (testkit::skip writes them to target/test-logs/skips.tsv). The fuzzers' own output, long
# (libFuzzer prints its dictionary), goes to target/test-logs/fuzz-*.log; a crash shows its tail.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
[ "${1:-}" = --quick ] && QUICK=1

say() { printf '\n== %s\n' "$*"; }

# Debian packages the tests use: curl (the ships' curl front end is compared with the real one),
# procps (kill), g++ (libFuzzer), the shellcheck linter, podman and friends (images), chromium (the
# web UI's browser tests), clang and libbpf-dev (the eBPF datapath's programs), iproute2, nftables,
# bpftool and tcpdump (the eBPF datapath's tests and its host-namespace checks); wrk is only for
# benchmarks and is not installed here.
APT_PACKAGES=(curl procps g++ shellcheck podman buildah skopeo runc chromium clang libbpf-dev
  linux-libc-dev iproute2 nftables bpftool tcpdump util-linux)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "not root or no apt-get: tests that need ${missing[*]} will skip that part" >&2
  fi
fi
if ! command -v kubernetes-validate >/dev/null; then
  if command -v pip3 >/dev/null || command -v pip >/dev/null; then
    say "installing kubernetes-validate (PyPI)"
    "$(command -v pip3 || command -v pip)" install -q kubernetes-validate jsonschema \
      || echo "could not install kubernetes-validate: the manifest check skips it" >&2
  fi
fi

# CI sets CI=true: there a check whose tool is missing fails instead of skipping.
if [ "${CI:-}" = true ]; then export REQUIRE_ALL=1; fi

logs="$PWD/target/test-logs"
mkdir -p "$logs"
export TESTKIT_SKIP_LOG="$logs/skips.tsv"
: >"$TESTKIT_SKIP_LOG"
results=()
any_failed=0
passed() { results+=("$1|passed|${2:-}"); }
failed() { results+=("$1|FAILED|${2:-}"); any_failed=1; }
skipped() {
  results+=("$1|skipped|$2")
  echo "SKIP $1: $2"
  if [ "${REQUIRE_ALL:-0}" = 1 ]; then any_failed=1; fi
}

summary() {
  say "summary"
  printf '%-34s %-8s %s\n' PART RESULT DETAIL
  local r name state detail
  for r in "${results[@]}"; do
    IFS='|' read -r name state detail <<<"$r"
    printf '%-34s %-8s %s\n' "$name" "$state" "$detail"
  done
  if [ -s "$TESTKIT_SKIP_LOG" ]; then
    printf '\nskipped inside the tests (test: why):\n'
    sort -u "$TESTKIT_SKIP_LOG" | while IFS=$'\t' read -r what why; do
      printf '  %s: %s\n' "$what" "$why"
    done
  fi
  if [ "$any_failed" = 1 ]; then echo; echo "some parts failed (logs in target/test-logs/)"; fi
}
trap summary EXIT

# `cargo test`'s own lines stay on the terminal; the counts go to the summary. --no-fail-fast: one
# failing test binary must not hide the results of the others.
say "cargo test --workspace"
if cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$logs/cargo-test.log"; then
  counts=$(awk '/^test result:/ {p += $4; f += $6; i += $8} END {printf "%d passed, %d failed, %d ignored", p, f, i}' "$logs/cargo-test.log")
  passed "cargo test --workspace" "$counts"
else
  counts=$(awk '/^test result:/ {p += $4; f += $6} END {printf "%d passed, %d failed", p, f}' "$logs/cargo-test.log")
  which=$(sed -n 's/^test \(.*\) \.\.\. FAILED$/\1/p' "$logs/cargo-test.log" | paste -sd, - | sed 's/,/, /g')
  failed "cargo test --workspace" "$counts: ${which:-a build or a test binary failed}; target/test-logs/cargo-test.log"
fi

if [ "$QUICK" = 1 ]; then
  [ "$any_failed" = 0 ]
  exit
fi

say "scripts/test-manifests.sh"
if scripts/test-manifests.sh 2>&1 | tee "$logs/manifests.log"; then
  passed "manifests and shell scripts" "$(grep -c '^ok ' "$logs/manifests.log") checks ok, $(grep -c '^SKIP' "$logs/manifests.log") skipped"
else
  failed "manifests and shell scripts" "target/test-logs/manifests.log"
fi

# The web UI's committed bundle, rebuilt from its sources with the pinned esbuild and compared byte
# for byte (tests/ui_bundle.rs already checks the recorded hashes with Rust alone).
say "galaxia/ui/build.sh --check"
if ! command -v npm >/dev/null; then
  skipped "web UI bundle rebuild" "no Node.js/npm (apt-get install nodejs npm); tests/ui_bundle.rs checked the hashes"
elif galaxia/ui/build.sh --check; then
  passed "web UI bundle rebuild" "byte-identical to the committed bundle"
else
  failed "web UI bundle rebuild"
fi

say "images: scripts/images.sh, then scripts/test-images.sh"
if ! command -v podman >/dev/null && ! command -v buildah >/dev/null; then
  skipped "images" "neither podman nor buildah is installed (apt-get install podman buildah runc)"
elif scripts/images.sh --save target/images && scripts/test-images.sh; then
  # Static release binaries and the four FROM scratch images, built from this checkout.
  passed "images" "four FROM scratch images built and tested"
else
  failed "images"
fi

# Each fuzzer runs for a bounded time on its committed corpus (FUZZ_SECONDS each, shared by a
# crate's targets): galaxia's manifest and policy loader, the ships' curl argument parser,
# loadtest's URL, --mix and --fail-if parsers, the Death Star's request handling.
say "fuzz: ${FUZZ_SECONDS:=60} s each for galaxia, frota, loadtest and estrela-da-morte"
for crate in galaxia frota loadtest estrela-da-morte; do
  if ! command -v g++ >/dev/null; then
    skipped "fuzz $crate" "libFuzzer needs a C++ compiler (apt-get install g++)"
    continue
  fi
  log="$logs/fuzz-$crate.log"
  echo "fuzz $crate for ${FUZZ_SECONDS}s (output in target/test-logs/fuzz-$crate.log)"
  if CARGO_TARGET_DIR="$PWD/target/fuzz" "$crate/fuzz/run.sh" "$FUZZ_SECONDS" >"$log" 2>&1; then
    runs=$(grep -o '^Done [0-9]* runs' "$log" | awk '{s += $2} END {print s + 0}')
    passed "fuzz $crate" "${FUZZ_SECONDS}s, $runs inputs, no crash"
  else
    tail -n 40 "$log"
    failed "fuzz $crate" "crash or build failure: target/test-logs/fuzz-$crate.log, inputs in $crate/fuzz/artifacts/"
  fi
done

[ "$any_failed" = 0 ]
