#!/usr/bin/env bash
# The whole test suite: format and lint, types, unit and integration tests, then the
# end-to-end tests in real Chromium. Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  echo "Usage: npm test   (or bash scripts/test.sh)"
  echo "Runs Biome, the dependency check, tsc and svelte-check, vitest (unit tests and"
  echo "e2e/integration), then Playwright in Debian Chromium, and prints one 'N passed,"
  echo "N failed' line. Reports go to test-results/."
  exit 0
fi
export VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}
mkdir -p test-results
status=0
step() {
  echo "== $1"
  shift
  if ! "$@"; then status=1; echo "!! failed: $*"; fi
}
step "format and lint (biome)" npx biome check .
step "declared dependencies, one-way packages" node scripts/check-deps.mjs
step "types (tsc, svelte-check)" npm run --silent typecheck
step "unit and integration tests (vitest)" npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
step "end-to-end tests (playwright, chromium)" npx playwright test -c e2e/playwright.config.ts
node scripts/summary.mjs || status=1
exit $status
