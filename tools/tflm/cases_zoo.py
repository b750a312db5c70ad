"""Zoo family, small tier: small Keras networks built from the blocks of the
standard architectures (committed; `make test` runs them). Each is untrained,
seeded, with every BatchNormalization's statistics set from random inputs
(see `calibrate_bn`), converted to full-int8 TFLite and run through TFLM by
make_goldens.py like any case:

    build/venv-tflm/bin/python tools/tflm/make_goldens.py --family zoo

The big tier (the Keras applications themselves) is cases_slow_zoo.py.
Executed by make_goldens.py with G = that module.
"""
# `G` is set by make_goldens.py before this file runs.
tf = G.tf  # noqa: F821
np = G.np  # noqa: F821
import keras  # noqa: E402
from keras import layers as L  # noqa: E402


def calibrate_bn(model, shape, rng, batches=4):
    """Sets every BatchNormalization's moving statistics to the batch
    statistics of random inputs (momentum 0, one training-mode pass per
    batch): an untrained net keeps activations of order 1, so the int8
    scales are sane (TFLM's softmax prepare rejects the ~1e-8 scales an
    untrained net with unit BN statistics produces)."""
    bns = [l for l in model.layers if isinstance(l, L.BatchNormalization)]
    for l in bns:
        l.momentum = 0.0
    for _ in range(batches):
        x = rng.uniform(-1.0, 1.0, size=[8] + list(shape[1:])).astype(np.float32)
        model(x, training=True)
    return model


def keras_case(name, shape, make, rng_in=(-1.0, 1.0), ops=None):
    """A zoo case: make(inputs) -> outputs (Keras functional), seeded."""
    def build(rng):
        keras.utils.set_random_seed(int(rng.integers(0, 2**31 - 1)))
        inp = keras.Input(batch_shape=tuple(shape))
        model = keras.Model(inp, make(inp))
        calibrate_bn(model, shape, rng)
        return lambda x: model(x, training=False)
    G.case(name, "MODEL", [(list(shape), rng_in)], build, ops=ops)  # noqa: F821


def conv_bn(x, filters, k=3, s=1, act="relu", dw=False):
    if dw:
        x = L.DepthwiseConv2D(k, strides=s, padding="same", use_bias=False)(x)
    else:
        x = L.Conv2D(filters, k, strides=s, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    return L.Activation(act)(x) if act else x


def se(x, filters, squeeze, gate):
    s = L.GlobalAveragePooling2D(keepdims=True)(x)
    s = L.Conv2D(squeeze, 1, activation="relu")(s)
    s = L.Conv2D(filters, 1, activation=gate)(s)
    return L.Multiply()([x, s])


def classifier(x, classes=10):
    x = L.GlobalAveragePooling2D()(x)
    return L.Dense(classes, activation="softmax")(x)


# MobileNetV3 block: hard-swish stem, depthwise, squeeze-excite with a hard
# sigmoid gate, projection and residual.
def mnv3(x):
    x = conv_bn(x, 16, s=2, act="hard_swish")
    y = conv_bn(x, 48, k=1, act="hard_swish")
    y = conv_bn(y, 48, k=5, dw=True, act="hard_swish")
    y = se(y, 48, 12, "hard_sigmoid")
    y = conv_bn(y, 16, k=1, act=None)
    x = L.Add()([x, y])
    return classifier(conv_bn(x, 64, k=1, act="hard_swish"))


keras_case("zoo_mobilenetv3_block", (1, 32, 32, 3), mnv3)


# EfficientNet MBConv: swish (x * sigmoid(x)), squeeze-excite with a
# sigmoid gate.
def mbconv(x):
    x = conv_bn(x, 16, s=2, act="swish")
    y = conv_bn(x, 64, k=1, act="swish")
    y = conv_bn(y, 64, k=3, dw=True, act="swish")
    y = se(y, 64, 4, "sigmoid")
    y = conv_bn(y, 16, k=1, act=None)
    x = L.Add()([x, y])
    return classifier(conv_bn(x, 48, k=1, act="swish"))


keras_case("zoo_efficientnet_block", (1, 32, 32, 3), mbconv)


# SqueezeNet fire modules: squeeze 1x1, expand 1x1 and 3x3, concatenated.
def fire(x, squeeze, expand):
    s = L.Conv2D(squeeze, 1, activation="relu")(x)
    e1 = L.Conv2D(expand, 1, activation="relu")(s)
    e3 = L.Conv2D(expand, 3, padding="same", activation="relu")(s)
    return L.Concatenate()([e1, e3])


def squeezenet(x):
    x = L.Conv2D(24, 3, strides=2, activation="relu")(x)
    x = L.MaxPooling2D(3, 2)(x)
    x = fire(x, 8, 16)
    x = fire(x, 8, 16)
    x = L.MaxPooling2D(3, 2)(x)
    x = fire(x, 12, 24)
    x = L.Conv2D(10, 1, activation="relu")(x)
    x = L.GlobalAveragePooling2D()(x)
    return L.Activation("softmax")(x)


keras_case("zoo_squeezenet", (1, 40, 40, 3), squeezenet)


# DenseNet: pre-activation BN-ReLU-Conv (the BN before a conv does not fold:
# a per-channel MUL and ADD), dense concatenation, transition average pool.
def dense_layer(x, growth):
    y = L.BatchNormalization()(x)
    y = L.Activation("relu")(y)
    y = L.Conv2D(2 * growth, 1, use_bias=False)(y)
    y = L.BatchNormalization()(y)
    y = L.Activation("relu")(y)
    y = L.Conv2D(growth, 3, padding="same", use_bias=False)(y)
    return L.Concatenate()([x, y])


def densenet(x):
    x = L.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(x)
    for _ in range(3):
        x = dense_layer(x, 8)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Conv2D(20, 1, use_bias=False)(x)
    x = L.AveragePooling2D(2, 2)(x)
    for _ in range(2):
        x = dense_layer(x, 8)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    return classifier(x)


keras_case("zoo_densenet_blocks", (1, 32, 32, 3), densenet)


# U-Net: two levels, skip connections by concatenation, nearest resizing and
# a transposed convolution on the way up; per-pixel class logits out. (Keras
# 3's UpSampling2D(nearest) converts to TILE on a rank-5 tensor, which TFLM
# cannot run; Resizing(nearest) gives RESIZE_NEAREST_NEIGHBOR.)
def unet(x):
    c1 = conv_bn(x, 8)
    p1 = L.MaxPooling2D(2)(c1)
    c2 = conv_bn(p1, 16)
    p2 = L.MaxPooling2D(2)(c2)
    b = conv_bn(p2, 24)
    u2 = L.Resizing(12, 12, interpolation="nearest")(b)
    u2 = L.Concatenate()([u2, c2])
    d2 = conv_bn(u2, 16)
    u1 = L.Conv2DTranspose(8, 2, strides=2, padding="same")(d2)
    u1 = L.Concatenate()([u1, c1])
    d1 = conv_bn(u1, 8)
    return L.Conv2D(3, 1)(d1)


keras_case("zoo_unet_small", (1, 24, 24, 3), unet)


# 1-D convolutional audio net (keyword-spotting style): Conv1D layers on a
# [frames, features] input, global average over time.
def audio1d(x):
    x = L.Conv1D(16, 5, strides=2, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Conv1D(24, 3, padding="same", activation="relu")(x)
    x = L.MaxPooling1D(2)(x)
    x = L.Conv1D(32, 3, padding="same", activation="relu")(x)
    x = L.GlobalAveragePooling1D()(x)
    return L.Dense(8, activation="softmax")(x)


keras_case("zoo_conv1d_audio", (1, 49, 10), audio1d)


# Leaky ReLU and PReLU activations, pixel shuffle (depth to space) and a
# cropping (strided slice).
def activations_net(x):
    x = L.Conv2D(16, 3, padding="same")(x)
    x = L.LeakyReLU(negative_slope=0.1)(x)
    x = L.Conv2D(16, 3, strides=2, padding="same")(x)
    x = L.PReLU(shared_axes=[1, 2])(x)
    x = L.Conv2D(32, 3, padding="same")(x)
    x = L.Activation("tanh")(x)
    x = L.Lambda(lambda t: tf.nn.depth_to_space(t, 2))(x)
    x = L.Cropping2D(((1, 1), (2, 2)))(x)
    return classifier(L.Conv2D(16, 1, activation="relu")(x))


keras_case("zoo_activations_shuffle", (1, 20, 20, 3), activations_net)


# Bilinear upsampling (UpSampling2D bilinear: RESIZE_BILINEAR) in a small
# segmentation head.
def bilinear_head(x):
    x = conv_bn(x, 12, s=2)
    x = conv_bn(x, 16, s=2)
    x = L.UpSampling2D(4, interpolation="bilinear")(x)
    return L.Conv2D(4, 1)(x)


keras_case("zoo_bilinear_head", (1, 16, 16, 3), bilinear_head)
