#!/usr/bin/env bash
# bench/loadtest.sh: how fast is loadtest as a load generator, next to wrk and oha?
#
# Run from the repository root:  bash bench/loadtest.sh [-c CONNS] [-d SECS] [-r ROUNDS] [-t THREADS] [-m SECS]
#
# Builds the release loadtest and ../shared/bench/refserver (bare hyper, the practical limit of the
# machine), starts refserver on a free 127.0.0.1 port, then in every round runs loadtest, wrk and
# oha one after the other (same connections, same duration, POST /v1/request-landing with
# keep-alive), so that drift of the machine hits all three alike. It prints per run the
# throughput and the generator's peak RSS, then per tool the median throughput and its ratio to
# wrk's and to oha's. Last, a long loadtest run (-m seconds, 60 by default; 0 skips it) samples
# loadtest's RSS every 5 s to show that memory stays flat.
#
#   -c CONNS    connections                                   [64]
#   -d SECS     seconds per run                               [5]
#   -r ROUNDS   rounds                                        [3]
#   -t THREADS  threads of loadtest (--threads) and wrk (-t)  [nproc]  oha has no such option and
#               always uses every CPU, so the default matches it; -t 1 compares with wrk -t1.
#   -m SECS     length of the memory run                      [60]
#
# Needs: wrk and curl (apt-get install -y wrk curl), oha (cargo install --locked oha; or
# OHA=/path), python3.
# Traffic goes to 127.0.0.1 only.
set -euo pipefail

CONNS=64 DUR=5 ROUNDS=3 THREADS=$(nproc) MEMDUR=60
while getopts "c:d:r:t:m:h" opt; do
  case $opt in
    c) CONNS=$OPTARG ;; d) DUR=$OPTARG ;; r) ROUNDS=$OPTARG ;; t) THREADS=$OPTARG ;;
    m) MEMDUR=$OPTARG ;; *) sed -n '2,/^set -euo/p' "$0" | grep -v '^set -euo' | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

if [ ! -f Cargo.toml ] || [ ! -d loadtest ]; then echo "run from the repository root" >&2; exit 2; fi
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 2; }
OHA=${OHA:-$(command -v oha || true)}
OHA=${OHA:-$HOME/.cargo/bin/oha}
[ -x "$OHA" ] || { echo "oha not found: cargo install --locked oha (or OHA=/path/to/oha)" >&2; exit 2; }

TARGET_DIR=${CARGO_TARGET_DIR:-target}
echo "# building release loadtest and refserver (slow: fat LTO)" >&2
cargo build --release -p loadtest --target-dir "$TARGET_DIR" >&2
cargo build --release --manifest-path ../shared/bench/refserver/Cargo.toml --target-dir target/refserver >&2
LOADTEST=$TARGET_DIR/release/loadtest
REFSERVER=target/refserver/release/refserver

OUT=$(mktemp -d /tmp/bench-loadtest.XXXXXX)
REF_PID=
cleanup() {
  if [ -n "$REF_PID" ]; then kill "$REF_PID" 2>/dev/null || true; wait "$REF_PID" 2>/dev/null || true; fi
  rm -rf "$OUT"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"$REFSERVER" --listen "127.0.0.1:$PORT" >"$OUT/refserver.log" 2>&1 &
REF_PID=$!
for _ in $(seq 50); do
  curl -s -o /dev/null -X POST "$URL/v1/request-landing" && break
  sleep 0.1
done

cat >"$OUT/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Accept"] = "*/*"
LUA

# sampled CMD... : run CMD, sampling its RSS every 0.2 s; prints the peak RSS in kB on fd 3.
sampled() {
  "$@" &
  local pid=$! peak=0 rss
  while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$rss" ] && [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 0.2
  done
  wait "$pid" || true
  echo "$peak" >&3
}

# run_one TOOL -> "rps peak_rss_kB"
run_one() {
  local tool=$1 f=$OUT/$1.out rps
  case $tool in
    loadtest)
      sampled "$LOADTEST" "$URL" -c "$CONNS" -d "${DUR}s" --threads "$THREADS" --no-progress \
        --json "$f.json" >"$f" 2>&1 3>"$f.rss"
      rps=$(python3 -c 'import json, sys; print("%.1f" % json.load(open(sys.argv[1]))["achieved_rate"])' "$f.json")
      ;;
    wrk)
      sampled wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" -s "$OUT/post.lua" "$URL/v1/request-landing" \
        >"$f" 2>&1 3>"$f.rss"
      rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
      ;;
    oha)
      sampled "$OHA" -z "${DUR}s" -c "$CONNS" -m POST -H 'Accept: */*' --no-tui --output-format json \
        "$URL/v1/request-landing" >"$f" 2>"$f.err" 3>"$f.rss"
      rps=$(python3 -c 'import json, sys; print("%.1f" % json.load(open(sys.argv[1]))["summary"]["requestsPerSec"])' "$f")
      ;;
  esac
  echo "${rps:-0} $(cat "$f.rss")"
}

echo "# loadtest vs wrk vs oha against refserver: conns=$CONNS dur=${DUR}s rounds=$ROUNDS threads=$THREADS (loadtest --threads, wrk -t; oha: all CPUs) nproc=$(nproc)"
# One short unmeasured pass: page cache, CPU frequency, refserver's first connections.
for tool in loadtest wrk oha; do DUR=1 run_one "$tool" >/dev/null; done
: >"$OUT/results"
for r in $(seq "$ROUNDS"); do
  for tool in loadtest wrk oha; do
    read -r rps rss <<<"$(run_one "$tool")"
    printf 'round %d %-9s rps=%-10s peak_rss=%skB\n' "$r" "$tool" "$rps" "$rss"
    printf '%s %s %s\n' "$tool" "$rps" "$rss" >>"$OUT/results"
  done
done

python3 - "$OUT/results" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rps = {t: st.median(float(r[1]) for r in rows if r[0] == t) for t in ("loadtest", "wrk", "oha")}
rss = {t: max(int(r[2]) for r in rows if r[0] == t) for t in ("loadtest", "wrk", "oha")}
print("%-9s %10s %9s %9s %12s" % ("tool", "rps_med", "x_wrk", "x_oha", "peak_rss_kB"))
for t in ("loadtest", "wrk", "oha"):
    print("%-9s %10.0f %9.3f %9.3f %12d" % (t, rps[t], rps[t] / rps["wrk"], rps[t] / rps["oha"], rss[t]))
print("targets: loadtest/oha >= 1.0 -> %.3f, loadtest/wrk >= 0.8 -> %.3f"
      % (rps["loadtest"] / rps["oha"], rps["loadtest"] / rps["wrk"]))
PY

if [ "$MEMDUR" != 0 ]; then
  echo "# memory: loadtest -c $CONNS -d ${MEMDUR}s --threads $THREADS, VmRSS every 5 s"
  "$LOADTEST" "$URL" -c "$CONNS" -d "${MEMDUR}s" --threads "$THREADS" --no-progress \
    --json "$OUT/mem.json" >"$OUT/mem.out" 2>&1 &
  pid=$!
  : >"$OUT/mem.rss"
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null >>"$OUT/mem.rss" || true
  done
  wait "$pid" || true
  python3 - "$OUT/mem.rss" "$OUT/mem.json" <<'PY'
import json, sys
rss = [int(l) for l in open(sys.argv[1]) if l.strip()]
j = json.load(open(sys.argv[2]))
print("rss_kB every 5s:", " ".join(map(str, rss)))
if len(rss) >= 3:
    print("requests %d; rss last/first-after-5s %.3f, max/min %.3f"
          % (j["requests"], rss[-1] / rss[0], max(rss) / min(rss)))
PY
fi
