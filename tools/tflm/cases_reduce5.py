# Golden cases of the "reduce5" family: MEAN, SUM and REDUCE_MAX of rank-5
# int8 tensors (constant axes, adjacent and non-adjacent, keep_dims true and
# false, zero points at both extremes, requantizing outputs). Exec'd by
# make_goldens.py with G = that module; `ops=[op]` pins the converter to
# exactly the op under test.
#
# TFLM (the pinned build) runs all three on rank 5: its reduce kernels walk
# an index of kMaxNumberOfAxis = 5 entries. At most two distinct axes per
# MEAN and SUM: EvalMeanHelper and EvalSumHelper resolve the axes into
# `int resolved_axis[kMaxNumberOfReducedAxis]` (2 entries) on the stack and
# reference_ops::ResolveAxis writes one entry per distinct axis without a
# bound, so three or more axes write past that array (undefined behaviour,
# not an oracle). cnnrt's MEAN and SUM over 3 to 5 axes are checked against
# a written-out model of TFLM's arithmetic instead (Tests/CNNRuntimeTests/
# Reduce5Tests.swift). REDUCE_MAX resolves into an arena scratch buffer sized
# by the axis count, so it is tested here over 3 and 4 axes too.
tf = G.tf


def red(name, op, shape, axes, keep, rng_in=(-1.0, 1.0), post=None):
    fn = {"MEAN": tf.reduce_mean, "SUM": tf.reduce_sum, "REDUCE_MAX": tf.reduce_max}[op]
    G.case(name, op, [(list(shape), rng_in)],
           lambda rng: (lambda x: fn(x, axis=axes, keepdims=keep)), ops=[op], post=post)


# --- MEAN --------------------------------------------------------------------
red("mean5_axes23_keep", "MEAN", (2, 3, 4, 5, 3), [2, 3], True)
red("mean5_axes13_nokeep", "MEAN", (2, 3, 4, 3, 5), [1, 3], False)
red("mean5_axes04_keep", "MEAN", (3, 2, 3, 2, 4), [0, 4], True, (-0.5, 2.0))
red("mean5_axis4_nokeep_zpmin", "MEAN", (2, 2, 3, 2, 7), [-1], False, (0.0, 6.0))
red("mean5_axis0_keep_zpmax", "MEAN", (5, 2, 3, 1, 4), [0], True, (-6.0, 0.0))
# The converter ties MEAN's output quantization to its input; these give the
# output its own scale and zero point (TFLM's requantizing path).
red("mean5_axes13_nokeep_requant", "MEAN", (2, 3, 4, 3, 5), [1, 3], False, (-3.0, 1.0),
    post=G.requantize_output(2.2, -30))
red("mean5_axes23_keep_requant", "MEAN", (2, 3, 4, 5, 3), [2, 3], True, post=G.requantize_output(0.6, 11))

# --- SUM ---------------------------------------------------------------------
red("sum5_axes23_keep", "SUM", (2, 3, 4, 5, 3), [2, 3], True)
red("sum5_axes14_nokeep", "SUM", (2, 3, 2, 3, 5), [1, 4], False, (-0.5, 2.0))
red("sum5_axes02_keep_zpmax", "SUM", (3, 2, 4, 2, 3), [0, 2], True, (-6.0, 0.0))
red("sum5_axis0_nokeep_zpmin", "SUM", (4, 2, 3, 2, 3), [0], False, (0.0, 6.0))
red("sum5_axes13_nokeep_requant", "SUM", (2, 3, 4, 3, 5), [1, 3], False, (-3.0, 1.0),
    post=G.requantize_output(1.8, -60))
# output scale below the input's: a rescale ratio near 2 (left shift)
red("sum5_axis2_keep_requant_upshift", "SUM", (2, 1, 9, 2, 3), [2], True, post=G.requantize_output(0.03, 5))

# --- REDUCE_MAX --------------------------------------------------------------
red("reduce_max5_axes23_keep", "REDUCE_MAX", (2, 3, 4, 5, 3), [2, 3], True)
red("reduce_max5_axes14_nokeep", "REDUCE_MAX", (2, 3, 2, 3, 5), [1, 4], False, (-0.5, 2.0))
red("reduce_max5_axes024_nokeep_zpmax", "REDUCE_MAX", (3, 2, 4, 2, 3), [0, 2, 4], False, (-6.0, 0.0))
red("reduce_max5_axes0134_keep_zpmin", "REDUCE_MAX", (2, 3, 2, 4, 3), [0, 1, 3, 4], True, (0.0, 6.0))
red("reduce_max5_all_keep", "REDUCE_MAX", (2, 3, 2, 2, 3), [0, 1, 2, 3, 4], True, (-3.0, 1.0))
