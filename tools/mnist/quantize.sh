#!/bin/sh
# Quantizes the project's float MNIST model (models/mnist_float.onnx) into the
# bundled int8 model models/mnist.cnnrt with `cnnrt quantize`, and writes
# models/mnist.cnnrt.json (provenance). Run by hand from anywhere; reads the
# first 1000 of the 20k MNIST training images in ../shared/data/mnist
# (uint8 (N, 28, 28); the model input is NCHW float [1, 1, 28, 28] = pixel/255,
# hence --pixel-scale 1/255). Nothing from MNIST is copied into the repository.
#
# CNNRT=<path to a built cnnrt> skips the release build.
set -eu
cd "$(dirname "$0")/../.."
DATA=${CNNRT_SHARED_DATA:-../shared/data}
CALIB="$DATA/mnist/neuralnetvis_mnist_train_first20k_x.npz"
SAMPLES=1000
[ -f "$CALIB" ] || { echo "missing $CALIB" >&2; exit 1; }
if [ -z "${CNNRT:-}" ]; then
  swift build -c release --product cnnrt
  CNNRT="$(swift build -c release --show-bin-path)/cnnrt"
fi
set -- quantize models/mnist_float.onnx --calibration "$CALIB" --samples $SAMPLES \
  --pixel-scale 0.003921569 --labels models/labels/digits.txt --name mnist -o models/mnist.cnnrt
echo "$CNNRT $*"
"$CNNRT" "$@"

python3 - "$SAMPLES" <<'PY'
import hashlib, json, subprocess, sys
def sha(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
blob = open("models/mnist.cnnrt", "rb").read()
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
prov = {
    "file": "models/mnist.cnnrt",
    "bytes": len(blob),
    "sha256": hashlib.sha256(blob).hexdigest(),
    "made_by": "tools/mnist/quantize.sh (cnnrt quantize, ONNX import + min-max calibration)",
    "command": "cnnrt quantize models/mnist_float.onnx --calibration ../shared/data/mnist/neuralnetvis_mnist_train_first20k_x.npz "
               f"--samples {sys.argv[1]} --pixel-scale 0.003921569 --labels models/labels/digits.txt --name mnist -o models/mnist.cnnrt",
    "source": {"file": "models/mnist_float.onnx", "sha256": sha("models/mnist_float.onnx")},
    "calibration": f"first {sys.argv[1]} images of the 20k MNIST training subset (uint8, pixel/255), min-max",
    "quantization": "int8 activations (asymmetric, TFLite rules), int8 weights symmetric per output channel, int32 biases",
    "input": {"layout": "NHWC [1, 28, 28, 1] (the ONNX model's NCHW [1, 1, 28, 28])", "preprocess": "pixel/255 (stored in the model: pixel scale 0.003921569), gray"},
    "labels": "models/labels/digits.txt (0-9)",
    "cnnrt_commit": commit,
}
with open("models/mnist.cnnrt.json", "w") as f:
    json.dump(prov, f, indent=2)
    f.write("\n")
print("wrote models/mnist.cnnrt and models/mnist.cnnrt.json")
PY
