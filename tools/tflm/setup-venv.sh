#!/usr/bin/env bash
# Create the Python venv for the TFLM tools (tools/tflm/*.py) under
# build/venv-tflm (git-ignored). Needs python3 >= 3.10 with venv
# (Debian: python3-venv) and access to PyPI. About 700 MB installed.
#
#   bash tools/tflm/setup-venv.sh
#   build/venv-tflm/bin/python tools/tflm/make_goldens.py
#
# VENV=path overrides the location; PYTHON=python3.11 picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${VENV:-build/venv-tflm}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r tools/tflm/requirements.txt
"$VENV/bin/python" - <<'PY'
import numpy, tensorflow as tf
from tflite_micro.python.tflite_micro import _version, runtime  # noqa: F401
print(f"venv ok: tflite-micro {_version.__version__}, tensorflow {tf.__version__}, numpy {numpy.__version__}")
PY
