#!/usr/bin/env bash
# bench/hostile-apply.sh: what hostile manifests cost the galaxy's L7 path (issue 16; a benchmark,
# timings are claimed here and never asserted in tests).
#   1. idle: loadtest through caca-tie's egress proxy under politica_l7 (open model, RATE/s, for
#      DURATION seconds): p99 of POST /v1/request-landing;
#   2. the same while two clients apply, over and over, a file of 200,000 nested `[` (400 KB) and a
#      100 KB manifest of many documents: p99 again, the ratio to idle, and how long each refusal
#      took (the nesting file must be refused in well under a second, naming the file and the
#      limit; the loader parses off the request path, on a blocking pool).
#
# Usage: [RATE=500] [DURATION=10] [CARGO_TARGET_DIR=...] [NO_BUILD=1] bench/hostile-apply.sh
# Needs python3. Everything listens on 127.0.0.1 ephemeral ports; nothing leaves the machine.
set -euo pipefail

cd "$(dirname "$0")/.."
RATE=${RATE:-500}
SECONDS_EACH=${DURATION:-10}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
command -v python3 >/dev/null || { echo "bench/hostile-apply.sh: python3 not found" >&2; exit 2; }
[ "${NO_BUILD:-0}" = 1 ] || cargo build --release -q -p galaxia -p loadtest
GALAXIA="$TARGET_DIR/release/galaxia"
LOADTEST="$TARGET_DIR/release/loadtest"

TMP=$(mktemp -d /tmp/bench-hostile.XXXXXX)
chmod 700 "$TMP"
export GALAXIA_CONTROL_FILE="$TMP/control.json"
UP_PID=""
cleanup() {
  if [ -n "$UP_PID" ]; then kill "$UP_PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

python3 - "$TMP" <<'PY'
import sys
tmp = sys.argv[1]
open(f"{tmp}/nested.yml", "w").write("[" * 200_000)
doc = open("k8s/politica_l4.yml").read()
parts, size, i = [], 0, 0
while size < 100_000:
    d = doc.replace("name: regra1", f"name: regra-{i}")
    parts.append(d); size += len(d) + 5; i += 1
open(f"{tmp}/many.yml", "w").write("\n---\n".join(parts))
PY

"$GALAXIA" up --fresh --no-patrol --hubble-port 0 --ui-port 0 -f k8s/starwars.yml -f k8s/politica_l7.yml \
  --log-format json >"$TMP/up.out" 2>"$TMP/up.log" &
UP_PID=$!
EGRESS=""
for _ in $(seq 1 300); do
  EGRESS=$(sed -n 's/.*pod caca-tie .*egress proxy \(http[^ ]*\).*/\1/p' "$TMP/up.out")
  [ -n "$EGRESS" ] && [ -f "$GALAXIA_CONTROL_FILE" ] && break
  sleep 0.1
done
[ -n "$EGRESS" ] || { echo "bench/hostile-apply.sh: galaxia up did not start" >&2; cat "$TMP/up.log" >&2; exit 1; }
SVC=estrela-da-morte.default.svc.cluster.local

load() { # load NAME: loadtest for SECONDS_EACH, JSON report in $TMP/NAME.json
  "$LOADTEST" "http://$SVC" --proxy "$EGRESS" --rate "$RATE" -c 64 -d "${SECONDS_EACH}s" \
    --warmup 1s --no-progress --json "$TMP/$1.json" >/dev/null 2>&1
}

load idle

hostile() { # hostile FILE: apply it until the load ends; one line "seconds exit" per try
  local end=$((SECONDS + SECONDS_EACH + 1))
  while [ "$SECONDS" -lt "$end" ]; do
    local t0 t1 rc=0
    t0=$(date +%s.%N)
    "$GALAXIA" apply -f "$1" >/dev/null 2>>"$TMP/refusals.txt" || rc=$?
    t1=$(date +%s.%N)
    echo "$t0 $t1 $rc" >>"$2"
  done
}
hostile "$TMP/nested.yml" "$TMP/nested.times" &
H1=$!
hostile "$TMP/many.yml" "$TMP/many.times" &
H2=$!
load hostile
wait "$H1" "$H2" || true

python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
idle = json.load(open(f"{tmp}/idle.json"))
hostile = json.load(open(f"{tmp}/hostile.json"))
def outcomes(r): return {k: v["count"] for k, v in r["outcomes"].items()}
p_idle, p_host = idle["latency"]["p99_ms"], hostile["latency"]["p99_ms"]
print(f"L7 path, idle:     p99 {p_idle:7.2f} ms  {idle['achieved_rate']:8.0f} req/s  {outcomes(idle)}")
print(f"L7 path, hostile:  p99 {p_host:7.2f} ms  {hostile['achieved_rate']:8.0f} req/s  {outcomes(hostile)}")
print(f"p99 ratio hostile/idle: {p_host / p_idle:.2f} (target: at most 2)")
for name in ("nested", "many"):
    rows = [l.split() for l in open(f"{tmp}/{name}.times")]
    secs = sorted(float(b) - float(a) for a, b, _ in rows)
    codes = sorted({r[2] for r in rows})
    print(f"apply {name}.yml: {len(secs)} tries, exit {','.join(codes)}, "
          f"median {secs[len(secs)//2]*1000:.0f} ms, max {secs[-1]*1000:.0f} ms")
first = open(f"{tmp}/refusals.txt").readline().strip()
print(f"the refusal says: {first}")
PY
