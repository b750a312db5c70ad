#!/usr/bin/env bash
# make demo: classify the bundled demo digits (samples/mnist, drawn by
# tools/mnist/draw_digits.py) with the bundled int8 MNIST model
# (models/mnist.cnnrt, trained and quantized by the project), once through
# the C example (libcnnrt.so + Include/cnnrt.h) and once through
# `cnnrt classify`, and check every prediction against the file name
# (digit_<d>_<k>.pgm shows digit d); then `cnnrt eval` on the same digits
# (labels in samples/mnist/labels.csv) against the float ONNX model.
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/mnist.cnnrt
samples=(samples/mnist/digit_*.pgm)
bin=$(swift build --show-bin-path)

echo "== cnnrt inspect $model"
"$bin/cnnrt" inspect "$model"
echo
echo "== C example: build/examples/classify $model IMAGE 2"
wrong=0
for img in "${samples[@]}"; do
  line=$(build/examples/classify "$model" "$img" 2)
  want=$(basename "$img" .pgm); want=${want#digit_}; want=${want%%_*}
  got=$(echo "$line" | sed -E 's/^[^:]+: ([^ ]+) .*/\1/')
  if [ "$got" = "$want" ]; then
    echo "$line"
  else
    echo "$line   <-- WRONG: expected $want"
    wrong=$((wrong + 1))
  fi
done
echo
echo "== cnnrt classify --top 1 $model samples/mnist/digit_*.pgm"
"$bin/cnnrt" classify --top 1 "$model" "${samples[@]}"
echo
echo "== cnnrt eval $model --data samples/mnist --float models/mnist_float.onnx"
"$bin/cnnrt" eval "$model" --data samples/mnist --float models/mnist_float.onnx --no-progress
echo
if [ "$wrong" -ne 0 ]; then
  echo "demo: $wrong of ${#samples[@]} digits misclassified" >&2
  exit 1
fi
echo "demo: all ${#samples[@]} demo digits classified correctly"
