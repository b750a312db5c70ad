# Golden cases of the "shape" family: byte-moving ops (STRIDED_SLICE, SLICE,
# TRANSPOSE, DEPTH_TO_SPACE, SPACE_TO_DEPTH, SPLIT, SPLIT_V, UNPACK).
# exec'd by make_goldens.py with G = that module. Several-output cases
# (split, unpack) record every model output (make_goldens.record).
tf = G.tf


def u(name, op, shape, fn, rng_in=(-1.0, 1.0), ops=None):
    G.case(name, op, [(list(shape), rng_in)], lambda rng: fn, ops=ops or [op])


SS = "STRIDED_SLICE"
# --- STRIDED_SLICE ---------------------------------------------------------
u("strided_slice_s1_4d_c5", SS, (1, 6, 7, 5), lambda x: tf.strided_slice(x, [0, 1, 0, 1], [1, 4, 5, 4], [1, 1, 1, 2]))
u("strided_slice_s2_hw_c3", SS, (1, 7, 8, 3), lambda x: x[:, ::2, 1::2, :])
u("strided_slice_neg_begin_end_c7", SS, (1, 6, 5, 7), lambda x: x[:, -4:-1, :, 1:-1], (-2.0, 1.0))
u("strided_slice_neg_stride_c5", SS, (1, 5, 7, 5), lambda x: x[:, ::-1, 5:0:-2, :])
u("strided_slice_masks_c13", SS, (1, 4, 6, 13),
  lambda x: tf.strided_slice(x, [0, 3, 2, 1], [0, 0, 5, 0], [1, -1, 1, 3], begin_mask=0b0001, end_mask=0b1011))
u("strided_slice_shrink_h_c3", SS, (1, 5, 6, 3), lambda x: x[:, 2, :, :], (0.0, 6.0))
u("strided_slice_shrink_2axes_c7", SS, (1, 4, 5, 7), lambda x: x[0, :, -2, 1:6])
u("strided_slice_rank2", SS, (3, 17), lambda x: x[1:, 2:15:3], (-3.0, 1.0))
u("strided_slice_rank3_zpmax", SS, (1, 9, 6), lambda x: x[:, 1:8:2, ::-1], (-6.0, 0.0))

# --- SLICE -----------------------------------------------------------------
u("slice_4d_c5", "SLICE", (1, 6, 7, 5), lambda x: tf.slice(x, [0, 1, 2, 0], [1, 3, -1, 3]))
u("slice_rank2", "SLICE", (4, 9), lambda x: tf.slice(x, [1, 3], [2, 5]), (-1.0, 4.0))
u("slice_5d", "SLICE", (1, 3, 4, 5, 3), lambda x: tf.slice(x, [0, 1, 0, 2, 1], [1, 2, 3, -1, 2]))

# --- TRANSPOSE -------------------------------------------------------------
for perm in ([0, 3, 1, 2], [0, 2, 1, 3], [0, 2, 3, 1], [3, 2, 1, 0]):
    u("transpose_4d_" + "".join(map(str, perm)) + "_c5", "TRANSPOSE", (1, 3, 4, 5),
      (lambda p: lambda x: tf.transpose(x, p))(perm))
for perm in ([0, 2, 1], [2, 0, 1], [1, 2, 0]):
    u("transpose_3d_" + "".join(map(str, perm)) + "_c7", "TRANSPOSE", (2, 3, 7),
      (lambda p: lambda x: tf.transpose(x, p))(perm), (-0.5, 2.0))
u("transpose_2d", "TRANSPOSE", (5, 13), lambda x: tf.transpose(x, [1, 0]))
u("transpose_5d_c3", "TRANSPOSE", (1, 2, 3, 4, 3), lambda x: tf.transpose(x, [0, 3, 1, 4, 2]), (-1.0, 2.0))

# --- DEPTH_TO_SPACE / SPACE_TO_DEPTH --------------------------------------
u("depth_to_space_b2_c12", "DEPTH_TO_SPACE", (1, 3, 4, 12), lambda x: tf.nn.depth_to_space(x, 2))
u("depth_to_space_b2_c20", "DEPTH_TO_SPACE", (1, 2, 3, 20), lambda x: tf.nn.depth_to_space(x, 2), (-1.0, 3.0))
u("depth_to_space_b3_c9", "DEPTH_TO_SPACE", (1, 2, 2, 9), lambda x: tf.nn.depth_to_space(x, 3))
u("space_to_depth_b2_c3", "SPACE_TO_DEPTH", (1, 4, 6, 3), lambda x: tf.nn.space_to_depth(x, 2))
u("space_to_depth_b2_c5", "SPACE_TO_DEPTH", (1, 6, 2, 5), lambda x: tf.nn.space_to_depth(x, 2), (0.0, 6.0))
u("space_to_depth_b3_c7", "SPACE_TO_DEPTH", (1, 3, 6, 7), lambda x: tf.nn.space_to_depth(x, 3))

# --- SPLIT / SPLIT_V / UNPACK (several outputs) ---------------------------
u("split_2_c6", "SPLIT", (1, 4, 4, 6), lambda x: tuple(tf.split(x, 2, axis=3)))
u("split_3_c9", "SPLIT", (1, 3, 3, 9), lambda x: tuple(tf.split(x, 3, axis=3)), (-2.0, 1.0))
u("split_3_h", "SPLIT", (1, 6, 5, 3), lambda x: tuple(tf.split(x, 3, axis=1)))
u("split_v_c13", "SPLIT_V", (1, 3, 4, 13), lambda x: tuple(tf.split(x, [2, 7, 4], axis=3)))
u("split_v_w", "SPLIT_V", (1, 3, 7, 5), lambda x: tuple(tf.split(x, [5, 2], axis=2)), (0.0, 6.0))
u("unpack_c3", "UNPACK", (1, 4, 5, 3), lambda x: tuple(tf.unstack(x, axis=3)))
u("unpack_rank3_h", "UNPACK", (1, 3, 7), lambda x: tuple(tf.unstack(x, axis=1)))

# --- GATHER (constant indices) ---------------------------------------------
u("gather_c_axis3", "GATHER", (1, 3, 4, 5), lambda x: tf.gather(x, [2, 0, 4, 4], axis=3))
u("gather_h_axis1", "GATHER", (1, 6, 4, 3), lambda x: tf.gather(x, [5, 1], axis=1), (-1.0, 3.0))
u("gather_scalar_axis3", "GATHER", (1, 3, 4, 7), lambda x: tf.gather(x, 6, axis=3))
u("gather_2d_indices", "GATHER", (4, 7), lambda x: tf.gather(x, [[0, 2], [1, 1], [3, 0]], axis=0), (0.0, 6.0))
