#!/usr/bin/env bash
# bench/soak.sh: the galaxy under churn for a long time (issue 16's soak; a benchmark, not a test).
#   - `galaxia up` with the book's manifests, the ships patrolling as always;
#   - loadtest through caca-tie's egress proxy, open model at RATE requests/s (land=8,info=1), for
#     SOAK_SECONDS;
#   - every 5 s the policy changes: politica_l4 created, politica_l7 applied, regra1 deleted, in turn;
#   - every 30 s a Death Star replica is hit on its exhaust port (it explodes when no L7 policy
#     stands in the way, and comes back after its back-off).
# At the end it reports and checks:
#   - loadtest: every request its schedule started is accounted exactly once (answered with an
#     outcome, or in flight when the run ended): requests + abandoned == RATE x SOAK_SECONDS;
#   - the ships' patrol counters (from `galaxia get pods -o galaxia-json`);
#   - galaxia's RSS at the start (after a 10 s warm-up) and at the end;
#   - no panic in galaxia's log; every policy change answered.
# Exit 0 when the checks hold.
#
# Usage: [SOAK_SECONDS=600] [RATE=200] [CARGO_TARGET_DIR=...] [NO_BUILD=1] bench/soak.sh
# Needs python3. Everything listens on 127.0.0.1 ephemeral ports; nothing leaves the machine.
set -euo pipefail

cd "$(dirname "$0")/.."
SOAK_SECONDS=${SOAK_SECONDS:-600}
RATE=${RATE:-200}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
command -v python3 >/dev/null || { echo "bench/soak.sh: python3 not found" >&2; exit 2; }
[ "${NO_BUILD:-0}" = 1 ] || cargo build --release -q -p galaxia -p loadtest
GALAXIA="$TARGET_DIR/release/galaxia"
LOADTEST="$TARGET_DIR/release/loadtest"

TMP=$(mktemp -d /tmp/bench-soak.XXXXXX)
chmod 700 "$TMP"
export GALAXIA_CONTROL_FILE="$TMP/control.json"
UP_PID=""
LT_PID=""
cleanup() {
  if [ -n "$LT_PID" ]; then kill "$LT_PID" 2>/dev/null || true; fi
  if [ -n "$UP_PID" ]; then kill "$UP_PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

"$GALAXIA" up --fresh --hubble-port 0 --ui-port 0 --log-format json >"$TMP/up.out" 2>"$TMP/up.log" &
UP_PID=$!
EGRESS=""
for _ in $(seq 1 300); do
  EGRESS=$(sed -n 's/.*pod caca-tie .*egress proxy \(http[^ ]*\).*/\1/p' "$TMP/up.out")
  [ -n "$EGRESS" ] && [ -f "$GALAXIA_CONTROL_FILE" ] && break
  sleep 0.1
done
[ -n "$EGRESS" ] || { echo "bench/soak.sh: galaxia up did not start" >&2; cat "$TMP/up.log" >&2; exit 1; }

rss() { awk '/^VmRSS/ {print $2}' "/proc/$UP_PID/status"; }
SVC=estrela-da-morte.default.svc.cluster.local

echo "soak: ${SOAK_SECONDS}s, loadtest at ${RATE}/s through caca-tie's proxy ($EGRESS), policy change every 5 s, explosion every 30 s"
sleep 10
RSS_START=$(rss)

"$LOADTEST" "http://$SVC" --proxy "$EGRESS" --rate "$RATE" -c 256 -d "${SOAK_SECONDS}s" \
  --mix land=8,info=1 --timeout 2s --no-progress --json "$TMP/loadtest.json" \
  >"$TMP/loadtest.out" 2>"$TMP/loadtest.err" &
LT_PID=$!

changes=0 failed_changes=0 explosions=0
start=$SECONDS
while [ $((SECONDS - start)) -lt "$SOAK_SECONDS" ]; do
  case $((changes % 3)) in
    0) cmd=(create -f k8s/politica_l4.yml) ;;
    1) cmd=(apply -f k8s/politica_l7.yml) ;;
    2) cmd=(delete cnp regra1) ;;
  esac
  if ! "$GALAXIA" "${cmd[@]}" >>"$TMP/changes.out" 2>&1; then
    failed_changes=$((failed_changes + 1))
  fi
  changes=$((changes + 1))
  if [ $(( (SECONDS - start) % 30 )) -lt 5 ] && [ $((SECONDS - start)) -ge 5 ]; then
    "$GALAXIA" exec caca-tie -- curl -s -m 2 -XPUT "$SVC/v1/exhaust-port" >/dev/null 2>&1 || true
    explosions=$((explosions + 1))
  fi
  if [ $(( (SECONDS - start) % 60 )) -lt 5 ]; then
    echo "$((SECONDS - start)) $(rss)" >>"$TMP/rss.txt"
  fi
  sleep 5
done
wait "$LT_PID" || true
LT_PID=""
RSS_END=$(rss)
"$GALAXIA" get pods -o galaxia-json >"$TMP/pods.json" 2>/dev/null || echo '{}' >"$TMP/pods.json"
kill "$UP_PID"
wait "$UP_PID" || true
UP_PID=""

python3 - "$TMP" "$RATE" "$SOAK_SECONDS" "$RSS_START" "$RSS_END" "$changes" "$failed_changes" "$explosions" <<'PY'
import json, sys
tmp, rate, secs, rss0, rss1, changes, failed, explosions = sys.argv[1:]
rate, secs, rss0, rss1 = int(rate), int(secs), int(rss0), int(rss1)
ok = True
r = json.load(open(f"{tmp}/loadtest.json"))
started = rate * secs
accounted = r["requests"] + r.get("abandoned", 0)
outcomes = {k: v["count"] for k, v in r["outcomes"].items()}
print(f"loadtest: {r['requests']} answered + {r.get('abandoned', 0)} in flight at the end = {accounted}"
      f" of {started} scheduled; outcomes {outcomes}; p99 {r['latency']['p99_ms']:.1f} ms")
if abs(accounted - started) > 1:
    print("  FAIL: requests lost or counted twice"); ok = False
if sum(outcomes.values()) != r["requests"]:
    print("  FAIL: outcomes do not add up to the requests"); ok = False
print(f"policy changes: {changes} ({failed} refused or failed); explosions asked: {explosions}")
if int(failed) > 0:
    print("  FAIL: a policy change did not go through"); ok = False
print(f"galaxia RSS: {rss0} kB after warm-up, {rss1} kB at the end ({rss1 / rss0:.2f}x)")
try:
    series = [l.split() for l in open(f"{tmp}/rss.txt")]
    print("  RSS every minute (s kB): " + ", ".join(f"{t} {kb}" for t, kb in series))
except OSError:
    pass
try:
    for p in json.load(open(f"{tmp}/pods.json")):
        print(f"  pod {p['name']}: restarts {p['restarts']}")
except Exception as e:  # the listing is a report, not a check
    print(f"  (pods: {e})")
panics = [l for l in open(f"{tmp}/up.log") if "panicked" in l]
print(f"panics in galaxia's log: {len(panics)}")
if panics:
    print("  FAIL: " + panics[0].strip()); ok = False
sys.exit(0 if ok else 1)
PY
