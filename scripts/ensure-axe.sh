#!/usr/bin/env bash
# axe-core, the accessibility engine tests/browser injects into every console page, installed from the npm registry
# at the exact version and integrity hash of tests/browser/axe/package-lock.json, into tests/browser/axe/node_modules
# (nothing global), once: again only when the lock file changes. `make test` calls this first.
#
# Needs Node.js 18 or newer with npm (Debian: apt-get install nodejs npm; macOS: brew install node).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
axe="$root/tests/browser/axe"
stamp="$axe/node_modules/.kring-installed"

if ! command -v npm >/dev/null 2>&1; then
  echo "axe-core: npm is needed (Debian/Ubuntu: apt-get install nodejs npm; macOS: brew install node)" >&2
  exit 1
fi
if [ -f "$stamp" ] && cmp -s "$stamp" "$axe/package-lock.json" && [ -f "$axe/node_modules/axe-core/axe.min.js" ]; then
  exit 0  # installed from this very lock file
fi
echo "axe-core: installing tests/browser/axe's packages (npm ci, once)" >&2
(cd "$axe" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
  || { echo "axe-core: npm ci failed in tests/browser/axe" >&2; exit 1; }
cp "$axe/package-lock.json" "$stamp"
