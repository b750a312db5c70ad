# Golden cases of the "reduce" family: SUM and REDUCE_MAX (int8; constant
# axes, keep_dims true and false, ranks 2-4, adjacent and non-adjacent axes,
# odd sizes, asymmetric input ranges). Exec'd by make_goldens.py with G = that
# module; `ops=[op]` pins the converter to exactly the op under test.
# At most two distinct axes per SUM: TFLM's EvalSumHelper resolves the axes
# into a two-entry stack array (kMaxNumberOfReducedAxis), so more is
# undefined behaviour there, not an oracle. REDUCE_MAX resolves into an
# arena scratch buffer sized by the axis count, so three axes are fine.
tf = G.tf


def red(name, op, shape, axes, keep, rng_in=(-1.0, 1.0), post=None):
    fn = tf.reduce_sum if op == "SUM" else tf.reduce_max
    G.case(name, op, [(list(shape), rng_in)],
           lambda rng: (lambda x: fn(x, axis=axes, keepdims=keep)), ops=[op], post=post)


# --- SUM -------------------------------------------------------------------
red("sum_hw_keep_5x5_c7", "SUM", (1, 5, 5, 7), [1, 2], True)
red("sum_hw_nokeep_8x8_c3", "SUM", (1, 8, 8, 3), [1, 2], False, (-0.5, 2.0))
red("sum_c_nokeep_4x6_c13", "SUM", (1, 4, 6, 13), [3], False)
red("sum_h_keep_6x3_c5_zpmin", "SUM", (1, 6, 3, 5), [1], True, (0.0, 6.0))
red("sum_w_nokeep_3x7_c5_zpmax", "SUM", (1, 3, 7, 5), [-2], False, (-6.0, 0.0))
red("sum_hc_nokeep_4x5_c7", "SUM", (1, 4, 5, 7), [1, 3], False, (-3.0, 1.0))
red("sum_nw_keep_3x4_c5", "SUM", (1, 3, 4, 5), [0, 2], True)
red("sum_rank3_axes02_keep", "SUM", (4, 3, 5), [0, 2], True, (-1.0, 4.0))
red("sum_rank3_axis1_nokeep", "SUM", (3, 9, 7), [1], False, (-2.0, 0.5))
red("sum_rank2_axis1_nokeep", "SUM", (3, 17), [1], False, (-3.0, 1.0))
red("sum_rank2_axis0_keep", "SUM", (5, 9), [0], True, (0.0, 1.0))
# The converter gives SUM's output the input's zero point and n x its scale;
# these give the output its own (TFLM rescales any ratio, as MEAN's cases).
red("sum_hw_keep_5x5_c7_requant", "SUM", (1, 5, 5, 7), [1, 2], True, post=G.requantize_output(0.4, 17))
red("sum_hc_nokeep_4x5_c7_requant", "SUM", (1, 4, 5, 7), [1, 3], False, (-3.0, 1.0),
    post=G.requantize_output(1.8, -60))
# output scale below the input's: a rescale ratio near 2 (left shift)
red("sum_rank2_axis1_requant_upshift", "SUM", (3, 17), [1], False, (-1.0, 1.0), post=G.requantize_output(0.03, 5))

# --- REDUCE_MAX --------------------------------------------------------------
red("reduce_max_hw_keep_5x5_c7", "REDUCE_MAX", (1, 5, 5, 7), [1, 2], True)
red("reduce_max_hw_nokeep_6x4_c3", "REDUCE_MAX", (1, 6, 4, 3), [1, 2], False, (-0.5, 2.0))
red("reduce_max_c_nokeep_4x6_c13", "REDUCE_MAX", (1, 4, 6, 13), [-1], False)
red("reduce_max_h_keep_6x3_c5_zpmin", "REDUCE_MAX", (1, 6, 3, 5), [1], True, (0.0, 6.0))
red("reduce_max_hc_nokeep_4x5_c7_zpmax", "REDUCE_MAX", (1, 4, 5, 7), [1, 3], False, (-6.0, 0.0))
red("reduce_max_hwc_nokeep_4x5_c3", "REDUCE_MAX", (1, 4, 5, 3), [1, 2, 3], False, (-3.0, 1.0))
red("reduce_max_nw_keep_3x4_c5", "REDUCE_MAX", (1, 3, 4, 5), [0, 2], True)
red("reduce_max_rank3_axes02_keep", "REDUCE_MAX", (4, 3, 5), [0, 2], True, (-1.0, 4.0))
red("reduce_max_rank2_axis1_nokeep", "REDUCE_MAX", (3, 17), [1], False, (-3.0, 1.0))
red("reduce_max_rank2_axis0_keep", "REDUCE_MAX", (5, 9), [0], True, (0.0, 1.0))
