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
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import float_golden  # noqa: E402
from float_golden import np, tf  # noqa: E402

rng = np.random.default_rng(20261204)
w = (rng.standard_normal((3, 3, 3, 5)) * 0.5).astype(np.float32)
b = (rng.standard_normal(5) * 0.2).astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([1, 5, 5, 3], tf.float32)])
def f(x):
    y = tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME") + b)
    c = tf.concat([y, x], axis=-1)                                    # [1,5,5,8]
    r = tf.raw_ops.ResizeBilinear(images=c, size=[7, 9], half_pixel_centers=True)
    return tf.raw_ops.ResizeNearestNeighbor(images=r, size=[14, 18], align_corners=True)


float_golden.write("join_float", f, rng.uniform(-1, 1, size=(1, 5, 5, 3)).astype(np.float32))
