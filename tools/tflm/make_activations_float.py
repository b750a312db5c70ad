"""Writes Tests/Golden/float/activations_float.tflite: a tiny float TFLite
model (x [1,4,4,5] -> LEAKY_RELU 0.2 -> HARD_SWISH -> PRELU per channel, and
RELU of the input, added, -> TANH) for the float TFLite import test of the
activation ops (Tests/CNNToolsTests/ActivationONNXTests.swift). Run with the
TFLM venv: /work/main/build/venv-tflm/bin/python tools/tflm/make_activations_float.py"""
import os
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Golden", "float",
                   "activations_float.tflite")
import numpy as np, tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
alpha = np.array([[[0.1, -0.2, 0.3, 0.25, 0.05]]], np.float32)
def f(x):
    a = tf.nn.relu(x)              # after the input: standalone RELU
    l = tf.nn.leaky_relu(x, alpha=0.2)
    h = l * tf.nn.relu6(l + 3.0) * (1.0 / 6.0)
    p = tf.nn.relu(h) + tf.nn.relu(-h) * (-alpha)
    t = tf.tanh(p + a)
    return t
spec = tf.TensorSpec([1, 4, 4, 5], tf.float32)
tff = tf.function(f, input_signature=[spec], autograph=False)
c = tf.lite.TFLiteConverter.from_concrete_functions([tff.get_concrete_function()], tff)
m = c.convert()
open(OUT, "wb").write(m)
