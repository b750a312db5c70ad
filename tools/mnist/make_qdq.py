#!/usr/bin/env python3
"""Quantize models/mnist_float.onnx to an int8 QDQ ONNX model with ONNX Runtime.

Run by hand from the repository root (after train_mnist.py):

    build/venv-mnist/bin/python tools/mnist/make_qdq.py

onnxruntime.quantization.quantize_static, QuantFormat.QDQ, per_channel=True,
int8 activations (asymmetric, MinMax calibration) and int8 weights (symmetric,
per output channel), calibrated on 200 images drawn (seeded) from the 20k MNIST
training subset in ../shared/data/mnist.  Writes models/mnist_qdq.onnx and
models/mnist_qdq.onnx.json, and reports ONNX Runtime's own int8 top-1 on the full
10k test set (the reference the Swift importer is later checked against).
"""
import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_mnist import ROOT, load_test, load_train, ort_predict  # noqa: E402


class Reader:
    def __init__(self, x, name):
        self.x, self.name, self.i = x, name, 0

    def get_next(self):
        if self.i >= len(self.x):
            return None
        self.i += 1
        return {self.name: self.x[self.i - 1:self.i]}

    def rewind(self):
        self.i = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--float", dest="fmodel", default=os.path.join(ROOT, "models", "mnist_float.onnx"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "mnist_qdq.onnx"))
    ap.add_argument("--calib", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    import onnx
    import onnxruntime
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    xtr, _ = load_train()
    idx = np.sort(np.random.default_rng(args.seed).choice(len(xtr), args.calib, replace=False))
    xcal = (xtr[idx].astype(np.float32) / 255.0)[:, None, :, :]

    # ORT's recommended pre-processing (what `python -m onnxruntime.quantization.preprocess`
    # does; all shapes here are static, so ONNX shape inference suffices): ORT's graph optimizer, which folds each BatchNormalization
    # into its Conv and drops the inference Dropout.  Without it quantize_static would
    # quantize the Conv output *before* BN as a separate int8 tensor.
    from onnxruntime.quantization.shape_inference import quant_pre_process
    tmpdir = tempfile.mkdtemp(prefix="mnist_qdq_")
    pre = os.path.join(tmpdir, "mnist_float_pre.onnx")
    quant_pre_process(args.fmodel, pre, skip_symbolic_shape=True)  # shapes are static
    quantize_static(
        pre, args.out, Reader(xcal, "input"),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )

    xte, yte = load_test()
    xte = (xte.astype(np.float32) / 255.0)[:, None, :, :]
    pq = ort_predict(args.out, xte)
    pf = ort_predict(args.fmodel, xte)
    acc_q = float((pq.argmax(1) == yte).mean())
    acc_f = float((pf.argmax(1) == yte).mean())
    agree = float((pq.argmax(1) == pf.argmax(1)).mean())
    maxdiff = float(np.abs(pq - pf).max())
    print(f"ORT float top-1 on 10k test: {acc_f * 100:.2f}%")
    print(f"ORT int8 QDQ top-1 on 10k test: {acc_q * 100:.2f}%  (argmax agreement with float "
          f"{agree * 100:.2f}%, max |p_int8 - p_float| {maxdiff:.3g})")

    m = onnx.load(args.out)
    ops = [n.op_type for n in m.graph.node]
    with open(args.out, "rb") as f:
        blob = f.read()
    prov = {
        "file": os.path.relpath(args.out, ROOT),
        "bytes": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
        "made_by": "tools/mnist/make_qdq.py from models/mnist_float.onnx",
        "command": " ".join(["build/venv-mnist/bin/python", "tools/mnist/make_qdq.py"] + sys.argv[1:]),
        "quantization": {
            "preprocess": "onnxruntime.quantization.shape_inference.quant_pre_process (ONNX shape "
                          "inference + ORT graph optimizer: BN folded into Conv, Dropout removed)",
            "api": "onnxruntime.quantization.quantize_static",
            "quant_format": "QDQ",
            "per_channel": True,
            "activation_type": "QInt8 (asymmetric, zero point from calibration)",
            "weight_type": "QInt8 (symmetric, per output channel)",
            "calibrate_method": "MinMax",
            "calibration_images": f"{args.calib} images of the first-20k MNIST training subset, "
                                  f"indices = sorted numpy default_rng({args.seed}).choice(20000, {args.calib}, replace=False)",
            "input_preprocess": "pixel/255, float32 [1,1,28,28]",
        },
        "ops": ops,
        "opset": [{"domain": o.domain, "version": o.version} for o in m.opset_import],
        "test_top1_onnxruntime_int8": acc_q,
        "test_top1_onnxruntime_float": acc_f,
        "argmax_agreement_int8_vs_float": agree,
        "max_abs_prob_diff_int8_vs_float": maxdiff,
        "ort_execution": "CPUExecutionProvider, default graph optimizations, intra_op_num_threads=1, batch 1",
        "versions": {"python": platform.python_version(), "onnx": onnx.__version__,
                     "onnxruntime": onnxruntime.__version__, "numpy": np.__version__},
    }
    with open(args.out + ".json", "w") as f:
        json.dump(prov, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out} ({len(blob)} bytes) and {args.out}.json")
    print("ops:", " ".join(ops))


if __name__ == "__main__":
    main()
