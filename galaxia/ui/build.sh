#!/usr/bin/env bash
# galaxia/ui/build.sh: rebuild the web UI's bundle (dist/) from its sources (src/), reproducibly:
# the versions are pinned by package-lock.json (npm ci), esbuild bundles and minifies (deterministic
# for the same inputs), and dist/SOURCES.sha256 records the hash of every source file and of every file built,
# which galaxia/tests/ui_bundle.rs recomputes: a source changed without a rebuild, or a bundle
# edited by hand, fails the tests.
# galaxia embeds dist/ at compile time: building galaxia needs only Rust, never this script.
#
#   galaxia/ui/build.sh           rebuild dist/
#   galaxia/ui/build.sh --check   rebuild into a temp dir and fail if dist/ differs from it
# Needs Node.js and npm (the npm registry, for `npm ci` the first time).
set -euo pipefail
cd "$(dirname "$0")"

CHECK=0
[ "${1:-}" = --check ] && CHECK=1

# The sources, in the order their hashes are listed (galaxia/tests/ui_bundle.rs lists them the same).
sources() {
  printf '%s\n' package.json package-lock.json build.sh
  find src -type f | LC_ALL=C sort
}

if [ ! -x node_modules/.bin/esbuild ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

OUT=dist
if [ "$CHECK" = 1 ]; then
  OUT=$(mktemp -d /tmp/galaxia-ui-check.XXXXXX)
  trap 'rm -rf "$OUT"' EXIT
fi
mkdir -p "$OUT"

ESBUILD=node_modules/.bin/esbuild
"$ESBUILD" src/main.js --bundle --minify --format=iife --target=es2020 --charset=utf8 \
  --legal-comments=eof --log-level=warning --outfile="$OUT/app.js"
"$ESBUILD" src/style.css --bundle --minify --charset=utf8 --log-level=warning --outfile="$OUT/app.css"
cp src/index.html src/favicon.svg "$OUT/"
# What it was built from, then what it made (so that neither can change alone).
{
  sources | while read -r f; do sha256sum "$f"; done
  for f in app.js app.css index.html favicon.svg; do
    printf '%s  dist/%s\n' "$(sha256sum <"$OUT/$f" | cut -d' ' -f1)" "$f"
  done
} >"$OUT/SOURCES.sha256"

if [ "$CHECK" = 1 ]; then
  if diff -r dist "$OUT" >/dev/null; then
    echo "galaxia/ui: dist/ matches its sources"
  else
    diff -r dist "$OUT" | head -20 >&2
    echo "galaxia/ui: dist/ is not what build.sh makes from src/: run galaxia/ui/build.sh and commit dist/" >&2
    exit 1
  fi
else
  ls -l dist
fi
