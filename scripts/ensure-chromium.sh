#!/usr/bin/env bash
# Make sure a Chromium is there for tests/browser, which drives it with Playwright (Debian's `chromium` package;
# Playwright's own browser download is never used). KRING_TEST_CHROMIUM names the executable; by default the
# `chromium` on the PATH. Install Debian's package with apt-get when we may; otherwise say exactly what to do.
set -euo pipefail

wanted="${KRING_TEST_CHROMIUM:-chromium}"

version() {
  # Debian's wrapper script prints a harmless shell warning on stderr; only the version line matters
  "$1" --version 2>/dev/null | head -1
}

if command -v "$wanted" >/dev/null 2>&1; then
  echo "chromium: $(version "$wanted") ($(command -v "$wanted"))"
  exit 0
fi
if [ -n "${KRING_TEST_CHROMIUM:-}" ]; then
  echo "chromium: KRING_TEST_CHROMIUM=$KRING_TEST_CHROMIUM is not an executable; point it at a Chromium or unset it" >&2
  exit 1
fi

if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"; else SUDO="none"; fi

instructions() {
  cat >&2 <<MSG
Chromium is not installed and this script cannot install it ($1).
Do one of these, then run make again:
  Debian/Ubuntu:  sudo apt-get install -y chromium          (Ubuntu's snap-only chromium-browser also works)
  macOS:          brew install --cask chromium
  any system:     KRING_TEST_CHROMIUM=/path/to/chromium-or-chrome make test
MSG
  exit 1
}

if command -v apt-get >/dev/null 2>&1 && [ "$SUDO" != none ]; then
  echo "chromium: installing Debian's chromium package with apt-get (once)"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || instructions "apt-get install chromium failed"
else
  instructions "apt-get as root is not available"
fi
command -v chromium >/dev/null 2>&1 || instructions "the chromium package did not provide chromium"
echo "chromium: $(version chromium)"
