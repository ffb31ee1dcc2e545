#!/usr/bin/env bash
# bench/galaxia.sh: what galaxia's L7-enforcing path costs. Throughput and p99 of
# POST /v1/request-landing, in one run, as ratios to the first target:
#   direct      the estrela-da-morte binary, straight
#   galaxia-l7  through `galaxia up` (book's starwars.yml + politica_l7.yml): caca-tie's egress path,
#               the policy engine (L3/L4 + HTTP rule), service load balancing over 2 in-process
#               replicas; reached through `--forward caca-tie=estrela-da-morte` (origin-form, so
#               that wrk can drive it). The proxy reaches the replicas through in-process pipes
#               (`--upstream pipe`, the default): HTTP/1.1 bytes, parsed by each replica's own server,
#               without a second trip through the kernel.
#   galaxia-l7-tcp  the same with `--upstream tcp`: the proxy reaches the replicas over loopback
#               TCP, the second hop a proxy in another process (nginx, Envoy) pays
#   nginx       Debian's nginx as a keep-alive reverse proxy in front of the direct server
#
# Usage: [CARGO_TARGET_DIR=...] [NO_BUILD=1] bench/galaxia.sh [bench-http.sh options, e.g. -d 5 -r 3]
# Needs: wrk and nginx (apt-get install -y wrk nginx), curl, python3, ../shared/bench/bench-http.sh
# (or BENCH_HTTP=/path). Everything listens on 127.0.0.1 ephemeral ports; nothing leaves the machine.
# Targets (issue 6): galaxia-l7 >= 0.5 x direct, and >= nginx.
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_HTTP=${BENCH_HTTP:-../shared/bench/bench-http.sh}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/galaxia.sh: $tool not found (apt-get install -y wrk nginx curl python3)" >&2; exit 2; }
done
[ -x "$BENCH_HTTP" ] || [ -f "$BENCH_HTTP" ] || { echo "bench/galaxia.sh: $BENCH_HTTP not found" >&2; exit 2; }

# NO_BUILD=1 reuses the release binaries already in $TARGET_DIR.
[ "${NO_BUILD:-0}" = 1 ] || cargo build --release -q -p galaxia -p estrela-da-morte

TMP=$(mktemp -d /tmp/bench-galaxia.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_200() { # wait_200 URL: until a POST answers 200 (30 s at most)
  for _ in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$1" || true)
    [ "$code" = 200 ] && return 0
    sleep 0.1
  done
  echo "bench/galaxia.sh: $1 never answered 200" >&2
  exit 1
}

# direct
DS_PORT=$(free_port) DS_ADMIN=$(free_port)
"$TARGET_DIR/release/estrela-da-morte" --host 127.0.0.1 --port "$DS_PORT" --admin-port "$DS_ADMIN" \
  --no-explosions --log-level warn >"$TMP/direct.log" 2>&1 &
DS_PID=$!
PIDS+=("$DS_PID")

# nginx, in the foreground (daemon off), with every path inside the temp dir
NGX_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
worker_processes auto;
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
  upstream death_star { server 127.0.0.1:$DS_PORT; keepalive 128; }
  server {
    listen 127.0.0.1:$NGX_PORT;
    location / {
      proxy_pass http://death_star;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
PIDS+=("$!")

# galaxia with the book's L7 policy in force: start_galaxia NAME UPSTREAM sets GAL_URL and GAL_PID
start_galaxia() {
  "$TARGET_DIR/release/galaxia" up -f k8s/starwars.yml -f k8s/politica_l7.yml --no-patrol --hubble-port 0 --ui-port 0 \
    --upstream "$2" --forward caca-tie=estrela-da-morte --control-file "$TMP/$1.control.json" \
    >"$TMP/$1.out" 2>"$TMP/$1.err" &
  GAL_PID=$!
  PIDS+=("$GAL_PID")
  GAL_URL=
  for _ in $(seq 1 300); do
    GAL_URL=$(sed -n 's/.*port-forward caca-tie -> estrela-da-morte on \(http[^ ]*\).*/\1/p' "$TMP/$1.out")
    [ -n "$GAL_URL" ] && break
    sleep 0.1
  done
  [ -n "$GAL_URL" ] || { echo "bench/galaxia.sh: galaxia up ($1) did not start" >&2; cat "$TMP/$1.err" >&2; exit 1; }
  wait_200 "$GAL_URL/v1/request-landing"
  # The path really enforces L7: anything but landing is refused by regra1.
  denied=$(curl -s -XPUT "$GAL_URL/v1/exhaust-port" | tr -d "\r")
  [ "$denied" = "Access denied" ] || { echo "bench/galaxia.sh: L7 policy not in force in $1 (got: $denied)" >&2; exit 1; }
  echo "# $1 enforces regra1: PUT /v1/exhaust-port -> Access denied"
}
start_galaxia galaxia-l7 pipe
PIPE_URL=$GAL_URL PIPE_PID=$GAL_PID
start_galaxia galaxia-l7-tcp tcp
TCP_URL=$GAL_URL TCP_PID=$GAL_PID

wait_200 "http://127.0.0.1:$DS_PORT/v1/request-landing"
wait_200 "http://127.0.0.1:$NGX_PORT/v1/request-landing"

bash "$BENCH_HTTP" "$@" \
  "direct:$DS_PID=http://127.0.0.1:$DS_PORT/v1/request-landing" \
  "galaxia-l7:$PIPE_PID=$PIPE_URL/v1/request-landing" \
  "galaxia-l7-tcp:$TCP_PID=$TCP_URL/v1/request-landing" \
  "nginx=http://127.0.0.1:$NGX_PORT/v1/request-landing"
