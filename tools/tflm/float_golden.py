"""Shared by the make_*_float.py scripts: converts a float tf.function to a
TFLite model, runs it on one input with TensorFlow Lite's own kernels and
writes Tests/Golden/tflm/float/<name>.tflite, <name>.input.f32 and
<name>.output.f32 (float32 LE, NHWC)."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Golden", "tflm", "float")


def write(name, f, x, resolver="BUILTIN_REF"):
    """`resolver`: the tf.lite OpResolverType giving the reference output."""
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    model = conv.convert()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, f"{name}.tflite"), "wb") as fh:
        fh.write(model)
    it = tf.lite.Interpreter(model_content=model, num_threads=1,
                             experimental_op_resolver_type=getattr(tf.lite.experimental.OpResolverType, resolver))
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    y = it.get_tensor(it.get_output_details()[0]["index"])
    x.tofile(os.path.join(OUT, f"{name}.input.f32"))
    y.astype(np.float32).tofile(os.path.join(OUT, f"{name}.output.f32"))
    ops = [o["op_name"] for o in it._get_ops_details()]
    print(len(model), "bytes;", ops, y.shape)
