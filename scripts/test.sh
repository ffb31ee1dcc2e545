#!/usr/bin/env bash
# The repository's test command (README.md): every test of the workspace, then the checks that need
# system tools (manifests and scripts, images, fuzzing). On a fresh machine it installs what it needs when
# it can (root with apt-get, pip); where it cannot, the part that needs the tool says so and is skipped.
#
#   scripts/test.sh           everything
#   scripts/test.sh --quick   cargo tests only
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

say "cargo test --workspace"
cargo test --workspace --locked

[ "$QUICK" = 1 ] && exit 0

# CI sets CI=true: there a check whose tool is missing fails instead of skipping.
if [ "${CI:-}" = true ]; then export REQUIRE_ALL=1; fi

say "scripts/test-manifests.sh"
scripts/test-manifests.sh

# The web UI's committed bundle, rebuilt from its sources with the pinned esbuild and compared byte
# for byte (tests/ui_bundle.rs already checks the recorded hashes with Rust alone).
say "galaxia/ui/build.sh --check"
if command -v npm >/dev/null; then
  galaxia/ui/build.sh --check
else
  echo "SKIP galaxia/ui/build.sh --check: no Node.js/npm (apt-get install nodejs npm); tests/ui_bundle.rs checked the hashes"
fi

say "images: scripts/images.sh, then scripts/test-images.sh"
if command -v podman >/dev/null || command -v buildah >/dev/null; then
  # Static release binaries and the four FROM scratch images, built from this checkout.
  scripts/images.sh --save target/images
  scripts/test-images.sh
else
  echo "SKIP images: neither podman nor buildah is installed (apt-get install podman buildah runc)"
  if [ "${REQUIRE_ALL:-0}" = 1 ]; then exit 1; fi
fi

# Each fuzzer runs for a bounded time on its committed corpus (FUZZ_SECONDS each, shared by a
# crate's targets): galaxia's manifest and policy loader, the ships' curl argument parser,
# loadtest's URL, --mix and --fail-if parsers, the Death Star's request handling.
say "fuzz: ${FUZZ_SECONDS:=60} s each for galaxia, frota, loadtest and estrela-da-morte"
if command -v g++ >/dev/null; then
  CARGO_TARGET_DIR="$PWD/target/fuzz" galaxia/fuzz/run.sh "$FUZZ_SECONDS"
  CARGO_TARGET_DIR="$PWD/target/fuzz" frota/fuzz/run.sh "$FUZZ_SECONDS"
  CARGO_TARGET_DIR="$PWD/target/fuzz" loadtest/fuzz/run.sh "$FUZZ_SECONDS"
  CARGO_TARGET_DIR="$PWD/target/fuzz" estrela-da-morte/fuzz/run.sh "$FUZZ_SECONDS"
else
  echo "SKIP fuzz: libFuzzer needs a C++ compiler (apt-get install g++)"
  if [ "${REQUIRE_ALL:-0}" = 1 ]; then exit 1; fi
fi

