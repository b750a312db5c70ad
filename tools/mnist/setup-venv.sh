#!/usr/bin/env bash
# Create the Python venv for the MNIST model tools (tools/mnist/*.py) under
# build/venv-mnist (git-ignored). Needs python3 >= 3.10 with venv
# (Debian: python3-venv) and access to PyPI. About 700 MB installed.
# draw_digits.py also needs Debian's fonts-dejavu-core (installed here if missing).
#
#   bash tools/mnist/setup-venv.sh
#   build/venv-mnist/bin/python tools/mnist/train_mnist.py   # -> models/mnist_float.onnx(.json)
#   build/venv-mnist/bin/python tools/mnist/make_qdq.py      # -> models/mnist_qdq.onnx(.json)
#   build/venv-mnist/bin/python tools/mnist/draw_digits.py   # -> samples/mnist/digit_<d>_<k>.pgm
#
# VENV=path overrides the location; PYTHON=python3.11 picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${VENV:-build/venv-mnist}"
PYTHON="${PYTHON:-python3}"

if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-dejavu-core
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r tools/mnist/requirements.txt
"$VENV/bin/python" - <<'PY'
import numpy, onnx, onnxruntime, PIL, tensorflow as tf, keras
print(f"venv ok: tensorflow {tf.__version__}, keras {keras.__version__}, onnx {onnx.__version__}, "
      f"onnxruntime {onnxruntime.__version__}, numpy {numpy.__version__}, pillow {PIL.__version__}")
PY
