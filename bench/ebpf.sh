#!/usr/bin/env bash
# bench/ebpf.sh: what the eBPF datapath costs, inside the galaxy's network namespaces. Throughput
# and p99 of POST /v1/request-landing from the caca-tie pod to one Death Star pod's IP (pod to pod,
# wrk run with `galaxia exec caca-tie`), in one run, as ratios to the first mode:
#   none    no policy: the tc programs run, look the endpoint up and let everything pass
#   l4      politica_l4 in force: every packet checked against the ipcache, conntrack and the
#           policy map (target: >= 0.95 x none)
#   l7      politica_l7 in force: port 80 redirected to galaxia's L7 proxy in the node namespace,
#           which applies the HTTP rule and forwards over real TCP (target: >= nginx)
#   nginx   no policy, through Debian's nginx as a keep-alive reverse proxy run inside the caca-tie
#           pod (the same namespaces, the same extra hop over real TCP)
# Every round runs the modes in this order (switching the policy between them), so that the
# machine's drift hits all alike; the medians over the rounds are compared.
#
# Usage: [PROFILE=release|debug] [NO_BUILD=1] bench/ebpf.sh [-d SECS] [-r ROUNDS] [-c CONNS]
# Needs: root, clang when building (the programs), wrk, nginx, curl, python3
# (apt-get install -y clang libbpf-dev wrk nginx-light curl python3).
# Nothing leaves the machine: the load runs between namespaces of the galaxy, which have no
# default route and no link to the host's namespace.
set -euo pipefail

cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
DUR=5 ROUNDS=3 CONNS=32
while getopts "d:r:c:" o; do
  case $o in
    d) DUR=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    c) CONNS=$OPTARG ;;
    *) echo "usage: bench/ebpf.sh [-d SECS] [-r ROUNDS] [-c CONNS]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/ebpf.sh: the eBPF datapath needs root" >&2; exit 2; }
for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/ebpf.sh: $tool not found (apt-get install -y wrk nginx-light curl python3)" >&2; exit 2; }
done

if [ "${NO_BUILD:-0}" != 1 ]; then
  flag=--release
  [ "$PROFILE" = release ] || flag=
  cargo build $flag -q -p galaxia -p estrela-da-morte -p caca-tie -p asa-x
fi
G="$TARGET_DIR/$PROFILE/galaxia"

TMP=$(mktemp -d /tmp/bench-ebpf.XXXXXX)
chmod 700 "$TMP"
export GALAXIA_CONTROL_FILE="$TMP/control.json"
GAL_PID=
NGX_PID=
cleanup() {
  [ -n "$NGX_PID" ] && kill "$NGX_PID" 2>/dev/null
  # SIGTERM: the galaxy removes its namespaces, programs and cgroup before it exits.
  if [ -n "$GAL_PID" ]; then
    kill -TERM "$GAL_PID" 2>/dev/null && wait "$GAL_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

"$G" up -f k8s/starwars.yml --no-patrol --datapath ebpf --hubble-port 0 --ui-port 0 \
  --control-file "$GALAXIA_CONTROL_FILE" >"$TMP/up.out" 2>"$TMP/up.err" &
GAL_PID=$!
pods_json() { "$G" get pods -o galaxia-json 2>/dev/null || echo '[]'; }
for _ in $(seq 1 600); do
  kill -0 "$GAL_PID" 2>/dev/null || { echo "bench/ebpf.sh: galaxia up exited" >&2; cat "$TMP/up.err" >&2; exit 1; }
  ready=$(pods_json | python3 -c 'import json,sys; p=json.load(sys.stdin); print(int(bool(p) and all(x["ready"] for x in p)))')
  [ "$ready" = 1 ] && break
  sleep 0.1
done
[ "$ready" = 1 ] || { echo "bench/ebpf.sh: the galaxy never got ready" >&2; cat "$TMP/up.err" >&2; exit 1; }
STAR_IP=$(pods_json | python3 -c 'import json,sys; print(next(x["ip"] for x in json.load(sys.stdin) if x["name"].startswith("estrela-da-morte-")))')
URL="http://$STAR_IP/v1/request-landing"
echo "# galaxy up (pid $GAL_PID); target $URL from caca-tie; $ROUNDS rounds of ${DUR}s, $CONNS connections, $PROFILE build"

# nginx inside caca-tie's namespaces, every path in the temp dir.
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  upstream death_star { server $STAR_IP:80; keepalive 128; }
  server {
    listen 127.0.0.1:8080;
    location / {
      proxy_pass http://death_star;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
"$G" exec caca-tie -- nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" >"$TMP/nginx/out" 2>&1 &
for _ in $(seq 1 100); do [ -s "$TMP/nginx/nginx.pid" ] && break; sleep 0.1; done
NGX_PID=$(cat "$TMP/nginx/nginx.pid")

cat >"$TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Accept"] = "*/*"
LUA

in_pod() { "$G" exec "$@"; }

set_mode() { # set_mode MODE: the policy in force for MODE, checked
  case $1 in
    none|nginx) "$G" delete cnp regra1 >/dev/null 2>&1 || true ;;
    l4) "$G" apply -f k8s/politica_l4.yml >/dev/null ;;
    l7) "$G" apply -f k8s/politica_l7.yml >/dev/null ;;
  esac
  sleep 0.2
  case $1 in
    l4) rc=0; in_pod asa-x -- curl -s -o /dev/null --connect-timeout 1 -XPOST "$URL" || rc=$?
        [ "$rc" = 28 ] || { echo "bench/ebpf.sh: politica_l4 not in force (asa-x curl exit $rc)" >&2; exit 1; } ;;
    l7) got=$(in_pod caca-tie -- curl -s -XPUT "http://$STAR_IP/v1/exhaust-port" | tr -d '\r')
        [ "$got" = "Access denied" ] || { echo "bench/ebpf.sh: politica_l7 not in force (got: $got)" >&2; exit 1; } ;;
  esac
}

url_of() { if [ "$1" = nginx ]; then echo "http://127.0.0.1:8080/v1/request-landing"; else echo "$URL"; fi; }

run_wrk() { # run_wrk MODE SECS: "req/s p99_us errors"
  in_pod caca-tie -- wrk -t1 -c"$CONNS" -d"${2}s" --latency -s "$TMP/post.lua" "$(url_of "$1")" | python3 -c '
import re, sys
t = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", t)
p99 = float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
errs = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
n = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
errs += int(n.group(1)) if n else 0
print(f"{rps:.0f} {p99:.0f} {errs}")'
}

MODES="none l4 l7 nginx"
for m in $MODES; do set_mode "$m"; run_wrk "$m" 1 >/dev/null; done # warm-up
: >"$TMP/results"
for r in $(seq 1 "$ROUNDS"); do
  for m in $MODES; do
    set_mode "$m"
    res=$(run_wrk "$m" "$DUR")
    echo "round $r  $m  $res" | awk '{printf "  round %s  %-6s %8s req/s  p99 %7s us  err %s\n", $2, $3, $4, $5, $6}'
    echo "$m $res" >>"$TMP/results"
  done
done

python3 - "$TMP/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
modes = []
for r in rows:
    if r[0] not in modes:
        modes.append(r[0])
med = {m: (statistics.median(float(r[1]) for r in rows if r[0] == m),
           statistics.median(float(r[2]) for r in rows if r[0] == m),
           sum(int(r[3]) for r in rows if r[0] == m)) for m in modes}
base = med[modes[0]]
print(f"{'mode':<7} {'req/s':>9} {'p99 us':>8} {'err':>5} {'x none':>7} {'p99 x':>6}")
for m in modes:
    rps, p99, err = med[m]
    print(f"{m:<7} {rps:>9.0f} {p99:>8.0f} {err:>5} {rps / base[0]:>7.2f} {p99 / base[1]:>6.2f}")
l4 = med["l4"][0] / med["none"][0]
l7 = med["l7"][0] / med["nginx"][0]
print(f"l4/none = {l4:.2f} (target >= 0.95): {'met' if l4 >= 0.95 else 'NOT met'}")
print(f"l7/nginx = {l7:.2f} (target >= 1.00): {'met' if l7 >= 1.0 else 'NOT met'}")
PY
