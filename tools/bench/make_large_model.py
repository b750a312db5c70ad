#!/usr/bin/env python3
"""Build the benchmark's large-input model: a MobileNet-v1-like int8 TFLite
network on 224x224x3 with seeded random weights.

    make_large_model.py OUT.tflite [--seed N]

Layers (ReLU6 after every convolution, SAME padding):
    conv 3x3 s2, 3 -> 32                        112x112x32
    dw 3x3 s1 + pw 1x1 32 -> 64                 112x112x64
    dw 3x3 s2 + pw 1x1 64 -> 128                 56x56x128
    dw 3x3 s1 + pw 1x1 128 -> 128                56x56x128
    dw 3x3 s2 + pw 1x1 128 -> 256                28x28x256
    dw 3x3 s1 + pw 1x1 256 -> 256                28x28x256
    mean over H, W -> fully connected 256 -> 1000 -> softmax
about 0.22 GMAC, i.e. the first 11 layers of MobileNet v1 (1.0, 224).

Weights: He-normal from numpy's PCG64 with the given seed; biases small.
Quantization: TensorFlow's TFLiteConverter, full-integer post-training
quantization (representative dataset of seeded uniform [-1, 1] inputs,
TFLITE_BUILTINS_INT8, int8 input and output), per-channel weights: the
same path as tools/tflm/make_goldens.py. Runs in build/venv-tflm.
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

# (kind, stride, out_channels); kind "conv" is a full 3x3 convolution, "dwpw" a
# depthwise 3x3 followed by a pointwise 1x1.
LAYERS = [("conv", 2, 32), ("dwpw", 1, 64), ("dwpw", 2, 128), ("dwpw", 1, 128),
          ("dwpw", 2, 256), ("dwpw", 1, 256)]
CLASSES = 1000
INPUT = (1, 224, 224, 3)
N_REPRESENTATIVE = 16


def build(seed):
    rng = np.random.default_rng(seed)

    def he(shape, fan_in):
        return tf.constant(rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape).astype(np.float32))

    def bias(n):
        return tf.constant(rng.uniform(-0.1, 0.1, size=n).astype(np.float32))

    params = []
    c = INPUT[3]
    for kind, stride, cout in LAYERS:
        if kind == "conv":
            params.append(("conv", stride, he((3, 3, c, cout), 9 * c), bias(cout)))
        else:
            params.append(("dw", stride, he((3, 3, c, 1), 9), bias(c)))
            params.append(("conv", 1, he((1, 1, c, cout), c), bias(cout)))
        c = cout
    fc_w, fc_b = he((c, CLASSES), c), bias(CLASSES)

    def net(x):
        for kind, stride, w, b in params:
            if kind == "conv":
                x = tf.nn.conv2d(x, w, strides=stride, padding="SAME")
            else:
                x = tf.nn.depthwise_conv2d(x, w, strides=[1, stride, stride, 1], padding="SAME")
            x = tf.nn.relu6(tf.nn.bias_add(x, b))
        x = tf.reduce_mean(x, axis=[1, 2])
        return tf.nn.softmax(tf.matmul(x, fc_w) + fc_b)

    return net


def convert(seed):
    net = build(seed)
    fn = tf.function(net, input_signature=[tf.TensorSpec(INPUT, tf.float32, name="image")], autograph=False)
    cf = fn.get_concrete_function()
    rep = np.random.default_rng(seed + 1)

    def representative():
        yield [np.full(INPUT, -1.0, np.float32)]
        yield [np.full(INPUT, 1.0, np.float32)]
        for _ in range(N_REPRESENTATIVE):
            yield [rep.uniform(-1.0, 1.0, size=INPUT).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_concrete_functions([cf], fn)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=2024)
    a = ap.parse_args()
    model = convert(a.seed)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "wb") as f:
        f.write(model)
    print(f"{a.out}: {len(model)} bytes")


if __name__ == "__main__":
    main()
