#!/usr/bin/env python3
"""The ONNX zoo's int8 models as a case list for Tests/C/zoo_paths.c
(`make onnx-zoo-paths`), which runs them on each kernel path and compares
every op's output with the portable path's:

    python3 tools/onnx_zoo/zoo_inputs.py ZOO_DIR OUT_DIR CNNRT [TAG [COUNT]]

ZOO_DIR is run_zoo.sh's output (build/onnx_zoo_mnist or build/onnx_zoo):
NET.TAG.cnnrt for each net of export.json (TAG minmax by default) and
eval.npz (float NHWC evaluation inputs in the nets' units). Writes into
OUT_DIR: NET.cnnrt (a copy), NET.inputs.bin (the first COUNT evaluation
inputs, 4 by default, quantized with the model's own input scale and zero
point from `CNNRT inspect --json`, round half away from zero as cnnrt
quantize does, clamped to int8) and zoo_models.txt. These models are made by
`cnnrt quantize` and have no TFLM twin, so there are no outputs to compare.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    zoo, out, cnnrt = sys.argv[1:4]
    tag = sys.argv[4] if len(sys.argv) > 4 else "minmax"
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    nets = list(json.load(open(os.path.join(zoo, "export.json")))["nets"])
    x = np.load(os.path.join(zoo, "eval.npz"))["x"][:count].astype(np.float64)
    os.makedirs(out, exist_ok=True)
    names = []
    for net in nets:
        model = os.path.join(zoo, f"{net}.{tag}.cnnrt")
        if not os.path.exists(model):
            print(f"zoo_inputs: {model} missing (run tools/onnx_zoo/run_zoo.sh first)", file=sys.stderr)
            return 1
        info = json.loads(subprocess.run([cnnrt, "inspect", model, "--json"], check=True, capture_output=True,
                                         text=True).stdout)["inputs"]
        if len(info) != 1 or list(info[0]["shape"][1:]) != list(x.shape[1:]):
            print(f"zoo_inputs: {net}: input {info} does not take eval.npz's {x.shape[1:]}", file=sys.stderr)
            return 1
        v = x / info[0]["scale"]
        q = np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5) + info[0]["zero_point"], -128, 127).astype(np.int8)
        q.tofile(os.path.join(out, f"{net}.inputs.bin"))
        shutil.copyfile(model, os.path.join(out, f"{net}.cnnrt"))
        names.append(net)
    with open(os.path.join(out, "zoo_models.txt"), "w") as f:
        f.write("".join(n + "\n" for n in names))
    print(f"zoo_inputs: {len(names)} nets, {count} inputs each, into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
