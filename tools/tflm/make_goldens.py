#!/usr/bin/env python3
"""Generate the TFLM golden vectors under Tests/Golden/tflm/ (run by hand).

    bash tools/tflm/setup-venv.sh
    build/venv-tflm/bin/python tools/tflm/make_goldens.py

1. Builds tiny single-op int8 models with TensorFlow's TFLiteConverter
   (full-integer post-training quantization: representative dataset,
   int8 input and output, TFLITE_BUILTINS_INT8) and writes them to
   Tests/Golden/tflm/models/<name>.tflite.
2. Runs seeded int8 inputs through TFLM (tflite_micro.runtime.Interpreter:
   single-threaded, reference kernels) and writes raw int8 inputs/outputs.
3. Does the same for the MLPerf Tiny ResNet-8 and DS-CNN models read from
   ../shared/data/models (never copied), plus every intermediate tensor for
   the first few samples, and TFLM's arena figures.
4. Writes Tests/Golden/tflm/manifest.json (layout in Tests/Golden/tflm/README.md).

Everything random comes from numpy Generators seeded with (SEED, crc32(case
name), purpose), so a case's data does not depend on the order of cases.
As a side check (not a golden), each case is also run through TensorFlow
Lite's reference kernels (BUILTIN_REF) and the differing bytes are counted.
"""
import argparse
import datetime
import json
import os
import platform
import sys
import warnings
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflm_run  # noqa: E402
from tflm_run import schema  # noqa: E402  (TFLite flatbuffer schema shipped with tflite-micro)

SEED = 20251125
N_SAMPLES = 20            # per single-op case
N_MLPERF = 200            # per MLPerf model
N_MLPERF_INTERMEDIATE = 3  # samples with every intermediate tensor dumped
N_REPRESENTATIVE = 64     # calibration samples per single-op model

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "Tests", "Golden", "tflm")
SHARED_DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data"))

# Keep TensorFlow to one core: other people compile on this machine.
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)


def rng_for(name, purpose):
    return np.random.default_rng([SEED, zlib.crc32(name.encode()), purpose])


# ---------------------------------------------------------------------------
# Case definitions. A case: name, key op, float input specs (shape, range) and
# a builder(rng) -> python function of the float inputs (uses tf ops with
# numpy constants; the converter folds and quantizes them).
# ---------------------------------------------------------------------------
CASES = []


_FAMILY = "core"  # set while a cases_<family>.py file is loaded


def case(name, op, inputs, build, per_channel_dense=True, post=None, ops=None, samples=None, oracle="tflm"):
    """One single-op case. Its family (the manifest it goes to: "core" =
    manifest.json, else manifest-<family>.json) is the file defining it:
    this one, or cases_<family>.py next to it. `ops`, when given, is the
    exact op list the converter must emit (default: `op` must be among them).
    `oracle` "litert" is only for an op TFLM has no kernel for (TILE): the
    outputs then come from TensorFlow Lite's builtin kernels without
    delegates (BUILTIN_WITHOUT_DEFAULT_DELEGATES: its reference resolver
    lacks int8 TILE) and the entry says so ("oracle"; no TFLM arena figures)."""
    assert oracle in ("tflm", "litert"), oracle
    CASES.append({"name": name, "op": op, "inputs": inputs, "build": build,
                  "per_channel_dense": per_channel_dense, "post": post, "family": _FAMILY, "samples": samples or N_SAMPLES,
                  "expect_ops": ops, "oracle": oracle})


def requantize_output(scale_factor, zero_point):
    """Post-edit of a converted model: give the model output its own scale
    and zero point. This TF version ties MEAN's output quantization to its
    input; older converters (and TFLM) allow them to differ, which takes
    TFLM's requantizing MEAN path."""
    def post(model_bytes):
        import flatbuffers
        mt = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model_bytes, 0))
        g = mt.subgraphs[0]
        q = g.tensors[int(g.outputs[0])].quantization
        q.scale = np.array([float(q.scale[0]) * scale_factor], np.float32)
        q.zeroPoint = np.array([zero_point], np.int64)
        b = flatbuffers.Builder(len(model_bytes) + 1024)
        b.Finish(mt.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())
    return post


def _act(y, act):
    if act == "relu":
        return tf.nn.relu(y)
    if act == "relu6":
        return tf.nn.relu6(y)
    assert act is None
    return y


def _weights(rng, shape, fan_in, out_axis):
    """Gaussian weights with He scaling and a per-output-channel gain spread
    over 1/4..4, so per-channel scales (and multipliers) really differ."""
    w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
    gshape = [1] * len(shape)
    gshape[out_axis] = shape[out_axis]
    w = w * np.exp(rng.uniform(np.log(0.25), np.log(4.0), size=gshape))
    return w.astype(np.float32)


def conv(name, hwc, cout, k, s=1, pad="SAME", d=1, act=None, rng_in=(-1.0, 1.0)):
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s

    def build(rng):
        w = _weights(rng, (kh, kw, hwc[2], cout), kh * kw * hwc[2], 3)
        b = rng.normal(0.0, 0.5, size=cout).astype(np.float32)
        return lambda x: _act(tf.nn.conv2d(x, w, [1, sh, sw, 1], pad, dilations=[1, d, d, 1]) + b, act)
    case(name, "CONV_2D", [([1] + list(hwc), rng_in)], build)


def dwconv(name, hwc, mult, k, s=1, pad="SAME", d=1, act=None, rng_in=(-1.0, 1.0)):
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s

    def build(rng):
        w = _weights(rng, (kh, kw, hwc[2], mult), kh * kw, 2)
        b = rng.normal(0.0, 0.5, size=hwc[2] * mult).astype(np.float32)
        return lambda x: _act(tf.nn.depthwise_conv2d(x, w, [1, sh, sw, 1], pad, dilations=[d, d]) + b, act)
    case(name, "DEPTHWISE_CONV_2D", [([1] + list(hwc), rng_in)], build)


def fc(name, in_shape, units, bias=True, act=None, per_channel=False, rng_in=(-1.0, 1.0)):
    def build(rng):
        n_in = int(np.prod(in_shape[1:]))
        w = _weights(rng, (n_in, units), n_in, 1)
        b = rng.normal(0.0, 0.5, size=units).astype(np.float32)

        def f(x):
            if len(in_shape) > 2:
                x = tf.reshape(x, [in_shape[0], n_in])
            y = tf.matmul(x, w)
            return _act(y + b if bias else y, act)
        return f
    case(name, "FULLY_CONNECTED", [(list(in_shape), rng_in)], build, per_channel_dense=per_channel)


def pool(name, kind, hwc, k, s, pad, rng_in=(-1.0, 1.0)):
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s
    fn = tf.nn.avg_pool2d if kind == "avg" else tf.nn.max_pool2d
    op = "AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D"
    case(name, op, [([1] + list(hwc), rng_in)],
         lambda rng: (lambda x: fn(x, [kh, kw], [sh, sw], pad)))


def mean(name, hwc, keepdims, rng_in=(-1.0, 1.0), post=None):
    case(name, "MEAN", [([1] + list(hwc), rng_in)],
         lambda rng: (lambda x: tf.reduce_mean(x, axis=[1, 2], keepdims=keepdims)), post=post)


def add2(name, shape_a, shape_b, rng_a, rng_b, act=None):
    case(name, "ADD", [(list(shape_a), rng_a), (list(shape_b), rng_b)],
         lambda rng: (lambda a, b: _act(a + b, act)))


def add_branches(name, hwc, cout, act=None, rng_in=(-1.0, 1.0)):
    """x -> conv1x1 (small weights) and conv3x3 (large weights) -> ADD: two
    int8 operands with different scales and zero points."""
    def build(rng):
        w1 = _weights(rng, (1, 1, hwc[2], cout), hwc[2], 3) * 0.3
        w2 = _weights(rng, (3, 3, hwc[2], cout), 9 * hwc[2], 3) * 2.0
        b1 = rng.normal(0.0, 0.2, size=cout).astype(np.float32)
        b2 = rng.normal(0.5, 0.5, size=cout).astype(np.float32)
        return lambda x: _act(tf.nn.conv2d(x, w1, 1, "SAME") + b1 + (tf.nn.conv2d(x, w2, 1, "SAME") + b2), act)
    case(name, "ADD", [([1] + list(hwc), rng_in)], build)


def unary(name, op, shape, fn, rng_in):
    case(name, op, [(list(shape), rng_in)], lambda rng: fn)


# --- CONV_2D ---------------------------------------------------------------
conv("conv_3x3_s1_same_c3_o5", (8, 8, 3), 5, 3)
conv("conv_3x3_s2_same_c5_o7_relu", (9, 9, 5), 7, 3, s=2, act="relu")
conv("conv_3x3_s1_valid_c7_o13_relu6", (7, 9, 7), 13, 3, pad="VALID", act="relu6")
conv("conv_3x3_s2_valid_c13_o5", (11, 11, 13), 5, 3, s=2, pad="VALID")
conv("conv_3x3_s2_same_c3_o8_even", (8, 8, 3), 8, 3, s=2)
conv("conv_1x1_s1_c13_o7", (5, 5, 13), 7, 1)
conv("conv_1x1_s2_c5_o3_relu", (9, 9, 5), 3, 1, s=2, act="relu")
conv("conv_1x1_s1_c3_o1", (6, 6, 3), 1, 1)
conv("conv_5x5_s1_same_c3_o13_relu", (9, 9, 3), 13, 5, act="relu")
conv("conv_5x5_s2_valid_c5_o7", (13, 13, 5), 7, 5, s=2, pad="VALID")
conv("conv_5x5_s2_same_c3_o5_relu6", (11, 11, 3), 5, 5, s=2, act="relu6")
conv("conv_1x3_s1_same_c5_o7", (7, 7, 5), 7, (1, 3))
conv("conv_3x1_s1_valid_c7_o5_relu", (7, 7, 7), 5, (3, 1), pad="VALID", act="relu")
conv("conv_1x5_s2_same_c3_o7", (9, 9, 3), 7, (1, 5), s=2)
conv("conv_3x3_d2_s1_same_c5_o7", (11, 11, 5), 7, 3, d=2)
conv("conv_3x3_d2_s1_valid_c3_o5_relu", (11, 11, 3), 5, 3, pad="VALID", d=2, act="relu")
conv("conv_3x3_s2x1_same_c3_o5", (9, 7, 3), 5, 3, s=(2, 1))
conv("conv_10x4_s2_same_c1_o8_relu", (49, 10, 1), 8, (10, 4), s=2, act="relu")  # DS-CNN stem
conv("conv_3x3_s1_same_c16_o16_relu", (6, 6, 16), 16, 3, act="relu")
conv("conv_3x3_s1_same_c5_o7_zpmin", (7, 7, 5), 7, 3, rng_in=(0.0, 6.0))        # input zp = -128
conv("conv_3x3_s1_same_c5_o7_zpmax", (7, 7, 5), 7, 3, rng_in=(-6.0, 0.0))       # input zp = 127
conv("conv_3x3_s2_same_c3_o5_zpnearmin", (9, 9, 3), 5, 3, s=2, rng_in=(-0.1, 8.0))
conv("conv_3x3_s1_valid_c3_o5_wide_range", (7, 7, 3), 5, 3, pad="VALID", rng_in=(-50.0, 30.0))

# --- DEPTHWISE_CONV_2D -----------------------------------------------------
dwconv("dw_3x3_s1_same_c5_m1_relu", (8, 8, 5), 1, 3, act="relu")
dwconv("dw_3x3_s2_same_c7_m1", (9, 9, 7), 1, 3, s=2)
dwconv("dw_3x3_s1_valid_c3_m2", (7, 7, 3), 2, 3, pad="VALID")
dwconv("dw_5x5_s1_same_c3_m3_relu6", (9, 9, 3), 3, 5, act="relu6")
dwconv("dw_3x3_d2_s1_same_c5_m1", (11, 11, 5), 1, 3, d=2)
dwconv("dw_3x3_s2_valid_c13_m1_relu", (11, 11, 13), 1, 3, s=2, pad="VALID", act="relu")
dwconv("dw_3x3_s2_same_c5_m2", (9, 9, 5), 2, 3, s=2)
dwconv("dw_3x3_s1_same_c1_m3", (7, 7, 1), 3, 3)
dwconv("dw_1x3_s1_same_c7_m1", (5, 7, 7), 1, (1, 3))
dwconv("dw_3x3_s1_same_c24_m1_relu", (7, 5, 24), 1, 3, act="relu")
dwconv("dw_3x3_s1_same_c7_m1_zpmin", (7, 7, 7), 1, 3, rng_in=(0.0, 6.0))
dwconv("dw_3x3_s1_same_c5_m2_zpmax", (7, 7, 5), 2, 3, rng_in=(-6.0, 0.0))

# --- FULLY_CONNECTED (per-tensor weights unless named _pc) -----------------
fc("fc_13_o7", (1, 13), 7)
fc("fc_13_o7_nobias", (1, 13), 7, bias=False)
fc("fc_64_o10_relu", (1, 64), 10, act="relu")
fc("fc_b3_20_o5", (3, 20), 5)
fc("fc_flatten_3x3x5_o7", (1, 3, 3, 5), 7)
fc("fc_13_o7_zpmax", (1, 13), 7, rng_in=(-6.0, 0.0))
fc("fc_13_o7_pc", (1, 13), 7, per_channel=True)
fc("fc_64_o10_nobias_pc", (1, 64), 10, bias=False, per_channel=True)

# --- AVERAGE_POOL_2D / MAX_POOL_2D -----------------------------------------
pool("avgpool_3x3_s2_same_c5", "avg", (9, 9, 5), 3, 2, "SAME")
pool("avgpool_2x2_s2_valid_c3", "avg", (8, 8, 3), 2, 2, "VALID")
pool("avgpool_3x3_s1_same_c13", "avg", (7, 7, 13), 3, 1, "SAME")
pool("avgpool_3x3_s1_same_c3_5x5", "avg", (5, 5, 3), 3, 1, "SAME")
pool("avgpool_2x3_s2x1_same_c7", "avg", (7, 6, 7), (2, 3), (2, 1), "SAME")
pool("avgpool_8x8_valid_c7_global", "avg", (8, 8, 7), 8, 8, "VALID")
pool("avgpool_3x3_s2_same_c5_zpmin", "avg", (9, 9, 5), 3, 2, "SAME", rng_in=(0.0, 6.0))
pool("maxpool_2x2_s2_valid_c3", "max", (8, 8, 3), 2, 2, "VALID")
pool("maxpool_3x3_s2_same_c5", "max", (9, 9, 5), 3, 2, "SAME")
pool("maxpool_3x3_s1_same_c13", "max", (7, 7, 13), 3, 1, "SAME")
pool("maxpool_2x2_s2_same_c7_odd", "max", (7, 7, 7), 2, 2, "SAME")
pool("maxpool_3x3_s2_valid_c3_zpmax", "max", (9, 9, 3), 3, 2, "VALID", rng_in=(-6.0, 0.0))

# --- MEAN over H, W --------------------------------------------------------
mean("mean_hw_keepdims_5x5_c7", (5, 5, 7), True)
mean("mean_hw_nokeep_4x4_c13", (4, 4, 13), False)
mean("mean_hw_keepdims_7x3_c5", (7, 3, 5), True)
mean("mean_hw_nokeep_6x6_c3_zpmin", (6, 6, 3), False, rng_in=(0.0, 6.0))
mean("mean_hw_keepdims_5x5_c7_requant", (5, 5, 7), True, post=requantize_output(0.55, 9))
mean("mean_hw_nokeep_4x4_c13_requant", (4, 4, 13), False, post=requantize_output(2.5, -20))
mean("mean_hw_nokeep_3x5_c5_zpmax_requant", (3, 5, 5), False, rng_in=(-6.0, 0.0), post=requantize_output(3.0, 40))

# --- ADD -------------------------------------------------------------------
add2("add_inputs_r1_r6", (1, 5, 5, 7), (1, 5, 5, 7), (-1.0, 1.0), (-6.0, 6.0))
add2("add_inputs_r2_r05_relu", (1, 4, 6, 5), (1, 4, 6, 5), (-2.0, 2.0), (-0.5, 0.5), act="relu")
add2("add_inputs_zpmin_zpmax", (1, 5, 5, 3), (1, 5, 5, 3), (0.0, 4.0), (-3.0, 0.0))
add2("add_inputs_asym_r30", (1, 3, 3, 13), (1, 3, 3, 13), (-1.0, 30.0), (-0.2, 0.05))
add2("add_broadcast_c5", (1, 4, 4, 5), (1, 1, 1, 5), (-1.0, 1.0), (-3.0, 2.0))
add_branches("add_branches_conv_c5_o7", (7, 7, 5), 7)
add_branches("add_branches_conv_c3_o13_relu", (6, 6, 3), 13, act="relu")

# --- SOFTMAX: logit range (input scale) varied ------------------------------
for r in (0.25, 1, 4, 8, 16, 64, 256):
    unary(f"softmax_10_r{r}".replace(".", "p"), "SOFTMAX", (1, 10), tf.nn.softmax, (-float(r), float(r)))
unary("softmax_4x12_r8_asym", "SOFTMAX", (1, 4, 12), tf.nn.softmax, (-12.0, 4.0))
unary("softmax_3_r2", "SOFTMAX", (1, 3), tf.nn.softmax, (-2.0, 2.0))

# --- LOGISTIC --------------------------------------------------------------
for r in (1, 8, 40):
    unary(f"logistic_r{r}", "LOGISTIC", (1, 4, 4, 5), tf.sigmoid, (-float(r), float(r)))
unary("logistic_asym", "LOGISTIC", (1, 37), tf.sigmoid, (-2.0, 10.0))

# --- PAD -------------------------------------------------------------------
unary("pad_hw_5x5_c3", "PAD", (1, 5, 5, 3),
      lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]), (-1.0, 1.0))
unary("pad_c_4x4_c5", "PAD", (1, 4, 4, 5),
      lambda x: tf.pad(x, [[0, 0], [0, 0], [0, 0], [1, 2]]), (-1.0, 3.0))
unary("pad_hw_3x7_c7_zpmin", "PAD", (1, 3, 7, 7),
      lambda x: tf.pad(x, [[0, 0], [2, 0], [0, 3], [0, 0]]), (0.0, 6.0))

# --- RESHAPE ---------------------------------------------------------------
unary("reshape_4x4x5_to_80", "RESHAPE", (1, 4, 4, 5), lambda x: tf.reshape(x, [1, 80]), (-1.0, 1.0))
unary("reshape_60_to_3x4x5", "RESHAPE", (1, 60), lambda x: tf.reshape(x, [1, 3, 4, 5]), (-2.0, 1.0))


# --- further families: tools/tflm/cases_<family>.py, each calling case(...,
# family="<family>") through the helpers above ---------------------------------
def _load_families():
    import glob
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "cases_*.py"))):
        spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
        mod = importlib.util.module_from_spec(spec)
        me = sys.modules[__name__]
        mod.G = me  # the helpers: G.case, G.unary, G._weights, G.tf, G.np, ...
        me._FAMILY = os.path.basename(path)[len("cases_"):-3]
        spec.loader.exec_module(mod)
        me._FAMILY = "core"


_load_families()


# ---------------------------------------------------------------------------
# Conversion and running
# ---------------------------------------------------------------------------
def convert(c):
    rng = rng_for(c["name"], 0)
    fn = c["build"](rng)
    specs = [tf.TensorSpec(shape, tf.float32, name=f"in{i}") for i, (shape, _) in enumerate(c["inputs"])]
    tff = tf.function(fn, input_signature=specs, autograph=False)
    cf = tff.get_concrete_function()
    rep_rng = rng_for(c["name"], 1)

    def representative():
        # exact range ends first, then uniform samples
        yield [np.full(s, lo, np.float32) for s, (lo, hi) in c["inputs"]]
        yield [np.full(s, hi, np.float32) for s, (lo, hi) in c["inputs"]]
        for _ in range(N_REPRESENTATIVE):
            yield [rep_rng.uniform(lo, hi, size=s).astype(np.float32) for s, (lo, hi) in c["inputs"]]

    conv_ = tf.lite.TFLiteConverter.from_concrete_functions([cf], tff)
    conv_.optimizations = [tf.lite.Optimize.DEFAULT]
    conv_.representative_dataset = representative
    conv_.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv_.inference_input_type = tf.int8
    conv_.inference_output_type = tf.int8
    if not c["per_channel_dense"]:
        conv_._experimental_disable_per_channel_quantization_for_dense_layers = True
    model = conv_.convert()
    return c["post"](model) if c["post"] else model


def make_inputs(name, info, count, special=True):
    """count samples; each = every model input as int8. With special=True the
    first three samples are all -128, all 127 and all equal to the input zero
    point; the rest are uniform over the full int8 range."""
    rng = rng_for(name, 2)
    samples = []
    for k in range(count):
        arrs = []
        for ti in info["inputs"]:
            t = info["tensors"][ti]
            assert t["dtype"] == "INT8", (name, t)
            if special and k == 0:
                a = np.full(t["shape"], -128, np.int8)
            elif special and k == 1:
                a = np.full(t["shape"], 127, np.int8)
            elif special and k == 2:
                a = np.full(t["shape"], t["zero_points"][0], np.int8)
            else:
                a = rng.integers(-128, 128, size=t["shape"], dtype=np.int16).astype(np.int8)
            arrs.append(a)
        samples.append(arrs)
    return samples


def _litert(model_bytes, resolver):
    it = tf.lite.Interpreter(model_content=model_bytes, num_threads=1,
                             experimental_op_resolver_type=getattr(tf.lite.experimental.OpResolverType, resolver))
    it.allocate_tensors()
    return it


def run_litert(model_bytes, samples):
    """Every sample through TFLite's builtin kernels, no delegates: the
    per-sample output lists run_tflm gives, for an op TFLM lacks."""
    it = _litert(model_bytes, "BUILTIN_WITHOUT_DEFAULT_DELEGATES")
    ins, outs = it.get_input_details(), it.get_output_details()
    outputs = []
    for arrs in samples:
        for d, a in zip(ins, arrs):
            it.set_tensor(d["index"], a)
        it.invoke()
        outputs.append([np.array(it.get_tensor(d["index"]), copy=True) for d in outs])
    return outputs


def litert_ref_diff(model_bytes, samples, outputs):
    """Bytes where TFLite's reference kernels (BUILTIN_REF) differ from TFLM."""
    try:
        it = _litert(model_bytes, "BUILTIN_REF")
    except (ValueError, RuntimeError):
        return None, None  # an op (version) the reference resolver lacks (DEPTH_TO_SPACE v2): no side check
    ins, outs = it.get_input_details(), it.get_output_details()
    n = mx = 0
    for arrs, want in zip(samples, outputs):
        for d, a in zip(ins, arrs):
            it.set_tensor(d["index"], a)
        it.invoke()
        for d, w in zip(outs, want):
            got = it.get_tensor(d["index"]).astype(np.int32)
            diff = np.abs(got - w.astype(np.int32))
            n += int(np.count_nonzero(diff))
            mx = max(mx, int(diff.max()))
    return n, mx


def write_bin(path, arrays):
    with open(path, "wb") as f:
        for a in arrays:
            f.write(np.ascontiguousarray(a).tobytes())


def record(name, model_bytes, samples, inter_for, entry_model, oracle="tflm"):
    info = tflm_run.model_info(model_bytes)
    if oracle == "litert":
        r = {"outputs": run_litert(model_bytes, samples), "intermediates": {},
             "arena": {"total": None, "head": None, "tail": None}}
    else:
        r = tflm_run.run_tflm(model_bytes, samples, inter_for)
    # One sample's outputs: every model output, in the model's order
    # (several for split / unpack cases; "output_shapes" lists them).
    write_bin(os.path.join(OUT, f"{name}.inputs.bin"), [a for arrs in samples for a in arrs])
    write_bin(os.path.join(OUT, f"{name}.outputs.bin"), [a for outs in r["outputs"] for a in outs])
    inter = []
    for (k, ti), arr in sorted(r["intermediates"].items()):
        t = info["tensors"][ti]
        fn = f"{name}.t{ti}.s{k}.bin"
        write_bin(os.path.join(OUT, fn), [arr])
        inter.append({"sample": k, "tensor": ti, "name": t["name"], "file": fn, "shape": t["shape"],
                      "dtype": t["dtype"], "op": next(op["op"] for op in info["operators"] if ti in op["outputs"])})
    ndiff, maxdiff = (None, None) if oracle != "tflm" else litert_ref_diff(model_bytes, samples, r["outputs"])
    out_t = info["tensors"][info["outputs"][0]]
    entry = dict(entry_model)
    if oracle != "tflm":
        entry["oracle"] = oracle
    entry.update({
        "inputs": f"{name}.inputs.bin",
        "outputs": f"{name}.outputs.bin",
        "count": len(samples),
        "input_shapes": [info["tensors"][i]["shape"] for i in info["inputs"]],
        "output_shape": out_t["shape"],
        "output_shapes": [info["tensors"][i]["shape"] for i in info["outputs"]],
        "input_count": len(info["inputs"]),
        "intermediates": inter,
        "arena_used_bytes": r["arena"]["total"],
        "arena_head_bytes": r["arena"]["head"],
        "arena_tail_bytes": r["arena"]["tail"],
        "ops": [op["op"] for op in info["operators"]],
        "input_quant": [[info["tensors"][i]["scales"][0], info["tensors"][i]["zero_points"][0]] for i in info["inputs"]],
        "output_quant": [out_t["scales"][0], out_t["zero_points"][0]],
        "litert_ref_diff_bytes": ndiff,
        "litert_ref_max_abs_diff": maxdiff,
    })
    return entry, r


def manifest_path(family):
    return os.path.join(OUT, "manifest.json" if family == "core" else f"manifest-{family}.json")


def remove_family_files(family):
    """Deletes the files the family's current manifest lists (and the
    manifest): a regenerated family leaves no stale files and other families'
    files alone."""
    path = manifest_path(family)
    if not os.path.exists(path):
        return
    with open(path) as f:
        old = json.load(f)
    for c in old["cases"]:
        files = [c["inputs"], c["outputs"]] + [i["file"] for i in c.get("intermediates", [])]
        if c.get("model"):
            files.append(c["model"])
        for fn in files:
            fp = os.path.join(OUT, fn)
            if os.path.exists(fp):
                os.remove(fp)
    os.remove(path)


def main():
    ap = argparse.ArgumentParser(description="Generate Tests/Golden/tflm (TFLM golden vectors).")
    ap.add_argument("--only", nargs="*", help="debug: run only these cases (no manifest is written)")
    ap.add_argument("--family", action="append",
                    help="regenerate only this family (core = manifest.json and the MLPerf models; "
                         "others = manifest-<family>.json from cases_<family>.py); repeatable")
    ap.add_argument("--out", help="output folder (default Tests/Golden/tflm; build/golden-slow when only "
                                  "slow_* families are asked for)")
    a = ap.parse_args()

    global OUT
    all_families = sorted({c["family"] for c in CASES})
    # slow_* families (big networks, not committed) only when asked for by name.
    families = a.family or [f for f in all_families if not f.startswith("slow_")]
    if a.out:
        OUT = os.path.abspath(a.out)
    elif all(f.startswith("slow_") for f in families):
        OUT = os.path.join(REPO, "build", "golden-slow")
    for fam in families:
        if fam not in all_families:
            raise SystemExit(f"unknown family {fam!r} (have {', '.join(all_families)})")
    os.makedirs(os.path.join(OUT, "models"), exist_ok=True)
    if not a.only:
        for fam in families:
            remove_family_files(fam)
    cases_out = {fam: [] for fam in families}
    names = set()
    for c in CASES:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        if c["family"] not in families or (a.only and c["name"] not in a.only):
            continue
        model = convert(c)
        info = tflm_run.model_info(model)
        ops = [op["op"] for op in info["operators"]]
        if c["expect_ops"] is not None and ops != c["expect_ops"]:
            raise RuntimeError(f"{c['name']}: converter emitted {ops}, expected exactly {c['expect_ops']}")
        if c["op"] != "MODEL" and c["op"] not in ops:
            raise RuntimeError(f"{c['name']}: converter emitted {ops}, expected {c['op']}")
        rel = f"models/{c['name']}.tflite"
        with open(os.path.join(OUT, rel), "wb") as f:
            f.write(model)
        samples = make_inputs(c["name"], info, c["samples"])
        entry, _ = record(c["name"], model, samples, (), {"name": c["name"], "model": rel, "op": c["op"]}, c["oracle"])
        cases_out[c["family"]].append(entry)
        if c["oracle"] != "tflm":
            print(f"{c['name']:40s} {'+'.join(ops):40s} {len(model):6d} B  oracle {c['oracle']} (no TFLM kernel)",
                  flush=True)
            continue
        print(f"{c['name']:40s} {'+'.join(ops):40s} {len(model):6d} B  arena {entry['arena_used_bytes']:6d}"
              f"  litert-ref diff {entry['litert_ref_diff_bytes']} (max {entry['litert_ref_max_abs_diff']})", flush=True)

    for name, rel in (("mlperf_tiny_ic_resnet8", "models/mlperf_tiny_ic_resnet8_int8.tflite"),
                      ("mlperf_tiny_kws_dscnn", "models/mlperf_tiny_kws_dscnn_int8.tflite")):
        if "core" not in families or (a.only and name not in a.only):
            continue
        with open(os.path.join(SHARED_DATA, rel), "rb") as f:
            model = f.read()
        info = tflm_run.model_info(model)
        samples = make_inputs(name, info, N_MLPERF, special=False)
        entry, r = record(name, model, samples, tuple(range(N_MLPERF_INTERMEDIATE)),
                          {"name": name, "shared_model": rel, "op": "MODEL"})
        cases_out["core"].append(entry)
        print(f"{name:40s} {len(entry['ops'])} ops  arena total {r['arena']['total']} head {r['arena']['head']}"
              f" tail {r['arena']['tail']}  litert-ref diff {entry['litert_ref_diff_bytes']}"
              f" (max {entry['litert_ref_max_abs_diff']})", flush=True)

    if a.only:
        print("--only: no manifest written")
        return
    for fam in families:
        manifest = {
            "provenance": {
                "tool": "tools/tflm/make_goldens.py",
                "family": fam,
                "tflite_micro": tflm_run.TFLM_VERSION,
                "tensorflow": tf.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
                "seed": SEED,
                "date": datetime.date.today().isoformat(),
                "oracle": "tflite_micro.runtime.Interpreter (TFLM reference kernels, single thread)"
                          + ("; cases marked \"oracle\": \"litert\" (ops TFLM has no kernel for): "
                             "tf.lite.Interpreter, builtin kernels without delegates, single thread"
                             if any(c.get("oracle") for c in cases_out[fam]) else ""),
                "models_built_with": "tf.lite.TFLiteConverter.from_concrete_functions, full-integer PTQ "
                                     "(representative dataset, int8 in/out, TFLITE_BUILTINS_INT8)",
            },
            "cases": cases_out[fam],
        }
        with open(manifest_path(fam), "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
        print(f"{fam}: {len(cases_out[fam])} cases -> {os.path.relpath(manifest_path(fam), REPO)}")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print(f"{total} bytes under {os.path.relpath(OUT, REPO)}")


if __name__ == "__main__":
    main()
