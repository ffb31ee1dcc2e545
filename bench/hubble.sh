#!/usr/bin/env bash
# bench/hubble.sh: what Hubble costs the L7 path, and how fast the Observer API streams flows.
#   1. POST /v1/request-landing through caca-tie's egress path under the book's L7 policy
#      (`galaxia up -f k8s/starwars.yml -f k8s/politica_l7.yml --forward caca-tie=estrela-da-morte`)
#      with Hubble off (--no-hubble: no flow is built) and on (the default: every request's
#      http-request and http-response flows, and each connection's L3/L4 events, into the ring),
#      loaded in alternation by ../shared/bench/bench-http.sh: throughput and p99 as ratios to off.
#   2. While wrk loads the Hubble-on galaxy, one `galaxia observe --follow -o json` follower
#      reads the Observer API: the flows per second it receives, against the flows per second the
#      galaxy produced (hubble_flows_processed_total on the control API's /metrics).
#
# Usage: [CARGO_TARGET_DIR=...] [NO_BUILD=1] bench/hubble.sh [bench-http.sh options, e.g. -d 5 -r 3]
# Needs: wrk (apt-get install -y wrk), curl, python3, ../shared/bench/bench-http.sh (or BENCH_HTTP).
# Everything listens on 127.0.0.1 ephemeral ports; nothing leaves the machine.
# Target (issue 12): Hubble on costs at most 10% of the L7 path's throughput.
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_HTTP=${BENCH_HTTP:-../shared/bench/bench-http.sh}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
FOLLOW_SECONDS=${FOLLOW_SECONDS:-10}
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/hubble.sh: $tool not found (apt-get install -y wrk curl python3)" >&2; exit 2; }
done
[ -f "$BENCH_HTTP" ] || { echo "bench/hubble.sh: $BENCH_HTTP not found" >&2; exit 2; }

[ "${NO_BUILD:-0}" = 1 ] || cargo build --release -q -p galaxia
GALAXIA="$TARGET_DIR/release/galaxia"

TMP=$(mktemp -d /tmp/bench-hubble.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# start NAME EXTRA...: a galaxy with the L7 policy and a port-forward; sets URL and PID
start() {
  local name=$1
  shift
  "$GALAXIA" up -f k8s/starwars.yml -f k8s/politica_l7.yml --no-patrol --hubble-port 0 --ui-port 0 \
    --forward caca-tie=estrela-da-morte --control-file "$TMP/$name.json" "$@" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PID=$!
  PIDS+=("$PID")
  URL=
  for _ in $(seq 1 300); do
    URL=$(sed -n 's/.*port-forward caca-tie -> estrela-da-morte on \(http[^ ]*\).*/\1/p' "$TMP/$name.out")
    [ -n "$URL" ] && break
    sleep 0.1
  done
  [ -n "$URL" ] || { echo "bench/hubble.sh: galaxia up ($name) did not start" >&2; cat "$TMP/$name.err" >&2; exit 1; }
  [ "$(curl -s -XPUT "$URL/v1/exhaust-port" | tr -d '\r')" = "Access denied" ] ||
    { echo "bench/hubble.sh: the L7 policy is not in force in $name" >&2; exit 1; }
}
start hubble-off --no-hubble
OFF_URL=$URL OFF_PID=$PID
start hubble-on
ON_URL=$URL ON_PID=$PID

echo "# 1. the L7 path with Hubble off (reference) and on"
bash "$BENCH_HTTP" "$@" \
  "hubble-off:$OFF_PID=$OFF_URL/v1/request-landing" \
  "hubble-on:$ON_PID=$ON_URL/v1/request-landing"

echo
echo "# 2. one follower of the Observer API while wrk loads the Hubble-on galaxy (${FOLLOW_SECONDS} s)"
control=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["addr"])' "$TMP/hubble-on.json")
# The control API answers only with the run's token (the discovery file holds it).
token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$TMP/hubble-on.json")
produced() {
  curl -s -H "Authorization: Bearer $token" "http://$control/metrics" | awk '/^hubble_flows_processed_total/ { n += $NF } END { printf "%d\n", n }'
}
GALAXIA_CONTROL_FILE="$TMP/hubble-on.json" "$GALAXIA" observe --follow -o json >"$TMP/follow.jsonl" 2>"$TMP/follow.err" &
FOLLOW_PID=$!
PIDS+=("$FOLLOW_PID")
sleep 1
before=$(produced)
lines_before=$(wc -l <"$TMP/follow.jsonl")
wrk -t1 -c32 -d"${FOLLOW_SECONDS}s" -s /dev/stdin "$ON_URL/v1/request-landing" >"$TMP/wrk.txt" <<'LUA'
wrk.method = "POST"
LUA
sleep 1
after=$(produced)
lines_after=$(wc -l <"$TMP/follow.jsonl")
kill "$FOLLOW_PID" 2>/dev/null || true
python3 - "$before" "$after" "$lines_before" "$lines_after" "$FOLLOW_SECONDS" "$TMP/follow.jsonl" <<'PY'
import json, sys
before, after, l0, l1, secs = (int(x) for x in sys.argv[1:6])
lost = 0
with open(sys.argv[6]) as f:
    for line in f:
        try:
            lost += int(json.loads(line).get("lost_events", {}).get("num_events_lost", 0))
        except ValueError:
            pass
made, got = after - before, l1 - l0
print(f"flows produced   {made:>9}  ({made / secs:,.0f}/s)")
print(f"flows streamed   {got:>9}  ({got / secs:,.0f}/s)  ratio {got / made if made else 0:.3f}")
print(f"lost events      {lost:>9}")
PY
grep -E "Requests/sec" "$TMP/wrk.txt" | sed 's/^/wrk (during the follow): /'
