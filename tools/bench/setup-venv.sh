#!/usr/bin/env bash
# Python environment for `make bench`: the TFLM venv (build/venv-tflm, made by
# tools/tflm/setup-venv.sh) plus tools/bench/requirements.txt (ai-edge-litert).
# Needs PyPI. VENV=path overrides the location, as in tools/tflm/setup-venv.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${VENV:-build/venv-tflm}"
VENV="$VENV" bash tools/tflm/setup-venv.sh
"$VENV/bin/python" -m pip install --quiet -r tools/bench/requirements.txt
"$VENV/bin/python" - <<'PY'
import ai_edge_litert
from ai_edge_litert.interpreter import Interpreter  # noqa: F401
print(f"bench venv ok: ai-edge-litert {ai_edge_litert.__version__}")
PY
