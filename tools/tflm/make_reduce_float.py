#!/usr/bin/env python3
"""A float TFLite model with SUM, TILE and REDUCE_MAX for the float-import
test of those ops (Tests/CNNToolsTests/ReduceONNXTests.swift), with
TFLite's own float output on one input (builtin kernels without delegates:
the reference resolver has no TILE). Run by hand from the repository root:

    build/venv-tflm/bin/python tools/tflm/make_reduce_float.py

Writes Tests/Golden/tflm/float/reduce_float.tflite, reduce_float.input.f32 and
reduce_float.output.f32 (float32 LE, NHWC).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import float_golden  # noqa: E402
from float_golden import np, tf  # noqa: E402

rng = np.random.default_rng(20261205)
w = (rng.standard_normal((3, 3, 3, 5)) * 0.5).astype(np.float32)
c = rng.uniform(-1, 1, size=(1, 3, 5, 10)).astype(np.float32)  # makes each tiled copy count


@tf.function(input_signature=[tf.TensorSpec([1, 6, 5, 3], tf.float32)])
def f(x):
    y = tf.nn.conv2d(x, w, 1, "SAME")                                 # [1,6,5,5]
    s = tf.reduce_sum(y, axis=[1], keepdims=True)                      # [1,1,5,5]
    t = tf.tile(s, [1, 3, 1, 2])                                       # [1,3,5,10]
    return tf.reduce_max(t * c, axis=[1, 3], keepdims=False)           # [1,5]


float_golden.write("reduce_float", f, rng.uniform(-1, 1, size=(1, 6, 5, 3)).astype(np.float32),
                   resolver="BUILTIN_WITHOUT_DEFAULT_DELEGATES")
