#!/usr/bin/env bash
# Make sure `promtool` (from Debian's `prometheus` package) is on the PATH: tests/ops checks every /metrics
# endpoint, the alerting rules and their unit tests with it. Install it with apt-get when we may; otherwise
# say exactly what to do.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  echo "promtool: $(promtool --version 2>&1 | head -1)"
  exit 0
fi

if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"; else SUDO="none"; fi

instructions() {
  cat >&2 <<MSG
promtool is not installed and this script cannot install it ($1).
Do one of these, then run make again:
  Debian/Ubuntu:  sudo apt-get install -y prometheus        (promtool ships in the same package)
  macOS:          brew install prometheus
  any system:     put promtool from a Prometheus release (prometheus.io/download) on the PATH
MSG
  exit 1
}

if command -v apt-get >/dev/null 2>&1 && [ "$SUDO" != none ]; then
  echo "promtool: installing Debian's prometheus package with apt-get (once)"
  # Only the binaries are wanted: the package's service must not start a Prometheus on :9090.
  policy_rc=/usr/sbin/policy-rc.d
  created_policy=no
  if [ ! -e "$policy_rc" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy_rc" >/dev/null && $SUDO chmod +x "$policy_rc"
    created_policy=yes
  fi
  trap '[ "$created_policy" = yes ] && $SUDO rm -f "$policy_rc"' EXIT
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
    || instructions "apt-get install prometheus failed"
else
  instructions "apt-get as root is not available"
fi
command -v promtool >/dev/null 2>&1 || instructions "the prometheus package did not provide promtool"
echo "promtool: $(promtool --version 2>&1 | head -1)"
