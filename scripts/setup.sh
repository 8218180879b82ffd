#!/usr/bin/env bash
# Installs what a fresh machine lacks, then builds the pages. Safe to run again: each step
# checks first. Called by `npm start` and `npm test` (prestart/pretest) and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  echo "Usage: bash scripts/setup.sh"
  echo "Installs Debian's chromium and dataset-fashion-mnist when missing (apt, needs root or sudo),"
  echo "runs npm ci when node_modules is missing or stale, and builds the pages into client/dist."
  exit 0
fi

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ] || need_apt+=(dataset-fashion-mnist)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "GridTab needs the Debian packages: ${need_apt[*]}. Install them as root: apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  echo "[setup] installing ${need_apt[*]} (apt)"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_apt[@]}"
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing npm packages"
  npm ci --no-fund --no-audit
fi

# Build the pages when any client source is newer than the build.
if [ ! -f client/dist/index.html ] || [ -n "$(find client/index.html client/src shared/src kernels/src vite.config.ts -newer client/dist/index.html -print -quit)" ]; then
  echo "[setup] building the pages (vite)"
  npx vite build --logLevel warn
fi

# The inference example builds into client/dist/examples; after the pages, whose build empties client/dist.
example=client/dist/examples/fashion-classifier/index.html
if [ ! -f "$example" ] || [ -n "$(find examples/fashion-classifier client/src/inference client/dist/index.html -newer "$example" -print -quit)" ]; then
  echo "[setup] building the inference example (vite)"
  npx vite build -c examples/fashion-classifier/vite.config.ts --logLevel warn
fi
tabular=client/dist/examples/tabular/index.html
if [ ! -f "$tabular" ] || [ -n "$(find examples/tabular client/src/inference client/dist/index.html -newer "$tabular" -print -quit)" ]; then
  echo "[setup] building the tabular example (vite)"
  npx vite build -c examples/tabular/vite.config.ts --logLevel warn
fi
