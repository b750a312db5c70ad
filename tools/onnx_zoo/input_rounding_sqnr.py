#!/usr/bin/env python3
"""How much of the int8 error is the net amplifying a small input error?

    build/venv-torch/bin/python tools/onnx_zoo/input_rounding_sqnr.py build/onnx_zoo [CNNRT]

For each net quantized by run_zoo.sh, runs the float ONNX model (ONNX Runtime)
on the evaluation inputs twice: as they are, and rounded to the int8 grid of
the cnnrt model's input (its scale and zero point, from `cnnrt inspect`). Only
the input is quantized; everything after it is float. Prints the SQNR of that
input and of the resulting float output. An int8 model cannot be expected to
beat the second number by much: it carries this input error and more.
"""
import json, os, subprocess, sys

import numpy as np
import onnxruntime as ort


def sqnr(ref, got):
    return 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((ref.astype(np.float64) - got) ** 2))


def main():
    out = sys.argv[1]
    cnnrt = sys.argv[2] if len(sys.argv) > 2 else ".build/release/cnnrt"
    x = np.load(os.path.join(out, "eval.npz"))["x"]  # NHWC
    exp = json.load(open(os.path.join(out, "export.json")))
    print(f"{'model':<20} {'input SQNR dB':>13} {'float output SQNR dB':>21}")
    for net in exp["nets"]:
        model = os.path.join(out, net + ".minmax.cnnrt")
        if not os.path.exists(model):
            continue
        info = json.loads(subprocess.run([cnnrt, "inspect", model, "--json"], capture_output=True,
                                         text=True, check=True).stdout)
        s, z = info["inputs"][0]["scale"], info["inputs"][0]["zero_point"]
        xq = ((np.clip(np.round(x / s) + z, -128, 127) - z) * s).astype(np.float32)
        sess = ort.InferenceSession(os.path.join(out, net + ".onnx"), providers=["CPUExecutionProvider"])
        run = lambda a: np.stack([sess.run(None, {"input": np.ascontiguousarray(v.transpose(2, 0, 1)[None])})[0]
                                  for v in a])
        print(f"{net:<20} {sqnr(x, xq):>13.1f} {sqnr(run(x), run(xq)):>21.1f}")


if __name__ == "__main__":
    main()
