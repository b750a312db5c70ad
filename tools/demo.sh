#!/usr/bin/env bash
# make demo: classify the bundled sample images with the bundled model,
# once through the C example (libcnnrt.so + Include/cnnrt.h) and once through
# `cnnrt classify`, and check every prediction against the file name.
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/shapes.cnnrt
samples=(samples/*.pgm)
bin=$(swift build --show-bin-path)

echo "== cnnrt inspect $model"
"$bin/cnnrt" inspect "$model"
echo
echo "== C example: build/examples/classify $model IMAGE"
wrong=0
for img in "${samples[@]}"; do
  line=$(build/examples/classify "$model" "$img" 2)
  echo "$line"
  want=$(basename "$img" .pgm); want=${want%_*}
  got=$(echo "$line" | sed -E 's/^[^:]+: ([^ ]+) .*/\1/')
  [ "$got" = "$want" ] || { echo "   ^ WRONG: expected $want"; wrong=$((wrong + 1)); }
done
echo
echo "== cnnrt classify $model samples/*.pgm"
"$bin/cnnrt" classify --top 2 "$model" "${samples[@]}"
echo
if [ "$wrong" -ne 0 ]; then
  echo "demo: $wrong of ${#samples[@]} images misclassified" >&2
  exit 1
fi
echo "demo: all ${#samples[@]} sample images classified correctly"
