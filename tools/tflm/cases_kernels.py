# Golden cases of the "kernels" family: shapes that pick a particular
# optimised kernel variant, so that `make test` runs it against TFLM on every
# kernel path. Depthwise Conv2D with 16 or 32 channels, depth multiplier 1
# and stride_w 1 runs the AVX-512 band kernel with 4 or 2 output pixels per
# vector (DepthwiseAVX512.swift, chunk_w); widths that leave a partial last
# group, dilation, valid padding and a stride-2 row (one pixel per vector)
# around it.
# Exec'd by make_goldens.py with G = that module.
G.dwconv("dw_3x3_s1_same_c32_m1_w7", (5, 7, 32), 1, 3, act="relu6")
G.dwconv("dw_3x3_s1_same_c16_m1_w9", (6, 9, 16), 1, 3)
G.dwconv("dw_3x3_s1_valid_c16_m1_w6", (5, 6, 16), 1, 3, pad="VALID", rng_in=(0.0, 6.0))
G.dwconv("dw_5x5_s1_same_c32_m1_w5", (4, 5, 32), 1, 5, act="relu")
G.dwconv("dw_3x3_d2_s1_same_c16_m1_w10", (8, 10, 16), 1, 3, d=2, rng_in=(-6.0, 0.0))
G.dwconv("dw_3x3_s2x1_same_c32_m1_w8", (8, 8, 32), 1, 3, s=(2, 1))
G.dwconv("dw_3x3_s1x2_same_c32_m1_w9", (6, 9, 32), 1, 3, s=(1, 2))
