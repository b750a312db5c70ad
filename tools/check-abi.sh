#!/usr/bin/env bash
# The shipped library depends on libc only (libm tolerated) and exports only cnn_* symbols.
set -euo pipefail
lib=${1:?usage: check-abi.sh libcnnrt.so}
needed=$(readelf -d "$lib" | awk '/NEEDED/ {gsub(/[\[\]]/, "", $5); print $5}')
echo "NEEDED: $(echo $needed)"
for n in $needed; do
  case "$n" in
    libc.so.*|libm.so.*) ;;
    *) echo "check-abi: FAIL: unexpected dependency $n" >&2; exit 1 ;;
  esac
done
exports=$(nm -D --defined-only "$lib" | awk '{print $3}')
bad=$(echo "$exports" | grep -v '^cnn_' || true)
if [ -n "$bad" ]; then
  echo "check-abi: FAIL: non-cnn_ exported symbols:" >&2; echo "$bad" >&2; exit 1
fi
echo "exports: $(echo "$exports" | wc -l) cnn_* symbols, nothing else"
echo "size: $(stat -c %s "$lib") bytes"
echo "check-abi: OK"
