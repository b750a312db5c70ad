# Golden cases of the "join" family: CONCATENATION, RESIZE_NEAREST_NEIGHBOR,
# RESIZE_BILINEAR (exec'd by make_goldens.py with G = that module).
#
#   build/venv-tflm/bin/python tools/tflm/make_goldens.py --family join
#
# CONCATENATION: the converter gives every input and the output one
# quantization (TFLite's int8 kernel requires it; TFLM copies the bytes), so
# inputs with different float ranges show which shared range it picks.
# RESIZE_*: raw ops, so align_corners / half_pixel_centers are explicit.


tf, np = G.tf, G.np


def concat(name, shapes, ranges, axis, ops=None):
    G.case(name, "CONCATENATION", [(list(s), r) for s, r in zip(shapes, ranges)],
           lambda rng: (lambda *xs: tf.concat(list(xs), axis=axis)), ops=ops or ["CONCATENATION"])


concat("concat2_c3_c5", [(1, 4, 4, 3), (1, 4, 4, 5)], [(-1.0, 1.0), (-1.0, 1.0)], 3)
concat("concat2_c3_c5_ranges_r1_r6", [(1, 4, 4, 3), (1, 4, 4, 5)], [(-1.0, 1.0), (-6.0, 6.0)], 3)
concat("concat3_c3_c5_c7_neg_axis", [(1, 3, 3, 3), (1, 3, 3, 5), (1, 3, 3, 7)],
       [(-1.0, 1.0), (0.0, 4.0), (-3.0, 0.5)], -1)
concat("concat2_h_2_3_c3", [(1, 2, 5, 3), (1, 3, 5, 3)], [(-2.0, 2.0), (-2.0, 2.0)], 1)
concat("concat2_w_2_3_c5", [(1, 4, 2, 5), (1, 4, 3, 5)], [(0.0, 6.0), (0.0, 6.0)], 2)
concat("concat3_w_1_2_3_c7_asym", [(1, 3, 1, 7), (1, 3, 2, 7), (1, 3, 3, 7)],
       [(-0.5, 3.0), (-0.5, 3.0), (-0.5, 3.0)], 2)
concat("concat2_rank2_axis1", [(2, 3), (2, 5)], [(-1.0, 1.0), (-1.0, 1.0)], 1)
concat("concat2_rank2_axis0", [(2, 3), (3, 3)], [(-1.0, 2.0), (-1.0, 2.0)], 0)
concat("concat2_rank3_axis2", [(1, 4, 3), (1, 4, 5)], [(-4.0, 1.0), (-4.0, 1.0)], 2)
concat("concat3_rank3_axis1", [(1, 2, 5), (1, 1, 5), (1, 3, 5)], [(-1.0, 1.0), (-1.0, 1.0), (-1.0, 1.0)], -2)


def concat_branches(name, hwc, c1, c2, act=None):
    """x -> conv1x1 (small weights) and conv3x3 (large weights) -> concat on
    channels: what quantization the converter gives producers of different
    ranges (and whether it fuses a following ReLU)."""
    def build(rng):
        w1 = G._weights(rng, (1, 1, hwc[2], c1), hwc[2], 3) * 0.3
        w2 = G._weights(rng, (3, 3, hwc[2], c2), 9 * hwc[2], 3) * 2.0
        b1 = rng.normal(0.0, 0.2, size=c1).astype(np.float32)
        b2 = rng.normal(0.5, 0.5, size=c2).astype(np.float32)
        return lambda x: G._act(tf.concat([tf.nn.conv2d(x, w1, 1, "SAME") + b1,
                                           tf.nn.conv2d(x, w2, 1, "SAME") + b2], axis=3), act)
    G.case(name, "CONCATENATION", [([1] + list(hwc), (-1.0, 1.0))], build,
           ops=["CONV_2D", "CONV_2D", "CONCATENATION"])


concat_branches("concat_branches_conv_c3_o5_o7", (5, 5, 3), 5, 7)
concat_branches("concat_branches_conv_c5_o3_o3", (4, 4, 5), 3, 3)
# relu(concat(...)): this converter emits a separate RELU (no fused activation;
# TFLM refuses a fused one), so there is no fused-activation case.


def resize(name, op, hwc, size, align_corners=False, half_pixel_centers=False, rng_in=(-1.0, 1.0)):
    raw = tf.raw_ops.ResizeNearestNeighbor if op == "RESIZE_NEAREST_NEIGHBOR" else tf.raw_ops.ResizeBilinear
    G.case(name, op, [([1] + list(hwc), rng_in)],
           lambda rng: (lambda x: raw(images=x, size=list(size), align_corners=align_corners,
                                      half_pixel_centers=half_pixel_centers)),
           ops=[op])


for prefix, op in (("resize_nn", "RESIZE_NEAREST_NEIGHBOR"), ("resize_bl", "RESIZE_BILINEAR")):
    resize(f"{prefix}_x2_4x4_c3", op, (4, 4, 3), (8, 8))
    resize(f"{prefix}_x2_4x4_c5_halfpixel", op, (4, 4, 5), (8, 8), half_pixel_centers=True)
    resize(f"{prefix}_x2_3x5_c3_align", op, (3, 5, 3), (6, 10), align_corners=True)
    resize(f"{prefix}_odd_5x5_to_7x9_c7", op, (5, 5, 7), (7, 9), rng_in=(0.0, 6.0))
    resize(f"{prefix}_odd_5x5_to_7x9_c3_halfpixel", op, (5, 5, 3), (7, 9), half_pixel_centers=True)
    resize(f"{prefix}_odd_5x5_to_7x9_c5_align", op, (5, 5, 5), (7, 9), align_corners=True, rng_in=(-6.0, 0.0))
    resize(f"{prefix}_down_8x7_to_3x5_c13", op, (8, 7, 13), (3, 5))
    resize(f"{prefix}_down_8x7_to_3x5_c3_halfpixel", op, (8, 7, 3), (3, 5), half_pixel_centers=True)
    resize(f"{prefix}_to_1x1_c5_align", op, (4, 3, 5), (1, 1), align_corners=True)
    resize(f"{prefix}_x3_2x2_c1_halfpixel", op, (2, 2, 1), (6, 6), half_pixel_centers=True, rng_in=(-3.0, 8.0))
    resize(f"{prefix}_x8_2x3_c3_halfpixel", op, (2, 3, 3), (16, 24), half_pixel_centers=True)
    resize(f"{prefix}_x7_3x2_c2_align", op, (3, 2, 2), (15, 7), align_corners=True, rng_in=(-1.0, 5.0))

# Keras UpSampling2D: nearest (the default) converts to RESHAPE/TILE with this
# converter, not RESIZE_NEAREST_NEIGHBOR (no case); bilinear to RESIZE_BILINEAR.
G.case("resize_bl_keras_upsampling2d_c3", "RESIZE_BILINEAR", [([1, 3, 4, 3], (-1.0, 1.0))],
       lambda rng: tf.keras.layers.UpSampling2D(size=(2, 3), interpolation="bilinear"),
       ops=["RESIZE_BILINEAR"])
