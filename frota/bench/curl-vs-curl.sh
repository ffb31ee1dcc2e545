#!/usr/bin/env bash
# Per-invocation cost of the ships' curl front end against Debian's curl: N sequential
# `curl -s -XPOST URL` runs of each, alternating, ROUNDS times; prints each round's ratio
# (ship time / Debian curl time; below 1 means the ship's curl is quicker). Loopback targets only.
#
#   frota/bench/curl-vs-curl.sh SHIP_BINARY URL [N=200] [ROUNDS=3]
#   e.g. frota/bench/curl-vs-curl.sh target/release/caca-tie 127.0.0.1:8080/v1/request-landing
set -euo pipefail
ship=${1:?ship binary}; url=${2:?URL}; n=${3:-200}; rounds=${4:-3}
host=${url#http://}; host=${host%%/*}; host=${host%:*}
case "$host" in 127.*|localhost|'[::1]') ;; *) echo "refusing non-loopback target $host" >&2; exit 2;; esac
command -v curl >/dev/null || { echo "Debian curl is needed: apt-get install -y curl" >&2; exit 2; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
ln -s "$(realpath "$ship")" "$dir/curl"
run() { local bin=$1 s e; s=$(date +%s%N); for _ in $(seq "$n"); do "$bin" -s -XPOST "$url" >/dev/null; done; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
for r in $(seq "$rounds"); do
  deb=$(run "$(command -v curl)"); ours=$(run "$dir/curl")
  awk -v r="$r" -v d="$deb" -v o="$ours" -v n="$n" \
    'BEGIN { printf "round %d: %d runs, debian curl %d ms, ship curl %d ms, ratio ship/debian %.2f\n", r, n, d, o, o / d }'
done
