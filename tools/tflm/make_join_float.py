#!/usr/bin/env python3
"""A float TFLite model with CONCATENATION, RESIZE_BILINEAR and
RESIZE_NEAREST_NEIGHBOR for the float-import test of the "join" ops
(Tests/CNNToolsTests/JoinImportTests.swift), with TFLite's own float output (reference kernels)
on one input. Run by hand from the repository root:

    build/venv-tflm/bin/python tools/tflm/make_join_float.py

Writes Tests/Golden/tflm/float/join_float.tflite, join_float.input.f32 and
join_float.output.f32 (float32 LE, NHWC).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Golden", "tflm", "float")
rng = np.random.default_rng(20261204)
w = (rng.standard_normal((3, 3, 3, 5)) * 0.5).astype(np.float32)
b = (rng.standard_normal(5) * 0.2).astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([1, 5, 5, 3], tf.float32)])
def f(x):
    y = tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME") + b)
    c = tf.concat([y, x], axis=-1)                                    # [1,5,5,8]
    r = tf.raw_ops.ResizeBilinear(images=c, size=[7, 9], half_pixel_centers=True)
    return tf.raw_ops.ResizeNearestNeighbor(images=r, size=[14, 18], align_corners=True)


conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
model = conv.convert()
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "join_float.tflite"), "wb") as fh:
    fh.write(model)
it = tf.lite.Interpreter(model_content=model, num_threads=1,
                         experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
it.allocate_tensors()
x = rng.uniform(-1, 1, size=(1, 5, 5, 3)).astype(np.float32)
it.set_tensor(it.get_input_details()[0]["index"], x)
it.invoke()
y = it.get_tensor(it.get_output_details()[0]["index"])
x.tofile(os.path.join(OUT, "join_float.input.f32"))
y.astype(np.float32).tofile(os.path.join(OUT, "join_float.output.f32"))
ops = [o["op_name"] for o in it._get_ops_details()]
print(len(model), "bytes;", ops, y.shape)
