#!/usr/bin/env python3
"""Train cnnrt's bundled MNIST CNN and export it as an NCHW float ONNX model.

Run by hand (not in CI), from the repository root:

    tools/mnist/setup-venv.sh
    build/venv-mnist/bin/python tools/mnist/train_mnist.py

Data is read at run time from ../shared/data/mnist (never copied into the repo):
  neuralnetvis_mnist_train_first20k_{x,y}.npz  first 20k MNIST training images/labels
  t10k-{images-idx3,labels-idx1}-ubyte.gz       the full 10k MNIST test set

Input convention: float32 [1,1,28,28], pixel/255 (white digit on black).
Output: float32 [1,10] softmax probabilities.

Architecture (Keras, NHWC while training):
  conv3x3(16, no bias)+BN+ReLU -> conv3x3(32)+BN+ReLU -> maxpool2
  -> conv3x3(64)+BN+ReLU -> maxpool2 -> dropout(0.3) -> flatten(7*7*64)
  -> dense(10) -> softmax

The ONNX graph is written by hand with onnx.helper from the trained weights, in
NCHW as a PyTorch user would deliver it: Conv and BatchNormalization are kept as
separate nodes (so the importer's BN folding is exercised), Relu, MaxPool,
Flatten (NCHW order: the dense weights are permuted from Keras' HWC order),
Dropout (inference: a no-op), Gemm(transB=1), Softmax.  The script checks the
ONNX model against Keras with onnxruntime (max abs diff < 1e-4), reports both
test accuracies and writes models/mnist_float.onnx + .json provenance.
"""
import argparse
import gzip
import json
import os
import platform
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.abspath(os.path.join(ROOT, "..", "shared", "data", "mnist"))


def load_train():
    import numpy as np
    x = np.load(os.path.join(DATA, "neuralnetvis_mnist_train_first20k_x.npz"))["arr_0"]
    y = np.load(os.path.join(DATA, "neuralnetvis_mnist_train_first20k_y.npz"))["arr_0"]
    assert x.shape == (20000, 28, 28) and x.dtype == np.uint8, x.shape
    assert y.shape == (20000,), y.shape
    return x, y.astype(np.int64)


def load_test():
    import numpy as np
    with gzip.open(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    assert int.from_bytes(raw[0:4], "big") == 2051
    n = int.from_bytes(raw[4:8], "big")
    x = np.frombuffer(raw, np.uint8, offset=16).reshape(n, 28, 28)
    with gzip.open(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz"), "rb") as f:
        raw = f.read()
    assert int.from_bytes(raw[0:4], "big") == 2049
    y = np.frombuffer(raw, np.uint8, offset=8).astype(np.int64)
    assert x.shape == (10000, 28, 28) and y.shape == (10000,)
    return x, y


def build_model(keras):
    L = keras.layers
    inp = keras.Input((28, 28, 1), name="input")
    x = L.Conv2D(16, 3, padding="same", use_bias=False, name="conv1")(inp)
    x = L.BatchNormalization(name="bn1")(x)
    x = L.ReLU(name="relu1")(x)
    x = L.Conv2D(32, 3, padding="same", name="conv2")(x)
    x = L.BatchNormalization(name="bn2")(x)
    x = L.ReLU(name="relu2")(x)
    x = L.MaxPooling2D(2, name="pool1")(x)
    x = L.Conv2D(64, 3, padding="same", name="conv3")(x)
    x = L.BatchNormalization(name="bn3")(x)
    x = L.ReLU(name="relu3")(x)
    x = L.MaxPooling2D(2, name="pool2")(x)
    x = L.Dropout(0.3, name="dropout")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(10, name="fc")(x)
    out = L.Softmax(name="softmax")(x)
    return keras.Model(inp, out, name="cnnrt_mnist")


def export_onnx(model, path):
    """Write the trained Keras model as an NCHW ONNX graph with onnx.helper."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, np.float32), name))
        return name

    def conv_bn_relu(x, conv, bn, tag):
        w = conv.get_weights()
        k = w[0].transpose(3, 2, 0, 1)  # Keras HWIO -> ONNX OIHW
        ins = [x, init(f"{tag}.weight", k)]
        if conv.use_bias:
            ins.append(init(f"{tag}.bias", w[1]))
        nodes.append(helper.make_node("Conv", ins, [f"{tag}_out"], name=tag,
                                      kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                      strides=[1, 1], dilations=[1, 1], group=1))
        gamma, beta, mean, var = bn.get_weights()
        btag = tag.replace("conv", "bn")
        nodes.append(helper.make_node(
            "BatchNormalization",
            [f"{tag}_out", init(f"{btag}.weight", gamma), init(f"{btag}.bias", beta),
             init(f"{btag}.running_mean", mean), init(f"{btag}.running_var", var)],
            [f"{btag}_out"], name=btag, epsilon=float(bn.epsilon), momentum=0.9))
        rtag = tag.replace("conv", "relu")
        nodes.append(helper.make_node("Relu", [f"{btag}_out"], [f"{rtag}_out"], name=rtag))
        return f"{rtag}_out"

    g = model.get_layer
    x = conv_bn_relu("input", g("conv1"), g("bn1"), "conv1")
    x = conv_bn_relu(x, g("conv2"), g("bn2"), "conv2")
    nodes.append(helper.make_node("MaxPool", [x], ["pool1_out"], name="pool1",
                                  kernel_shape=[2, 2], strides=[2, 2]))
    x = conv_bn_relu("pool1_out", g("conv3"), g("bn3"), "conv3")
    nodes.append(helper.make_node("MaxPool", [x], ["pool2_out"], name="pool2",
                                  kernel_shape=[2, 2], strides=[2, 2]))
    # Inference-mode Dropout (no training_mode input): passes its input through.
    nodes.append(helper.make_node("Dropout", ["pool2_out"], ["dropout_out"], name="dropout"))
    nodes.append(helper.make_node("Flatten", ["dropout_out"], ["flatten_out"], name="flatten", axis=1))
    kw, kb = g("fc").get_weights()  # kw: [7*7*64 (HWC order), 10]
    w_nchw = kw.reshape(7, 7, 64, 10).transpose(3, 2, 0, 1).reshape(10, 7 * 7 * 64)
    nodes.append(helper.make_node("Gemm", ["flatten_out", init("fc.weight", w_nchw), init("fc.bias", kb)],
                                  ["logits"], name="fc", alpha=1.0, beta=1.0, transB=1))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1))

    graph = helper.make_graph(
        nodes, "cnnrt_mnist",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 10])],
        initializer=inits)
    m = helper.make_model(graph, producer_name="cnnrt tools/mnist/train_mnist.py",
                          opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7  # IR 7 = ONNX 1.8, the first with opset 13: widest reader support
    m.doc_string = ("cnnrt bundled MNIST CNN. input: float32 [1,1,28,28] = pixel/255, "
                    "white digit on black (MNIST style). output: softmax over digits 0-9.")
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def ort_predict(path, x_nchw, optimize=True):
    """Run an ONNX model (batch 1 input) over x_nchw [N,1,28,28] with onnxruntime.

    optimize=False disables ORT's graph optimizations (no QDQ fusion into its
    int8 kernels: the graph runs op by op as ONNX defines it)."""
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    out = np.empty((len(x_nchw), 10), np.float32)
    for i in range(len(x_nchw)):
        out[i] = sess.run(None, {name: x_nchw[i:i + 1]})[0][0]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "mnist_float.onnx"))
    args = ap.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["PYTHONHASHSEED"] = str(args.seed)
    import numpy as np
    import tensorflow as tf
    import keras
    import onnx
    import onnxruntime

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(args.seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:
        pass

    xtr, ytr = load_train()
    xte, yte = load_test()
    xtr = (xtr.astype(np.float32) / 255.0)[..., None]
    xte = (xte.astype(np.float32) / 255.0)[..., None]

    # Augmentation outside the model, so the exported graph has no training-only layers.
    aug = keras.Sequential([
        keras.layers.RandomRotation(0.04, fill_mode="constant", seed=args.seed),           # +-14.4 deg
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=args.seed + 1),  # +-2.8 px
        keras.layers.RandomZoom(0.1, fill_mode="constant", seed=args.seed + 2),
    ], name="augment")
    ds = (tf.data.Dataset.from_tensor_slices((xtr, ytr))
          .shuffle(len(xtr), seed=args.seed, reshuffle_each_iteration=True)
          .batch(args.batch)
          .map(lambda x, y: (aug(x, training=True), y), num_parallel_calls=1)
          .prefetch(2))

    model = build_model(keras)
    steps = args.epochs * int(np.ceil(len(xtr) / args.batch))
    lr = keras.optimizers.schedules.CosineDecay(2e-3, steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary(print_fn=lambda s, **k: print(s))
    t0 = time.time()
    hist = model.fit(ds, epochs=args.epochs, verbose=2)
    train_s = time.time() - t0

    pk = model.predict(xte, batch_size=500, verbose=0)
    keras_acc = float((pk.argmax(1) == yte).mean())
    print(f"Keras float top-1 on 10k test: {keras_acc * 100:.2f}%  (train {train_s:.0f} s)")

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    export_onnx(model, args.out)
    xte_nchw = np.ascontiguousarray(xte.transpose(0, 3, 1, 2))
    po = ort_predict(args.out, xte_nchw)
    diff = float(np.abs(po - pk).max())
    onnx_acc = float((po.argmax(1) == yte).mean())
    agree = float((po.argmax(1) == pk.argmax(1)).mean())
    print(f"ONNX (onnxruntime) float top-1 on 10k test: {onnx_acc * 100:.2f}%")
    print(f"max |ONNX - Keras| over 10k x 10 probabilities: {diff:.3g}; argmax agreement {agree * 100:.2f}%")
    if diff >= 1e-4:
        sys.exit(f"FAIL: ONNX output differs from Keras by {diff} (>= 1e-4)")

    import hashlib
    with open(args.out, "rb") as f:
        blob = f.read()
    prov = {
        "file": os.path.relpath(args.out, ROOT),
        "bytes": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
        "made_by": "tools/mnist/train_mnist.py (trained here; weights are the project's own)",
        "command": " ".join(["build/venv-mnist/bin/python", "tools/mnist/train_mnist.py"] + sys.argv[1:]),
        "input": {"name": "input", "dtype": "float32", "shape": [1, 1, 28, 28], "layout": "NCHW",
                  "preprocess": "pixel/255, white digit on black, 20x20 digit centred by mass in 28x28 (MNIST)"},
        "output": {"name": "probabilities", "dtype": "float32", "shape": [1, 10], "meaning": "softmax over digits 0-9"},
        "onnx": {"opset": 13, "ir_version": 7,
                 "ops": [n.op_type for n in onnx.load(args.out).graph.node]},
        "architecture": "conv3x3(16,no bias)+BN+ReLU, conv3x3(32)+BN+ReLU, maxpool2, conv3x3(64)+BN+ReLU, "
                        "maxpool2, dropout(0.3), flatten(NCHW 64x7x7), dense(10), softmax",
        "parameters": int(model.count_params()),
        "training_data": "first 20000 MNIST training images (../shared/data/mnist/neuralnetvis_mnist_train_first20k_x.npz)",
        "test_data": "full 10000-image MNIST test set (../shared/data/mnist/t10k-*)",
        "augmentation": "RandomRotation(0.04) + RandomTranslation(0.1,0.1) + RandomZoom(0.1), constant fill",
        "optimizer": f"Adam, cosine decay 2e-3 -> 4e-5 over {args.epochs} epochs, batch {args.batch}",
        "seed": args.seed,
        "epochs": args.epochs,
        "threads": args.threads,
        "train_seconds": round(train_s, 1),
        "final_train_loss": round(float(hist.history["loss"][-1]), 5),
        "final_train_accuracy": round(float(hist.history["accuracy"][-1]), 5),
        "test_top1_keras_float": keras_acc,
        "test_top1_onnxruntime_float": onnx_acc,
        "max_abs_diff_onnx_vs_keras": diff,
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "note": "test-set accuracy is reported only; no model selection or early stopping on it",
    }
    with open(args.out + ".json", "w") as f:
        json.dump(prov, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out} ({len(blob)} bytes) and {args.out}.json")
    if onnx_acc < 0.99:
        sys.exit(f"FAIL: float top-1 {onnx_acc:.4f} < 0.99")


if __name__ == "__main__":
    main()
