#!/usr/bin/env bash
# The shipped library depends on libc only (libm tolerated) and exports only cnn_* symbols.
# aarch64: glibc keeps the stack-protector canary (__stack_chk_guard) in the
# dynamic loader, so ld-linux-aarch64.so.1 is NEEDED as well.
set -euo pipefail
lib=${1:?usage: check-abi.sh libcnnrt.so [ARCH]}
arch=${2:-$(uname -m)}
machine=$(readelf -h "$lib" | awk -F: '/Machine:/ {gsub(/^ +/, "", $2); print $2}')
case "$arch" in
  x86_64) want="Advanced Micro Devices X86-64" ;;
  aarch64) want="AArch64" ;;
  *) want="" ;;
esac
if [ -n "$want" ] && [ "$machine" != "$want" ]; then
  echo "check-abi: FAIL: $lib is built for $machine, expected $want" >&2; exit 1
fi
echo "machine: $machine"
needed=$(readelf -d "$lib" | awk '/NEEDED/ {gsub(/[\[\]]/, "", $5); print $5}')
echo "NEEDED: $(echo $needed)"
for n in $needed; do
  case "$n" in
    libc.so.*|libm.so.*) ;;
    ld-linux-aarch64.so.*) [ "$arch" = aarch64 ] || { echo "check-abi: FAIL: unexpected dependency $n" >&2; exit 1; } ;;
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
