# Golden cases of the `activations` family (exec'd by make_goldens.py with
# G = that module): RELU, RELU6, LEAKY_RELU, PRELU, HARD_SWISH, TANH and
# QUANTIZE (int8 -> int8). Each activation reads the model input directly so
# the converter cannot fuse it into a producer; `ops=[...]` pins the op list.
tf = G.tf
np = G.np


def _retype_as_quantize(scale_factor, zero_point):
    """Post-edit of a converted single-op model (x -> RELU -> y): the operator
    becomes QUANTIZE (int8 -> int8 requantization) and the output gets
    scale = input scale x scale_factor and the given zero point. The converter
    only emits an int8 -> int8 QUANTIZE between ops whose quantizations are
    tied (e.g. a concat of differently scaled inputs), which this family has
    no op for, so the case is made by editing the flatbuffer."""
    def post(model_bytes):
        import flatbuffers
        schema = G.schema
        mt = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model_bytes, 0))
        g = mt.subgraphs[0]
        assert len(g.operators) == 1
        op = g.operators[0]
        code = mt.operatorCodes[op.opcodeIndex]
        code.builtinCode = 114
        code.deprecatedBuiltinCode = 114
        op.builtinOptionsType = 0
        op.builtinOptions = None
        qi = g.tensors[int(g.inputs[0])].quantization
        q = g.tensors[int(g.outputs[0])].quantization
        q.scale = np.array([float(qi.scale[0]) * scale_factor], np.float32)
        q.zeroPoint = np.array([zero_point], np.int64)
        b = flatbuffers.Builder(len(model_bytes) + 1024)
        b.Finish(mt.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())
    return post


# --- RELU --------------------------------------------------------------------
G.unary("relu_r1_1x13", "RELU", (1, 13), tf.nn.relu, (-1.0, 1.0))
G.unary("relu_asym_3x5x7", "RELU", (1, 3, 5, 7), tf.nn.relu, (-2.0, 6.0))
G.unary("relu_pos_5x3", "RELU", (1, 5, 3), tf.nn.relu, (0.5, 4.0))
G.unary("relu_mostly_neg_4x4x5", "RELU", (1, 4, 4, 5), tf.nn.relu, (-7.0, 0.3))
G.unary("relu_wide_7x3", "RELU", (1, 7, 3), tf.nn.relu, (-40.0, 25.0))
for _c in G.CASES[-5:]:
    _c["expect_ops"] = ["RELU"]

# --- RELU6 -------------------------------------------------------------------
G.unary("relu6_r8_1x13", "RELU6", (1, 13), tf.nn.relu6, (-8.0, 8.0))
G.unary("relu6_asym_3x5x7", "RELU6", (1, 3, 5, 7), tf.nn.relu6, (-1.0, 10.0))
G.unary("relu6_inside_5x3", "RELU6", (1, 5, 3), tf.nn.relu6, (0.5, 5.0))
G.unary("relu6_neg_4x4x5", "RELU6", (1, 4, 4, 5), tf.nn.relu6, (-3.0, 0.5))
for _c in G.CASES[-4:]:
    _c["expect_ops"] = ["RELU6"]

# --- LEAKY_RELU ----------------------------------------------------------------
for _alpha in (0.1, 0.3):
    _a = str(_alpha).replace(".", "p")
    _f = (lambda a: (lambda x: tf.nn.leaky_relu(x, alpha=a)))(_alpha)
    G.case(f"leaky_relu_a{_a}_r2_1x13", "LEAKY_RELU", [([1, 13], (-2.0, 2.0))], (lambda f: lambda rng: f)(_f),
           ops=["LEAKY_RELU"])
    G.case(f"leaky_relu_a{_a}_asym_3x5x7", "LEAKY_RELU", [([1, 3, 5, 7], (-6.0, 1.5))], (lambda f: lambda rng: f)(_f),
           ops=["LEAKY_RELU"])
    G.case(f"leaky_relu_a{_a}_pos_5x3", "LEAKY_RELU", [([1, 5, 3], (0.25, 3.0))], (lambda f: lambda rng: f)(_f),
           ops=["LEAKY_RELU"])
    G.case(f"leaky_relu_a{_a}_neg_4x4x5", "LEAKY_RELU", [([1, 4, 4, 5], (-5.0, -0.5))], (lambda f: lambda rng: f)(_f),
           ops=["LEAKY_RELU"])


# --- PRELU (alpha per channel, shared over H and W: Keras PReLU shared_axes=[1, 2])
def prelu(name, hwc, rng_in, alpha_range=(0.05, 0.5)):
    def build(rng):
        alpha = rng.uniform(alpha_range[0], alpha_range[1], size=(1, 1, hwc[-1])).astype(np.float32)

        neg_alpha = -alpha

        def f(x):  # the form the converter fuses into PRELU (Keras PReLU's graph)
            return tf.nn.relu(x) + tf.nn.relu(-x) * neg_alpha
        return f
    G.case(name, "PRELU", [([1] + list(hwc), rng_in)], build, ops=["PRELU"])


prelu("prelu_5x5x3_r2", (5, 5, 3), (-2.0, 2.0))
prelu("prelu_4x6x7_asym", (4, 6, 7), (-6.0, 1.0))
prelu("prelu_3x3x13_pos", (3, 3, 13), (0.5, 3.0))
prelu("prelu_3x5x5_neg_wide_alpha", (3, 5, 5), (-4.0, -0.25), alpha_range=(-0.5, 1.5))


# --- HARD_SWISH ----------------------------------------------------------------
def _hard_swish(x):
    return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


G.unary("hard_swish_r4_1x13", "HARD_SWISH", (1, 13), _hard_swish, (-4.0, 4.0))
G.unary("hard_swish_asym_3x5x7", "HARD_SWISH", (1, 3, 5, 7), _hard_swish, (-6.0, 10.0))
G.unary("hard_swish_small_5x3", "HARD_SWISH", (1, 5, 3), _hard_swish, (-0.5, 0.5))
G.unary("hard_swish_neg_4x4x5", "HARD_SWISH", (1, 4, 4, 5), _hard_swish, (-8.0, -1.0))
G.unary("hard_swish_wide_7x3", "HARD_SWISH", (1, 7, 3), _hard_swish, (-30.0, 60.0))
for _c in G.CASES[-5:]:
    _c["expect_ops"] = ["HARD_SWISH"]

# --- TANH (output scale 1/128, zero point 0) --------------------------------------
G.unary("tanh_r1_1x13", "TANH", (1, 13), tf.tanh, (-1.0, 1.0))
G.unary("tanh_r4_3x5x7", "TANH", (1, 3, 5, 7), tf.tanh, (-4.0, 4.0))
G.unary("tanh_asym_5x3", "TANH", (1, 5, 3), tf.tanh, (-2.0, 9.0))
G.unary("tanh_r20_4x4x5", "TANH", (1, 4, 4, 5), tf.tanh, (-20.0, 20.0))
G.unary("tanh_neg_7x3", "TANH", (1, 7, 3), tf.tanh, (-3.0, -0.2))
for _c in G.CASES[-5:]:
    _c["expect_ops"] = ["TANH"]

# --- QUANTIZE int8 -> int8 (flatbuffer-edited, see _retype_as_quantize) -------------
G.case("quantize_requant_x0p5_zp10_1x13", "QUANTIZE", [([1, 13], (-1.0, 1.0))], lambda rng: tf.nn.relu,
       post=_retype_as_quantize(0.5, 10), ops=["QUANTIZE"])
G.case("quantize_requant_x3_zpm100_3x5x7", "QUANTIZE", [([1, 3, 5, 7], (-2.0, 6.0))], lambda rng: tf.nn.relu,
       post=_retype_as_quantize(3.0, -100), ops=["QUANTIZE"])
G.case("quantize_requant_x0p9_zp127_5x3", "QUANTIZE", [([1, 5, 3], (0.5, 4.0))], lambda rng: tf.nn.relu,
       post=_retype_as_quantize(0.9, 127), ops=["QUANTIZE"])
G.case("quantize_requant_x0p01_zpm128_4x4x5", "QUANTIZE", [([1, 4, 4, 5], (-7.0, 0.3))], lambda rng: tf.nn.relu,
       post=_retype_as_quantize(0.013, -128), ops=["QUANTIZE"])
