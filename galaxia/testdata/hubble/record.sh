#!/usr/bin/env bash
# Records the golden outputs of the real Hubble CLI v0.13.6 for the galaxia hubble tests
# (galaxia/tests/hubble_printer.rs, hubble_filters.rs). It needs a locally built `hubble`
# binary (HUBBLE, default /work/hubble-bin/hubble), which CI does not have: CI only compares
# against the goldens recorded here. Run it from anywhere after changing flows.json or a
# *.args file, and commit the *.golden files it writes.
#
# Each *.args file holds one command line a line (shell words; # starts a comment). A golden
# file holds, for each line in order:
#   === <the line>
#   exit <status>
#   stdout <bytes>
#   <that many bytes of stdout>
#   stderr <bytes>
#   <that many bytes of stderr>
# with a newline after each block of bytes.
set -euo pipefail

cd "$(dirname "$0")"
HUBBLE=${HUBBLE:-/work/hubble-bin/hubble}
if [[ ! -x $HUBBLE ]]; then
  echo "record.sh: no hubble binary at $HUBBLE (set HUBBLE to a Hubble CLI v0.13.6)" >&2
  exit 1
fi
# (A locally built binary may not know its version: `hubble version` cannot check it.)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# record LIST GOLDEN [ARGS...]: run `hubble observe ARGS... <line>` for each line of LIST.
record() {
  local list=$1 golden=$2 line rc
  shift 2
  local -a args
  : >"$tmp/golden"
  while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    eval "args=($line)"
    set +e
    # A clean environment: no HUBBLE_* settings, no config file, no terminal colors.
    env -i HOME="$tmp" PATH=/usr/bin:/bin "$HUBBLE" observe "$@" "${args[@]}" \
      >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    set -e
    {
      printf '=== %s\nexit %d\nstdout %d\n' "$line" "$rc" "$(wc -c <"$tmp/out")"
      cat "$tmp/out"
      printf '\nstderr %d\n' "$(wc -c <"$tmp/err")"
      cat "$tmp/err"
      printf '\n'
    } >>"$tmp/golden"
  done <"$list"
  mv "$tmp/golden" "$golden"
  echo "record.sh: $golden ($(grep -c '^=== ' "$golden") cases)"
}

record formats.args formats.golden --input-file flows.json
record filters.args filters.golden --input-file flows.json
record raw-filters.args raw-filters.golden --print-raw-filters
