#!/usr/bin/env python3
"""Golden outputs of ONNX Runtime for the ONNX importer tests (Tests/Golden/onnx).

Run by hand from the repository root (MNIST is read from ../shared/data/mnist;
no MNIST image is written into the repository, only ORT's outputs):

    build/venv-mnist/bin/python tools/onnx/make_goldens.py

Writes
- mnist_float_probs_first20.f32: ORT float outputs (softmax probabilities) of
  models/mnist_float.onnx for test images 0..19, float32 little-endian [20, 10];
- mnist_qdq_top1_10k.u8: ORT top-1 class of models/mnist_qdq.onnx (int8 QDQ) for
  all 10,000 test images, one byte each, with ORT's default optimizations (the
  QDQ groups fused into ORT's int8 kernels: QLinearConv etc.);
- mnist_qdq_ref_top1_10k.u8: the same with graph optimizations disabled, so ORT
  executes the QDQ graph op by op as ONNX defines it (DequantizeLinear → float
  op → QuantizeLinear): the reference semantics of the QDQ model;
- mnist_float_top1_10k.u8: the same for the float model;
- provenance.json: tool versions, model hashes, execution settings, accuracies.
Input: pixel/255 as float32 [1, 1, 28, 28] (the models' documented preprocessing).
"""
import hashlib
import json
import os
import platform
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "mnist"))
from train_mnist import load_test, ort_predict  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "Golden", "onnx")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ort_predict_unoptimized(path, x_nchw):
    return ort_predict(path, x_nchw, optimize=False)


def main():
    import onnx
    import onnxruntime

    os.makedirs(OUT, exist_ok=True)
    x, y = load_test()
    xf = (x.astype(np.float32) / 255.0)[:, None, :, :]
    fmodel = os.path.join(ROOT, "models", "mnist_float.onnx")
    qmodel = os.path.join(ROOT, "models", "mnist_qdq.onnx")
    pf = ort_predict(fmodel, xf)
    pq = ort_predict(qmodel, xf)
    pr = ort_predict_unoptimized(qmodel, xf)
    pf[:20].astype("<f4").tofile(os.path.join(OUT, "mnist_float_probs_first20.f32"))
    pq.argmax(1).astype(np.uint8).tofile(os.path.join(OUT, "mnist_qdq_top1_10k.u8"))
    pr.argmax(1).astype(np.uint8).tofile(os.path.join(OUT, "mnist_qdq_ref_top1_10k.u8"))
    pf.argmax(1).astype(np.uint8).tofile(os.path.join(OUT, "mnist_float_top1_10k.u8"))
    prov = {
        "made_by": "tools/onnx/make_goldens.py",
        "command": "build/venv-mnist/bin/python tools/onnx/make_goldens.py",
        "oracle": "onnxruntime CPUExecutionProvider, 1 thread, batch 1, default graph optimizations (and disabled for mnist_qdq_ref_top1_10k.u8)",
        "input": "MNIST t10k-images-idx3-ubyte.gz (../shared/data/mnist), pixel/255 float32 [1,1,28,28]",
        "models": {"models/mnist_float.onnx": sha(fmodel), "models/mnist_qdq.onnx": sha(qmodel)},
        "files": {
            "mnist_float_probs_first20.f32": "float32 LE [20,10], ORT float probabilities, test images 0-19",
            "mnist_qdq_top1_10k.u8": "uint8 [10000], ORT int8 (QDQ) top-1, all test images",
            "mnist_qdq_ref_top1_10k.u8": "uint8 [10000], ORT int8 (QDQ) top-1 with graph optimizations "
                                         "disabled (QDQ executed op by op, ONNX reference semantics), all test images",
            "mnist_float_top1_10k.u8": "uint8 [10000], ORT float top-1, all test images",
        },
        "test_top1_float": float((pf.argmax(1) == y).mean()),
        "test_top1_qdq_int8": float((pq.argmax(1) == y).mean()),
        "test_top1_qdq_int8_unoptimized": float((pr.argmax(1) == y).mean()),
        "top1_agreement_qdq_fused_vs_unoptimized": float((pq.argmax(1) == pr.argmax(1)).mean()),
        "versions": {"python": platform.python_version(), "onnx": onnx.__version__,
                     "onnxruntime": onnxruntime.__version__, "numpy": np.__version__},
    }
    with open(os.path.join(OUT, "provenance.json"), "w") as f:
        json.dump(prov, f, indent=2)
        f.write("\n")
    print(json.dumps(prov, indent=2))


if __name__ == "__main__":
    main()
