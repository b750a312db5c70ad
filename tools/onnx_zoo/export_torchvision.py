#!/usr/bin/env python3
"""Export untrained, seeded torchvision classifiers to float ONNX for the
ONNX half of the network zoo (issue #12), plus seeded input sets.

    build/venv-torch/bin/python tools/onnx_zoo/export_torchvision.py OUT_DIR [--size 224]

Writes OUT_DIR/<net>.onnx for each net, OUT_DIR/calib.npz (calibration
inputs, seed 1) and OUT_DIR/eval.npz (separate evaluation inputs, seed 2).
The input sets are float32 NHWC, N(0, 1) values in the model's input units
(`cnnrt quantize --calibration` and `cnnrt eval --data` take NHWC arrays for
NCHW ONNX models); eval.npz also holds arbitrary labels "y", which `cnnrt eval`
requires but which mean nothing for untrained nets.

weights=None: nothing is downloaded. The weights are torchvision's seeded
default initialisation; each BatchNorm's running statistics are set to the
cumulative batch statistics of seeded random batches (train mode, momentum
None) before eval(), so the untrained nets' activations have sane ranges.
Each export is checked against ONNX Runtime on the evaluation inputs.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch

# PyPI's torchvision wheel is built for CUDA torch: its C extension (detection
# ops such as nms, which no classifier here uses) needs libtorch_cuda and does
# not load with the CPU torch, and torchvision's import then fails registering
# fake kernels for those ops. Skip that registration while importing.
_register_fake = torch.library.register_fake
torch.library.register_fake = lambda *a, **k: (lambda f: f)
import torchvision  # noqa: E402
torch.library.register_fake = _register_fake

NETS = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1",
        "shufflenet_v2_x1_0", "efficientnet_b0"]
OPSET = 13
SEED = 12


def bn_recalibrate(model, size, batches=4, batch=8):
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over all batches
    g = torch.Generator().manual_seed(SEED + 1)
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(batch, 3, size, size, generator=g))
    model.eval()


def inputs(seed, n, size):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, size, size, 3)).astype(np.float32)  # NHWC


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--calib", type=int, default=32)
    ap.add_argument("--eval", type=int, default=16)
    ap.add_argument("--nets", default=",".join(NETS))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    calib = inputs(1, a.calib, a.size)
    ev = inputs(2, a.eval, a.size)
    np.savez(os.path.join(a.out, "calib.npz"), x=calib)
    np.savez(os.path.join(a.out, "eval.npz"), x=ev, y=np.zeros(a.eval, dtype=np.int64))

    summary = {"torch": torch.__version__, "torchvision": torchvision.__version__,
               "onnx": onnx.__version__, "onnxruntime": ort.__version__,
               "opset": OPSET, "seed": SEED, "size": a.size, "nets": {}}
    for name in a.nets.split(","):
        torch.manual_seed(SEED)
        model = getattr(torchvision.models, name)(weights=None)
        bn_recalibrate(model, a.size)
        path = os.path.join(a.out, name + ".onnx")
        x = torch.zeros(1, 3, a.size, a.size)
        torch.onnx.export(model, (x,), path, opset_version=OPSET, dynamo=False,
                          input_names=["input"], output_names=["logits"],
                          do_constant_folding=True)
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})

        # The export against PyTorch, on the evaluation inputs (NHWC -> NCHW).
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        worst = 0.0
        with torch.no_grad():
            for s in ev:
                nchw = np.ascontiguousarray(s.transpose(2, 0, 1)[None])
                ref = model(torch.from_numpy(nchw)).numpy()
                got = sess.run(None, {"input": nchw})[0]
                worst = max(worst, float(np.abs(ref - got).max() / (np.abs(ref).max() + 1e-12)))
        summary["nets"][name] = {"ops": ops, "ort_vs_torch_max_rel": worst}
        print(f"{name}: {len(ops)} ONNX op types, ORT vs PyTorch max rel. diff {worst:.1e}", flush=True)

    with open(os.path.join(a.out, "export.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
