#!/usr/bin/env bash
# The aarch64 build against the x86-64 build on the MLPerf Tiny models, as a
# user would run them: ResNet-8 and DS-CNN are imported from ../shared/data
# with `cnnrt import`, then CExamples/infer_raw (built once with gcc against
# build/lib/libcnnrt.so, once with aarch64-linux-gnu-gcc against
# build/aarch64/lib/libcnnrt.so) runs the 200 TFLM golden inputs of each model
# (Tests/Golden/tflm/<model>.inputs.bin). Every aarch64 kernel path's output
# bytes (under qemu-aarch64) must equal the x86 build's, and both must equal
# TFLM's (<model>.outputs.bin). Exits non-zero on any difference.
#
#   usage: tools/arm/compare-x86.sh CNNRT_CLI X86_INFER ARM_INFER QEMU...
set -euo pipefail
cd "$(dirname "$0")/../.."
cli=$1 x86=$2 arm=$3; shift 3
qemu=("$@")
data=../shared/data/models
[ -d "$data" ] || { echo "compare-x86: $data is missing (the MLPerf models come from there)" >&2; exit 1; }
out=build/aarch64/compare
mkdir -p "$out"
fail=0
for m in mlperf_tiny_ic_resnet8 mlperf_tiny_kws_dscnn; do
  "$cli" import "$data/${m}_int8.tflite" -o "$out/$m.cnnrt" >/dev/null
  in=Tests/Golden/tflm/$m.inputs.bin
  "$x86" "$out/$m.cnnrt" "$in" > "$out/$m.x86.txt"
  # TFLM's bytes in the same format, from the golden outputs.
  python3 - "$out/$m.x86.txt" Tests/Golden/tflm/$m.outputs.bin > "$out/$m.tflm.txt" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
n = len(lines[0].split()) - 2
data = open(sys.argv[2], "rb").read()
for i in range(len(data) // n):
    row = [b - 256 if b > 127 else b for b in data[i * n:(i + 1) * n]]
    print(" ".join(map(str, row)))
PY
  if ! diff -q <(cut -d' ' -f3- "$out/$m.x86.txt") "$out/$m.tflm.txt" >/dev/null; then
    echo "compare-x86: $m: the x86 build differs from TFLM" >&2; fail=1
  fi
  for cp in cortex-a72:portable,neon max:portable,neon,dotprod; do
    cpu=${cp%%:*}
    for p in $(echo "${cp#*:}" | tr , ' '); do
      "${qemu[@]}" -cpu "$cpu" -E CNNRT_ISA=$p "$arm" "$out/$m.cnnrt" "$in" > "$out/$m.$cpu.$p.txt"
      path=$(head -1 "$out/$m.$cpu.$p.txt" | cut -d' ' -f2)
      samples=$(wc -l < "$out/$m.$cpu.$p.txt")
      if cmp -s <(cut -d' ' -f3- "$out/$m.$cpu.$p.txt") <(cut -d' ' -f3- "$out/$m.x86.txt"); then
        echo "$m: aarch64 (qemu -cpu $cpu, kernel path $path): $samples samples, output bytes identical to the x86 build and to TFLM"
      else
        echo "compare-x86: $m: aarch64 (qemu -cpu $cpu, kernel path $path) differs from the x86 build" >&2; fail=1
      fi
      [ "$path" = "$p" ] || { echo "compare-x86: requested $p, got $path" >&2; fail=1; }
    done
  done
done
exit $fail
