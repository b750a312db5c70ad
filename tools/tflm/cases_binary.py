# Golden cases of the `binary` family: MUL, SUB, MAXIMUM, MINIMUM (int8,
# each input with its own quantization for MUL/SUB; shared quantization for
# MAXIMUM/MINIMUM, as the converter makes them). Exec'd by make_goldens.py
# with G = that module; `ops=[...]` pins the exact op list the converter must
# emit (it may otherwise fold or split things).

tf, np = G.tf, G.np


def binary(name, op, shape_a, shape_b, rng_a, rng_b, fn, act=None, ops=None):
    """A two-input case: fn(a, b) on two model inputs, optional fused activation."""
    G.case(name, op, [(list(shape_a), rng_a), (list(shape_b), rng_b)],
           lambda rng: (lambda a, b: G._act(fn(a, b), act)), ops=ops or [op])


def with_constant(name, op, shape, rng_in, const_shape, const_range, fn, act=None, ops=None):
    """x op c: one model input and a constant operand (the converter stores it
    as an int8 tensor with its own scale)."""
    def build(rng):
        c = rng.uniform(const_range[0], const_range[1], size=const_shape).astype(np.float32)
        return lambda x: G._act(fn(x, c), act)
    G.case(name, op, [(list(shape), rng_in)], build, ops=ops or [op])


mul = lambda a, b: a * b
sub = lambda a, b: a - b

# --- MUL -------------------------------------------------------------------
binary("mul_same_1x5x5x7", "MUL", (1, 5, 5, 7), (1, 5, 5, 7), (-1.0, 1.0), (-6.0, 6.0), mul)
binary("mul_same_1x4x6x5_relu", "MUL", (1, 4, 6, 5), (1, 4, 6, 5), (-2.0, 2.0), (-0.5, 0.5), mul, act="relu")
binary("mul_same_1x3x3x13_relu6", "MUL", (1, 3, 3, 13), (1, 3, 3, 13), (-3.0, 3.0), (-2.0, 4.0), mul, act="relu6")
binary("mul_same_zpmin_zpmax", "MUL", (1, 5, 5, 3), (1, 5, 5, 3), (0.0, 4.0), (-3.0, 0.0), mul)
binary("mul_same_asym_r30", "MUL", (1, 3, 3, 13), (1, 3, 3, 13), (-1.0, 30.0), (-0.2, 0.05), mul)
binary("mul_same_1x8x8x40", "MUL", (1, 8, 8, 40), (1, 8, 8, 40), (-4.0, 4.0), (-1.0, 3.0), mul)
binary("mul_bcast_c_1x4x4x5", "MUL", (1, 4, 4, 5), (1, 1, 1, 5), (-2.0, 2.0), (0.0, 1.0), mul)
binary("mul_bcast_c_1x6x6x40", "MUL", (1, 6, 6, 40), (1, 1, 1, 40), (-6.0, 6.0), (0.0, 1.0), mul)
binary("mul_bcast_c_first_1x3x5x7", "MUL", (1, 1, 1, 7), (1, 3, 5, 7), (0.0, 1.0), (-1.0, 2.0), mul)
binary("mul_bcast_hw1_1x4x6x13", "MUL", (1, 4, 6, 13), (1, 4, 6, 1), (-1.0, 1.0), (0.0, 2.0), mul)
binary("mul_bcast_both_1x5x1x3", "MUL", (1, 5, 1, 3), (1, 1, 4, 3), (-1.0, 1.0), (-2.0, 2.0), mul)
binary("mul_rank2_3x20", "MUL", (3, 20), (3, 20), (-1.0, 1.0), (-1.0, 1.0), mul)
binary("mul_rank2_bcast_3x20", "MUL", (3, 20), (1, 20), (-2.0, 1.0), (-0.5, 0.5), mul)
binary("mul_rank3_2x6x7", "MUL", (2, 6, 7), (2, 1, 7), (-1.0, 1.0), (-3.0, 3.0), mul)
binary("mul_rank3_same_2x5x3", "MUL", (2, 5, 3), (2, 5, 3), (-8.0, 2.0), (-1.0, 1.0), mul, act="relu")
with_constant("mul_const_c7", "MUL", (1, 5, 5, 7), (-1.0, 1.0), (7,), (-2.0, 2.0), mul)
with_constant("mul_const_c5_relu6", "MUL", (1, 4, 4, 5), (-3.0, 3.0), (5,), (0.5, 3.0), mul, act="relu6")
with_constant("mul_const_same_shape", "MUL", (1, 3, 4, 5), (-1.0, 2.0), (1, 3, 4, 5), (-1.0, 1.0), mul)


def swish(name, shape, rng_in):
    """x * sigmoid(x) (EfficientNet's swish): LOGISTIC then MUL of two
    activations with different quantizations (the sigmoid output is 1/256, -128)."""
    G.case(name, "MUL", [(list(shape), rng_in)], lambda rng: (lambda x: x * tf.sigmoid(x)),
           ops=["LOGISTIC", "MUL"])


swish("mul_swish_1x5x5x7", (1, 5, 5, 7), (-6.0, 6.0))
swish("mul_swish_1x4x4x13_asym", (1, 4, 4, 13), (-2.0, 8.0))


def se_block(name, hwc, squeeze, rng_in=(-3.0, 3.0)):
    """Squeeze-and-excitation: MEAN over H, W -> 1x1 conv (relu) -> 1x1 conv
    -> LOGISTIC -> MUL broadcast of the [1,1,1,C] gate over [1,H,W,C]."""
    c = hwc[2]

    def build(rng):
        w1 = G._weights(rng, (1, 1, c, squeeze), c, 3)
        b1 = rng.normal(0.0, 0.2, size=squeeze).astype(np.float32)
        w2 = G._weights(rng, (1, 1, squeeze, c), squeeze, 3)
        b2 = rng.normal(0.0, 0.5, size=c).astype(np.float32)

        def f(x):
            s = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
            s = tf.nn.relu(tf.nn.conv2d(s, w1, 1, "VALID") + b1)
            s = tf.sigmoid(tf.nn.conv2d(s, w2, 1, "VALID") + b2)
            return x * s
        return f
    G.case(name, "MUL", [([1] + list(hwc), rng_in)], build, ops=["MEAN", "CONV_2D", "CONV_2D", "LOGISTIC", "MUL"])


se_block("mul_se_block_6x6x8", (6, 6, 8), 4)
se_block("mul_se_block_5x5x13", (5, 5, 13), 3, rng_in=(0.0, 6.0))

# --- SUB -------------------------------------------------------------------
binary("sub_same_1x5x5x7", "SUB", (1, 5, 5, 7), (1, 5, 5, 7), (-1.0, 1.0), (-6.0, 6.0), sub)
binary("sub_same_1x4x6x5_relu", "SUB", (1, 4, 6, 5), (1, 4, 6, 5), (-2.0, 2.0), (-0.5, 0.5), sub, act="relu")
binary("sub_same_1x3x3x13_relu6", "SUB", (1, 3, 3, 13), (1, 3, 3, 13), (-3.0, 5.0), (-2.0, 2.0), sub, act="relu6")
binary("sub_same_zpmin_zpmax", "SUB", (1, 5, 5, 3), (1, 5, 5, 3), (0.0, 4.0), (-3.0, 0.0), sub)
binary("sub_same_asym_r30", "SUB", (1, 3, 3, 13), (1, 3, 3, 13), (-1.0, 30.0), (-0.2, 0.05), sub)
binary("sub_bcast_c_1x4x4x5", "SUB", (1, 4, 4, 5), (1, 1, 1, 5), (-1.0, 1.0), (-3.0, 2.0), sub)
binary("sub_bcast_c_first_1x3x5x7", "SUB", (1, 1, 1, 7), (1, 3, 5, 7), (-1.0, 1.0), (-2.0, 2.0), sub)
binary("sub_bcast_hw1_1x3x5x7", "SUB", (1, 3, 5, 7), (1, 3, 5, 1), (-2.0, 2.0), (0.0, 1.0), sub)
binary("sub_rank2_bcast_4x13", "SUB", (4, 13), (1, 13), (-1.0, 1.0), (-1.0, 1.0), sub)
binary("sub_rank3_2x6x7", "SUB", (2, 6, 7), (2, 6, 1), (-5.0, 1.0), (-1.0, 1.0), sub)
with_constant("sub_const_c7", "SUB", (1, 5, 5, 7), (-1.0, 1.0), (7,), (-2.0, 2.0), sub)

# --- MAXIMUM / MINIMUM (inputs and output share quantization) --------------
binary("maximum_same_1x5x5x7", "MAXIMUM", (1, 5, 5, 7), (1, 5, 5, 7), (-2.0, 2.0), (-2.0, 2.0), tf.maximum)
binary("maximum_bcast_c_1x4x4x5", "MAXIMUM", (1, 4, 4, 5), (1, 1, 1, 5), (-1.0, 3.0), (-1.0, 3.0), tf.maximum)
binary("maximum_rank2_3x13", "MAXIMUM", (3, 13), (3, 13), (0.0, 6.0), (0.0, 6.0), tf.maximum)
binary("minimum_same_1x5x5x7", "MINIMUM", (1, 5, 5, 7), (1, 5, 5, 7), (-2.0, 2.0), (-2.0, 2.0), tf.minimum)
binary("minimum_bcast_hw1_1x3x5x7", "MINIMUM", (1, 3, 5, 7), (1, 3, 5, 1), (-6.0, 0.0), (-6.0, 0.0), tf.minimum)
binary("minimum_rank3_2x6x7", "MINIMUM", (2, 6, 7), (2, 1, 7), (-1.0, 1.0), (-1.0, 1.0), tf.minimum)
with_constant("maximum_const_c5", "MAXIMUM", (1, 4, 4, 5), (-2.0, 2.0), (5,), (-1.0, 1.0), tf.maximum)
with_constant("minimum_const_c7", "MINIMUM", (1, 5, 5, 7), (-2.0, 2.0), (7,), (-1.0, 1.0), tf.minimum)


# --- SUB: float or double quotients for the multipliers --------------------
# TFLM's published sub_common.cc forms SUB's real multipliers in float (ADD's
# in double); the two differ in the low bits of the 31-bit multipliers but
# almost never in an output byte. These cases use scales (found by
# enumerating all 65536 input pairs) where 35 / 32 pairs differ, and meet
# ~70 % of all pairs: the tflite-micro build used here gives the double
# results (the float ones would miss it on 40 / 36 output bytes).
def set_quantization(params):
    """Post-edit: give the single op's input 0, input 1 and output these
    (scale, zero point) pairs (the int8 values are kept)."""
    def post(model_bytes):
        import flatbuffers
        schema = G.schema
        mt = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model_bytes, 0))
        g = mt.subgraphs[0]
        op = g.operators[0]
        for t, (s, z) in zip([op.inputs[0], op.inputs[1], op.outputs[0]], params):
            q = g.tensors[int(t)].quantization
            q.scale = np.array([s], np.float32)
            q.zeroPoint = np.array([z], np.int64)
        b = flatbuffers.Builder(len(model_bytes) + 1024)
        b.Finish(mt.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())
    return post


def sub_all_levels(name, params):
    """x [1,16,1,1] − c [256], c covering all 256 int8 levels, so each sample
    meets 16 × 256 (x, c) pairs; the scales are set afterwards to ones where
    float and double multiplier quotients give different outputs on some pairs."""
    def build(rng):
        c = (-1.0 + np.arange(256) * (2.2 / 255)).astype(np.float32)
        return lambda x: x - c
    G.case(name, "SUB", [([1, 16, 1, 1], (-1.0, 1.0))], build, ops=["SUB"], post=set_quantization(params))


sub_all_levels("sub_const_all_levels_float_multipliers",
               [(0.020914698019623756, 73), (0.0010532581945881248, -120), (0.02196795679628849, 113)])
sub_all_levels("sub_const_all_levels_float_multipliers_b",
               [(0.022366352379322052, -58), (0.01830998621881008, -116), (0.04067634046077728, 49)])
with_constant("sub_const_first_c5", "SUB", (1, 3, 3, 5), (-1.0, 1.0), (5,), (-2.0, 2.0), lambda x, c: c - x)
