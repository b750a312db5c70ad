"""TRANSPOSE_CONV cases (Keras Conv2DTranspose / tf.nn.conv2d_transpose):
strides 1-3, SAME and VALID, odd channel counts, bias and fused ReLU, and
output sizes larger than the minimum. Executed by make_goldens.py with
G = that module."""
tf = G.tf  # noqa: F821
np = G.np  # noqa: F821


def tconv(name, hwc, cout, k, s, pad, out_hw=None, bias=True, act=None, rng_in=(-1.0, 1.0)):
    """x [1,H,W,Cin] -> conv2d_transpose (filter [KH,KW,Cout,Cin]) (+ bias) (+ act)."""
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s
    h, w, cin = hwc
    if out_hw is None:
        out_hw = (h * sh, w * sw) if pad == "SAME" else ((h - 1) * sh + kh, (w - 1) * sw + kw)

    def build(rng):
        wts = (rng.normal(0.0, 1.0, size=(kh, kw, cout, cin)) / np.sqrt(kh * kw * cin)).astype(np.float32)
        b = rng.normal(0.0, 0.3, size=cout).astype(np.float32)

        def fn(x):
            y = tf.nn.conv2d_transpose(x, wts, [1, out_hw[0], out_hw[1], cout], [1, sh, sw, 1], pad)
            if bias:
                y = y + b
            return G._act(y, act)  # noqa: F821
        return fn
    G.case(name, "TRANSPOSE_CONV", [([1, h, w, cin], rng_in)], build, ops=["TRANSPOSE_CONV"])  # noqa: F821


tconv("tconv_2x2_s2_same_c3_o5", (4, 4, 3), 5, 2, 2, "SAME")
tconv("tconv_3x3_s2_same_c5_o7_relu", (5, 5, 5), 7, 3, 2, "SAME", act="relu")
tconv("tconv_3x3_s1_same_c7_o3", (6, 5, 7), 3, 3, 1, "SAME")
tconv("tconv_3x3_s2_valid_c3_o4", (4, 3, 3), 4, 3, 2, "VALID")
tconv("tconv_4x4_s2_same_c4_o6_nobias", (3, 3, 4), 6, 4, 2, "SAME", bias=False)
tconv("tconv_3x3_s3_same_c5_o5_asym", (3, 4, 5), 5, 3, 3, "SAME", rng_in=(-0.5, 2.0))
tconv("tconv_2x3_s2x1_valid_c3_o5", (4, 4, 3), 5, (2, 3), (2, 1), "VALID")
# SAME with an odd output size: TFLM's padding comes from the output size.
tconv("tconv_3x3_s2_same_out9_c3_o5", (5, 5, 3), 5, 3, 2, "SAME", out_hw=(9, 9))
