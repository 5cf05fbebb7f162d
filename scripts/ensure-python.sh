#!/usr/bin/env bash
# Print the path of a Python 3.11+ interpreter that can create virtual environments, or say what to install.
# Usage: scripts/ensure-python.sh [preferred-python]
#   preferred-python: a command or path (python3, /usr/bin/python3.12), or a version (3.13): then only that
#   minor version will do, found on the PATH (python3.13) or among pyenv's installed versions.
set -euo pipefail

want="${1:-}"
if [[ "$want" =~ ^3\.[0-9]+$ ]]; then
  version=$want
  candidates=("python$version")
  if command -v pyenv >/dev/null 2>&1 || [ -d "${PYENV_ROOT:-$HOME/.pyenv}/versions" ]; then
    for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*; do
      [ -x "$dir/bin/python$version" ] && candidates+=("$dir/bin/python$version")
    done
  fi
  for candidate in "${candidates[@]}"; do
    if "$candidate" -c 'import ensurepip, venv' >/dev/null 2>&1; then
      command -v "$candidate"
      exit 0
    fi
  done
  cat >&2 <<MSG
No Python $version that can create virtual environments was found (tried: ${candidates[*]}).
Install one, then run make again:
  Debian/Ubuntu:  apt-get install python$version python$version-venv   (where the release packages it)
  macOS:          brew install python@$version
  pyenv:          pyenv install $version
MSG
  exit 1
fi

for candidate in ${want} python3 python3.13 python3.12 python3.11; do
  [ -n "$candidate" ] || continue
  command -v "$candidate" >/dev/null 2>&1 || continue
  if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    if ! "$candidate" -c 'import ensurepip, venv' 2>/dev/null; then
      version=$("$candidate" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      echo "$candidate (Python $version) cannot create virtual environments." >&2
      echo "On Debian/Ubuntu: apt-get install python${version}-venv" >&2
      exit 1
    fi
    command -v "$candidate"
    exit 0
  fi
done

found=$(command -v python3 >/dev/null 2>&1 && python3 --version 2>&1 || echo "no python3")
cat >&2 <<MSG
Kring needs Python 3.11 or newer (found: $found).
Install one, then run make again:
  Debian 12 / Ubuntu 24.04:  apt-get install python3 python3-venv
  macOS (Homebrew):          brew install python@3.12
  any system (pyenv):        pyenv install 3.12 && pyenv local 3.12
Or point make at one: make run PYTHON=/path/to/python3.12
MSG
exit 1
