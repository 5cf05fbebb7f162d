#!/usr/bin/env bash
# buf for the partner API's proto files, installed on first use from the npm registry into .kring/tools/buf
# (the exact version and integrity hashes of scripts/buf/package-lock.json; nothing global), then:
#
#   scripts/buf.sh lint        buf lint with buf.yaml's rules and its explained exceptions
#   scripts/buf.sh breaking    buf breaking: proto/ against the last released proto, proto/releases/<version>/
#   scripts/buf.sh ARGS...     any other buf command
#
# Needs Node.js with npm (Debian: apt-get install nodejs npm; macOS: brew install node).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.kring/tools/buf"
buf="$tools/node_modules/.bin/buf"
want=$(sed -n 's/.*"@bufbuild\/buf": "\([^"]*\)".*/\1/p' "$root/scripts/buf/package.json")

if [ ! -x "$buf" ] || [ "$("$buf" --version 2>/dev/null)" != "$want" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "buf: npm is needed to install buf $want (Debian/Ubuntu: apt-get install nodejs npm; macOS: brew install node)" >&2
    exit 1
  fi
  echo "buf: installing buf $want into .kring/tools/buf (once)" >&2
  rm -rf "$tools" && mkdir -p "$tools"
  cp "$root/scripts/buf/package.json" "$root/scripts/buf/package-lock.json" "$tools/"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || { echo "buf: npm ci failed in $tools" >&2; exit 1; }
fi

cd "$root"
case "${1:-}" in
  lint)
    shift
    exec "$buf" lint "$@"
    ;;
  breaking)
    shift
    # The baseline is the newest directory under proto/releases/ (a copy of the proto files of that release, kept
    # in the repository so any clone can check without tags or history). buf refuses an input inside the module,
    # so it reads a copy.
    release=$(ls -1 proto/releases | sort -V | tail -1)
    baseline=$(mktemp -d)
    trap 'rm -rf "$baseline"' EXIT
    cp -R "proto/releases/$release/." "$baseline/"
    "$buf" breaking --against "$baseline" "$@"
    ;;
  *)
    exec "$buf" "$@"
    ;;
esac
