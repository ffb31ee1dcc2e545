#!/usr/bin/env bash
# bench/deathstar.sh: estrela-da-morte (release, explosions off, metrics on as always) against the
# reference server ../shared/bench/refserver, both on 127.0.0.1, loaded by ../shared/bench/bench-http.sh
# with POST /v1/request-landing over 64 connections; then idle RSS and start-up time to the first
# answer (../shared/bench/startup-time.py). Results are ratios to refserver, measured in one run.
#
# Usage (from anywhere; paths are relative to the repository root):
#   bench/deathstar.sh [bench-http.sh options, e.g. -r 5 -d 5]
# Environment:
#   SHARED_BENCH  the benchmark kit                         [../shared/bench]
#   NO_BUILD=1    use the binaries already built
#   STARTUP_RUNS  runs of the start-up measurement           [20]
# Needs: cargo, python3, wrk (apt-get install -y wrk).
set -euo pipefail

cd "$(dirname "$0")/.."
SHARED=${SHARED_BENCH:-../shared/bench}
TARGET=${CARGO_TARGET_DIR:-target}
RUNS=${STARTUP_RUNS:-20}
DS=$TARGET/release/estrela-da-morte
REF=target/refserver/release/refserver

[ -x "$SHARED/bench-http.sh" ] || { echo "benchmark kit not found at $SHARED (set SHARED_BENCH)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 2; }

if [ "${NO_BUILD:-0}" != 1 ]; then
  cargo build --release -p estrela-da-morte
  cargo build --release --manifest-path "$SHARED/refserver/Cargo.toml" --target-dir target/refserver
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Waits until an HTTP server answers on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 1 200); do
    if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.1)' "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  exit 1
}

REF_PORT=$(free_port)
"$REF" --listen "127.0.0.1:$REF_PORT" &
PIDS+=($!)
REF_PID=$!

DS_PORT=$(free_port)
"$DS" --host 127.0.0.1 --port "$DS_PORT" --admin-port 0 --no-explosions --log-format json 2>"$WORK/ds.log" &
PIDS+=($!)
DS_PID=$!

wait_port "$REF_PORT"
wait_port "$DS_PORT"
sleep 0.5
echo "idle RSS: refserver $(rss_kb "$REF_PID") kB, estrela-da-morte $(rss_kb "$DS_PID") kB"

"$SHARED/bench-http.sh" "$@" \
  "refserver:$REF_PID=http://127.0.0.1:$REF_PORT/v1/request-landing" \
  "estrela-da-morte:$DS_PID=http://127.0.0.1:$DS_PORT/v1/request-landing"

echo "RSS after load: refserver $(rss_kb "$REF_PID") kB, estrela-da-morte $(rss_kb "$DS_PID") kB"

STARTUP_PORT=$(free_port)
echo "start-up to first answer (median of $RUNS):"
python3 "$SHARED/startup-time.py" -n "$RUNS" --port "$STARTUP_PORT" --name refserver -- \
  "$REF" --listen "127.0.0.1:{port}" | grep '^RESULT'
python3 "$SHARED/startup-time.py" -n "$RUNS" --port "$STARTUP_PORT" --name estrela-da-morte -- \
  "$DS" --host 127.0.0.1 --port "{port}" --admin-port 0 --no-explosions --log-format json | grep '^RESULT'
