#!/usr/bin/env bash
# Regenerate the Python code for every .proto under proto/ into services/api/ (commit the result).
#
#   scripts/gen_proto.sh            # uses .venv/bin/python when present, else python3
#   PYTHON=/path/to/python scripts/gen_proto.sh
#
# protoc names imports after the proto package (`from kring.v1 import ...`); the generated code lives
# in the services.api package, so those imports are rewritten to `from services.api.kring.v1 import ...`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

out=${KRING_PROTO_OUT:-services/api}  # KRING_PROTO_OUT: elsewhere (tests/ops compares with a fresh copy)
# Start clean so a deleted or renamed .proto leaves no stale module behind.
rm -rf "$out/kring"
mkdir -p "$out"

# proto/releases/ holds copies of released proto files, the baseline of `buf breaking` (scripts/buf.sh): not code.
mapfile -t protos < <(find proto -path proto/releases -prune -o -name '*.proto' -print | LC_ALL=C sort)
"$PYTHON" -m grpc_tools.protoc -I proto \
  --python_out="$out" --grpc_python_out="$out" --pyi_out="$out" \
  "${protos[@]}"

# Every generated directory is a package.
find "$out" -type d ! -name __pycache__ -exec sh -c '[ -e "$1/__init__.py" ] || : > "$1/__init__.py"' _ {} \;

# -i.bak then rm: works with both GNU and BSD sed.
find "$out/kring" \( -name '*.py' -o -name '*.pyi' \) -print0 | while IFS= read -r -d '' file; do
  sed -i.bak -E \
    -e 's/^from kring(\.[A-Za-z0-9_.]+)? import /from services.api.kring\1 import /' \
    -e 's/^import kring\./import services.api.kring./' \
    "$file"
  rm -f "$file.bak"
done

echo "generated $(find "$out/kring" -name '*_pb2*.py' | wc -l | tr -d ' ') modules from ${#protos[@]} proto file(s) into $out/"
