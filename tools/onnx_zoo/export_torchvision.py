#!/usr/bin/env python3
"""Export seeded torchvision classifiers to float ONNX for the ONNX half of
the network zoo (issue #12), plus seeded input sets. Two modes:

    build/venv-torch/bin/python tools/onnx_zoo/export_torchvision.py OUT_DIR [--size 224]
    build/venv-torch/bin/python tools/onnx_zoo/export_torchvision.py OUT_DIR --train mnist \
        [--size 64] [--steps 300] [--batch 32] [--lr 2e-3] [--seed 12] [--classes 1000]

Untrained mode (the default) is described first; --train mnist after it.

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

--train mnist: each net is built the same way (weights=None after
torch.manual_seed(12)) and then trained with Adam for --steps steps of --batch
images on MNIST, read at run time from ../shared/data/mnist (--data-dir): the
first 20,000 training images, 28x28 grey, resized bilinearly to --size,
normalised with MNIST's mean 0.1307 and std 0.3081 and replicated to 3
channels; the labels 0-9 index the nets' 1000-way heads unchanged (--classes
10 builds the nets with a 10-way head instead, torchvision's num_classes=10,
as a user training one of these nets for a 10-class task would). The
learning rate warms up linearly over the first 5% of the steps and then
follows a cosine to 0. After training, each BatchNorm's running statistics are
recomputed as the cumulative statistics of 16 seeded training batches (the rest
of the net in eval mode: no dropout, no stochastic depth). calib.npz holds
--calib training images (seeded selection, held out from training) and
eval.npz --eval test images (seeded selection) with their true labels in "y",
both in the same input units. Float accuracy is measured in PyTorch on
--acc-test test images (the first ones of a seeded permutation, which the
eval.npz images begin) and written to export.json with the training time.
Data order, initialisation and dropout are seeded (--seed, 12 by default;
the calibration and evaluation selections do not depend on it) and torch runs with
deterministic algorithms on a fixed number of threads (--threads), so a re-run
on the same machine and torch version gives the same weights. Nothing derived
from the data is written outside OUT_DIR.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

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


MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data"))


def read_idx(path):
    """An IDX file (optionally gzipped) as a numpy array."""
    raw = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(data_dir):
    d = os.path.join(data_dir, "mnist")
    xtr = np.load(os.path.join(d, "neuralnetvis_mnist_train_first20k_x.npz"))["arr_0"]
    ytr = np.load(os.path.join(d, "neuralnetvis_mnist_train_first20k_y.npz"))["arr_0"]
    xte = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))
    yte = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
    assert xtr.shape == (20000, 28, 28) and ytr.shape == (20000,), (xtr.shape, ytr.shape)
    assert xte.shape == (10000, 28, 28) and yte.shape == (10000,), (xte.shape, yte.shape)
    return xtr, ytr.astype(np.int64), xte, yte.astype(np.int64)


def mnist_batch(images, size):
    """uint8 [N, 28, 28] -> float NCHW [N, 3, size, size] in the nets' input units."""
    x = torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]
    if size != 28:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return ((x - MNIST_MEAN) / MNIST_STD).expand(-1, 3, -1, -1).contiguous()


def bn_recalibrate_data(model, batches):
    """Cumulative BatchNorm statistics over real batches; everything else in eval mode."""
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
            m.train()
    with torch.no_grad():
        for x in batches:
            model(x)
    model.eval()


def train(model, xtr, ytr, a, log):
    """Adam, linear warm-up then cosine decay, seeded data order and dropout."""
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    warm = max(1, a.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: (k + 1) / warm if k < warm else 0.5 * (1 + math.cos(math.pi * (k - warm) / max(1, a.steps - warm))))
    rng = np.random.default_rng(SEED + 100)  # the same image order for every net
    order = rng.permutation(len(xtr))
    pos = 0
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    running = None
    for step in range(a.steps):
        if pos + a.batch > len(order):
            order, pos = rng.permutation(len(xtr)), 0
        idx = order[pos:pos + a.batch]
        pos += a.batch
        x, y = mnist_batch(xtr[idx], a.size), torch.from_numpy(ytr[idx])
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running = loss.item() if running is None else 0.9 * running + 0.1 * loss.item()
        if (step + 1) % max(1, a.steps // 10) == 0 or step + 1 == a.steps:
            log(f"  step {step + 1}/{a.steps} loss {running:.3f}")
    return running


def float_accuracy(model, xte, yte, size, n, batch=64):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, n, batch):
            correct += int((model(mnist_batch(xte[i:min(n, i + batch)], size)).argmax(1)
                            == torch.from_numpy(yte[i:min(n, i + batch)])).sum())
    return correct / n


def main():
    global SEED  # --seed replaces the default for every seeded step
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--calib", type=int, default=32)
    ap.add_argument("--eval", type=int, default=16)
    ap.add_argument("--nets", default=",".join(NETS))
    ap.add_argument("--train", choices=["none", "mnist"], default="none",
                    help="none: untrained nets on N(0,1) inputs (default); mnist: train on MNIST first")
    ap.add_argument("--steps", type=int, default=300, help="training steps (--train)")
    ap.add_argument("--batch", type=int, default=32, help="training batch size (--train)")
    ap.add_argument("--lr", type=float, default=2e-3, help="Adam's peak learning rate (--train)")
    ap.add_argument("--acc-test", type=int, default=1000, help="test images for the float accuracy (--train)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (--train; fixed for determinism)")
    ap.add_argument("--data-dir", default=DEFAULT_DATA, help="the shared data folder (--train)")
    ap.add_argument("--seed", type=int, default=SEED,
                    help="seed of the weights' initialisation, data order and dropout (default 12)")
    ap.add_argument("--classes", type=int, default=1000,
                    help="output classes of the nets' heads (torchvision's num_classes; default 1000)")
    a = ap.parse_args()
    SEED = a.seed
    os.makedirs(a.out, exist_ok=True)
    trained = a.train != "none"

    if trained:
        torch.set_num_threads(a.threads)
        torch.use_deterministic_algorithms(True)
        xtr, ytr, xte, yte = load_mnist(a.data_dir)
        # Calibration: --calib training images held out from training. Evaluation:
        # a seeded permutation of the test set, whose first --acc-test images also
        # give the PyTorch float accuracy.
        perm_tr = np.random.default_rng(1).permutation(len(xtr))
        cal_idx, tr_idx = np.sort(perm_tr[:a.calib]), perm_tr[a.calib:]
        perm_te = np.random.default_rng(2).permutation(len(xte))
        xte, yte = xte[perm_te], yte[perm_te]
        calib = mnist_batch(xtr[cal_idx], a.size).numpy().transpose(0, 2, 3, 1).copy()  # NHWC
        ev = mnist_batch(xte[:a.eval], a.size).numpy().transpose(0, 2, 3, 1).copy()
        ev_y = yte[:a.eval].copy()
        xtr, ytr = xtr[tr_idx], ytr[tr_idx]
    else:
        calib = inputs(1, a.calib, a.size)
        ev = inputs(2, a.eval, a.size)
        ev_y = np.zeros(a.eval, dtype=np.int64)
    np.savez(os.path.join(a.out, "calib.npz"), x=calib)
    np.savez(os.path.join(a.out, "eval.npz"), x=ev, y=ev_y)

    summary = {"torch": torch.__version__, "torchvision": torchvision.__version__,
               "onnx": onnx.__version__, "onnxruntime": ort.__version__,
               "opset": OPSET, "seed": SEED, "classes": a.classes, "size": a.size, "train": a.train, "complete": False, "nets": {}}
    if trained:
        summary["training"] = {"data": "MNIST first 20k training images minus the calibration images",
                               "steps": a.steps, "batch": a.batch, "optimizer": "Adam", "lr": a.lr,
                               "schedule": "5% linear warm-up, cosine to 0", "threads": a.threads,
                               "calib": a.calib, "eval": a.eval, "acc_test": a.acc_test}
    for name in a.nets.split(","):
        t0 = time.time()
        torch.manual_seed(SEED)
        model = getattr(torchvision.models, name)(weights=None, num_classes=a.classes)
        info = {}
        if trained:
            print(f"{name}: training", flush=True)
            info["final_loss"] = train(model, xtr, ytr, a, lambda m: print(m, flush=True))
            g = np.random.default_rng(SEED + 1)
            bn_recalibrate_data(model, (mnist_batch(xtr[g.choice(len(xtr), a.batch, replace=False)], a.size)
                                        for _ in range(16)))
            info["train_seconds"] = round(time.time() - t0, 1)
            info["float_test_top1"] = float_accuracy(model, xte, yte, a.size, a.acc_test)
            print(f"{name}: trained in {info['train_seconds']} s, float test top-1 {info['float_test_top1']:.4f} "
                  f"on {a.acc_test} test images", flush=True)
        else:
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
            for s in ev[:16]:
                nchw = np.ascontiguousarray(s.transpose(2, 0, 1)[None])
                ref = model(torch.from_numpy(nchw)).numpy()
                got = sess.run(None, {"input": nchw})[0]
                worst = max(worst, float(np.abs(ref - got).max() / (np.abs(ref).max() + 1e-12)))
        summary["nets"][name] = {"ops": ops, "ort_vs_torch_max_rel": worst, **info}
        summary["nets"][name]["seconds"] = round(time.time() - t0, 1)
        print(f"{name}: {len(ops)} ONNX op types, ORT vs PyTorch max rel. diff {worst:.1e}", flush=True)
        with open(os.path.join(a.out, "export.json"), "w") as f:  # after every net: partial runs keep their results
            json.dump(summary, f, indent=1)

    summary["complete"] = True
    with open(os.path.join(a.out, "export.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
