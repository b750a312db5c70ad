"""Zoo family, big tier: the Keras applications themselves (untrained,
seeded, BatchNormalization statistics from random inputs, full-int8 TFLite,
TFLM goldens). Not committed (tens of MB of models): generated on demand into
build/golden-slow and checked by `make zoo-test`:

    build/venv-tflm/bin/python tools/tflm/make_goldens.py --family slow_zoo

Input sizes are the smallest each architecture accepts that keeps every
layer's output non-empty (the weights do not depend on them). Executed by
make_goldens.py with G = that module.
"""
np = G.np  # noqa: F821
import keras  # noqa: E402
from keras import applications as A  # noqa: E402
from keras import layers as L  # noqa: E402

N_FEW = 4  # samples per net (TFLM's reference kernels are slow on big nets)


def calibrate_bn(model, shape, rng, batches=2):
    bns = [l for l in model._flatten_layers() if isinstance(l, L.BatchNormalization)]
    for l in bns:
        l.momentum = 0.0
    for _ in range(batches):
        x = rng.uniform(-1.0, 1.0, size=[4] + list(shape[1:])).astype(np.float32)
        model(x, training=True)
    return model


def app(name, shape, make):
    def build(rng):
        keras.utils.set_random_seed(int(rng.integers(0, 2**31 - 1)))
        model = make(tuple(shape[1:]))
        calibrate_bn(model, shape, rng)
        return lambda x: model(x, training=False)
    G.case(name, "MODEL", [(list(shape), (-1.0, 1.0))], build, samples=N_FEW)  # noqa: F821


K = dict(weights=None, classes=10)
app("keras_mobilenet_v1_025", (1, 96, 96, 3), lambda s: A.MobileNet(input_shape=s, alpha=0.25, **K))
app("keras_mobilenet_v2_035", (1, 96, 96, 3), lambda s: A.MobileNetV2(input_shape=s, alpha=0.35, **K))
app("keras_mobilenet_v3_small", (1, 96, 96, 3),
    lambda s: A.MobileNetV3Small(input_shape=s, include_preprocessing=False, **K))
app("keras_mobilenet_v3_small_minimalistic", (1, 96, 96, 3),
    lambda s: A.MobileNetV3Small(input_shape=s, minimalistic=True, include_preprocessing=False, **K))
app("keras_mobilenet_v3_large", (1, 96, 96, 3),
    lambda s: A.MobileNetV3Large(input_shape=s, include_preprocessing=False, **K))
app("keras_mobilenet_v3_large_minimalistic", (1, 96, 96, 3),
    lambda s: A.MobileNetV3Large(input_shape=s, minimalistic=True, include_preprocessing=False, **K))
app("keras_efficientnet_b0", (1, 64, 64, 3), lambda s: A.EfficientNetB0(input_shape=s, **K))
app("keras_resnet50", (1, 64, 64, 3), lambda s: A.ResNet50(input_shape=s, **K))
app("keras_densenet121", (1, 64, 64, 3), lambda s: A.DenseNet121(input_shape=s, **K))
app("keras_nasnet_mobile", (1, 64, 64, 3), lambda s: A.NASNetMobile(input_shape=s, **K))
app("keras_inception_v3", (1, 75, 75, 3), lambda s: A.InceptionV3(input_shape=s, **K))
