#!/usr/bin/env python3
"""Build a full-integer int8 TFLite model of cnnrt's bundled MNIST CNN, so the
benchmark can run it on TFLite (XNNPACK) and TFLM as well.

    build/venv-mnist/bin/python tools/bench/make_mnist_tflite.py OUT.tflite \\
        [--calibration-count N] [--data-dir DIR]

Runs in build/venv-mnist (tools/mnist/setup-venv.sh): it needs onnx and
onnxruntime next to tensorflow, which build/venv-tflm does not have.

Steps:
  1. Rebuild the Keras (NHWC) model with tools/mnist/train_mnist.py's
     build_model and load its weights from the initializers of
     models/mnist_float.onnx, inverting train_mnist.export_onnx: conv OIHW ->
     HWIO, BN gamma/beta/mean/var, and the Gemm weights [10, 64*7*7] from
     ONNX's NCHW flatten order back to Keras' HWC order [7*7*64, 10].
  2. Check the Keras model against onnxruntime on the first 50 MNIST test
     images: max |difference| of the probabilities must be < 1e-4, else exit 1.
  3. Convert with TFLiteConverter.from_keras_model, full-integer post-training
     quantization (TFLITE_BUILTINS_INT8, int8 input and output, per-channel
     weights), input fixed to [1, 28, 28, 1] (an open batch would turn
     Flatten into SHAPE/STRIDED_SLICE/PACK/RESHAPE), representative dataset
     = the first N (default 500) images of the 20k MNIST training file, NHWC
     float32 pixel/255: the same path as tools/bench/make_large_model.py.
  4. Print the int8 model's ops and its top-1 accuracy on the 10k MNIST test
     images with the TFLite interpreter (ai_edge_litert if installed, else
     tf.lite); exit 1 without writing OUT below 98.5 % (the float model: 99.03 %).

Result (2026-11-25): ops CONV_2D, CONV_2D, MAX_POOL_2D, CONV_2D, MAX_POOL_2D,
RESHAPE, FULLY_CONNECTED, SOFTMAX; int8 top-1 98.94 %; `cnnrt import` takes it
(8 ops, arena 38,784 bytes).

Data (read at run time, nothing copied into the repo):
  $DATA/mnist/neuralnetvis_mnist_train_first20k_x.npz   calibration images
  $DATA/mnist/t10k-{images-idx3,labels-idx1}-ubyte.gz   test set
where DATA is --data-dir, else $CNNRT_SHARED_DATA, else ../shared/data next to
the repository (the convention of tools/mnist/quantize.sh).

Deterministic (fixed seeds, one thread, fixed calibration images); writes only
OUT.tflite.
"""
import argparse
import contextlib
import io
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "mnist"))
import train_mnist  # noqa: E402  (build_model, load_test, ort_predict)

ONNX_MODEL = os.path.join(ROOT, "models", "mnist_float.onnx")
CALIB_FILE = "neuralnetvis_mnist_train_first20k_x.npz"
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
N_CHECK = 50
MAX_DIFF = 1e-4
SEED = 1234


def mnist_dir(data_dir):
    root = data_dir or os.environ.get("CNNRT_SHARED_DATA") or os.path.join(ROOT, "..", "shared", "data")
    d = os.path.abspath(os.path.join(root, "mnist"))
    missing = [f for f in (CALIB_FILE,) + TEST_FILES if not os.path.isfile(os.path.join(d, f))]
    if missing:
        sys.exit(f"make_mnist_tflite: missing MNIST data in {d}: {', '.join(missing)} "
                 "(set --data-dir or CNNRT_SHARED_DATA to the shared data directory holding mnist/)")
    return d


def onnx_weights(path):
    """{initializer name: array} and {BN node name: epsilon} of the float ONNX model."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    ops = [n.op_type for n in m.graph.node]
    want = ["Conv", "BatchNormalization", "Relu"] * 2 + ["MaxPool"] + ["Conv", "BatchNormalization", "Relu"] + \
        ["MaxPool", "Dropout", "Flatten", "Gemm", "Softmax"]
    if ops != want:
        sys.exit(f"make_mnist_tflite: unexpected ONNX graph {ops}; expected {want}")
    w = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    eps = {n.name: next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5)
           for n in m.graph.node if n.op_type == "BatchNormalization"}
    return w, eps


def keras_from_onnx(keras, path):
    """train_mnist.build_model with the weights of the ONNX model (inverse of export_onnx)."""
    w, eps = onnx_weights(path)
    model = train_mnist.build_model(keras)
    g = model.get_layer
    for tag in ("conv1", "conv2", "conv3"):
        conv, btag = g(tag), tag.replace("conv", "bn")
        ws = [w[f"{tag}.weight"].transpose(2, 3, 1, 0)]  # ONNX OIHW -> Keras HWIO
        if conv.use_bias:
            ws.append(w[f"{tag}.bias"])
        conv.set_weights(ws)
        bn = g(btag)
        if abs(float(bn.epsilon) - eps[btag]) > 1e-9:
            sys.exit(f"make_mnist_tflite: {btag} epsilon {eps[btag]} (ONNX) != {bn.epsilon} (Keras)")
        bn.set_weights([w[f"{btag}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")])
    # ONNX Gemm weight [10, 64*7*7] in NCHW flatten order -> Keras [7*7*64 (HWC order), 10].
    kw = w["fc.weight"].reshape(10, 64, 7, 7).transpose(2, 3, 1, 0).reshape(7 * 7 * 64, 10)
    g("fc").set_weights([kw, w["fc.bias"]])
    return model


def convert(tf, keras, model, calib):
    # Batch fixed to 1 (build_model leaves it open): with an open batch, Flatten
    # converts to SHAPE + STRIDED_SLICE + PACK + RESHAPE instead of one RESHAPE.
    inp = keras.Input((28, 28, 1), batch_size=1, name="input")
    fixed = keras.Model(inp, model(inp), name=model.name)

    def representative():
        for i in range(len(calib)):
            yield [calib[i:i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(fixed)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    log = io.StringIO()  # Keras' SavedModel export prints its signature to stdout
    try:
        with contextlib.redirect_stdout(log):
            return conv.convert()
    except Exception:
        sys.stderr.write(log.getvalue())
        raise


def interpreter(model):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf
        Interpreter = tf.lite.Interpreter
    it = Interpreter(model_content=model, num_threads=1)
    it.allocate_tensors()
    return it


def tflite_eval(model, x_nhwc):
    """int8 outputs [N, 10] of the TFLite model on float inputs x_nhwc [N,28,28,1]; and its ops."""
    it = interpreter(model)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8, (inp["dtype"], out["dtype"])
    s, z = inp["quantization"]
    q = np.clip(np.round(x_nhwc / s) + z, -128, 127).astype(np.int8)
    res = np.empty((len(q), out["shape"][-1]), np.int8)
    for i in range(len(q)):
        it.set_tensor(inp["index"], q[i:i + 1])
        it.invoke()
        res[i] = it.get_tensor(out["index"])[0]
    ops = [d["op_name"] for d in it._get_ops_details() if d["op_name"] != "DELEGATE"]  # not XNNPACK's nodes
    return res, ops, inp, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output .tflite file")
    ap.add_argument("--calibration-count", type=int, default=500,
                    help="representative images: the first N of the 20k training images (default 500)")
    ap.add_argument("--data-dir", help="shared data directory holding mnist/ "
                    "(default $CNNRT_SHARED_DATA, else ../shared/data)")
    a = ap.parse_args()
    if not 1 <= a.calibration_count <= 20000:
        sys.exit("make_mnist_tflite: --calibration-count must be in 1..20000")
    t0 = time.time()
    d = mnist_dir(a.data_dir)
    train_mnist.DATA = d  # train_mnist.load_test reads from this directory

    import tensorflow as tf
    import keras
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(SEED)

    model = keras_from_onnx(keras, ONNX_MODEL)

    xte, yte = train_mnist.load_test()
    xte = (xte.astype(np.float32) / 255.0)[..., None]  # NHWC
    chk = xte[:N_CHECK]
    pk = model.predict(chk, batch_size=N_CHECK, verbose=0)
    po = train_mnist.ort_predict(ONNX_MODEL, np.ascontiguousarray(chk.transpose(0, 3, 1, 2)))
    diff = float(np.abs(pk - po).max())
    print(f"Keras (weights from {os.path.relpath(ONNX_MODEL, ROOT)}) vs onnxruntime, "
          f"{N_CHECK} test images: max |diff| {diff:.3g}")
    if not diff < MAX_DIFF:
        sys.exit(f"FAIL: Keras model differs from the ONNX model by {diff} (>= {MAX_DIFF}): weight mapping is wrong")

    xcal = np.load(os.path.join(d, CALIB_FILE))["arr_0"]
    assert xcal.dtype == np.uint8 and xcal.shape[1:] == (28, 28), (xcal.dtype, xcal.shape)
    calib = (xcal[:a.calibration_count].astype(np.float32) / 255.0)[..., None]
    tfl = convert(tf, keras, model, calib)

    q, ops, inp, out = tflite_eval(tfl, xte)
    acc = float((q.argmax(1) == yte).mean())
    pf = model.predict(xte, batch_size=500, verbose=0)
    float_acc = float((pf.argmax(1) == yte).mean())
    agree = float((q.argmax(1) == pf.argmax(1)).mean())
    if acc < 0.985:
        sys.exit(f"FAIL: int8 TFLite top-1 {acc:.4f} < 0.985")

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "wb") as f:
        f.write(tfl)
    print(f"calibration: first {len(calib)} images of {CALIB_FILE}")
    print(f"ops: {', '.join(ops)}")
    print(f"input  {inp['shape'].tolist()} int8, scale {inp['quantization'][0]:.6g}, zero point {inp['quantization'][1]}")
    print(f"output {out['shape'].tolist()} int8, scale {out['quantization'][0]:.6g}, zero point {out['quantization'][1]}")
    print(f"top-1 on {len(yte)} MNIST test images: int8 TFLite {acc * 100:.2f}%, Keras float {float_acc * 100:.2f}%; "
          f"argmax agreement {agree * 100:.2f}%")
    print(f"{a.out}: {len(tfl)} bytes ({time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main()
