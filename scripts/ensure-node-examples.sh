#!/usr/bin/env bash
# The Node.js partner example's packages (examples/node/: @grpc/grpc-js, @grpc/proto-loader, protobufjs), installed
# from the npm registry at the exact versions and integrity hashes of examples/node/package-lock.json, into
# examples/node/node_modules (nothing global), once: again only when the lock file changes. tests/e2e runs the
# example (tests/e2e/test_partner_examples_e2e.py); `make test` calls this first.
#
# Needs Node.js 18 or newer with npm (Debian: apt-get install nodejs npm; macOS: brew install node).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
example="$root/examples/node"
stamp="$example/node_modules/.kring-installed"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node examples: Node.js with npm is needed (Debian/Ubuntu: apt-get install nodejs npm; macOS: brew install node)" >&2
  exit 1
fi
if [ -f "$stamp" ] && cmp -s "$stamp" "$example/package-lock.json"; then
  exit 0  # installed from this very lock file
fi
echo "node examples: installing examples/node's packages (npm ci, once)" >&2
(cd "$example" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
  || { echo "node examples: npm ci failed in examples/node" >&2; exit 1; }
cp "$example/package-lock.json" "$stamp"
