# Golden cases of the "tile" family: TILE (int8, constant multiples, ranks
# 1-5, odd sizes). TFLite Micro has no TILE kernel (its op resolver lists
# none), so these cases take TensorFlow Lite's builtin kernels without
# delegates as the oracle (oracle="litert", recorded in each manifest entry;
# its BUILTIN_REF resolver has no int8 TILE): TILE moves bytes only (the
# converter gives the output the input's quantization), so any correct
# kernel gives the same bytes.
# Exec'd by make_goldens.py with G = that module; `ops=["TILE"]` pins the
# converter to exactly that op.
tf = G.tf


def tile(name, shape, multiples, rng_in=(-1.0, 1.0)):
    G.case(name, "TILE", [(list(shape), rng_in)], lambda rng: (lambda x: tf.tile(x, multiples)),
           ops=["TILE"], oracle="litert")


tile("tile_hw_2x3_c5", (1, 3, 4, 5), [1, 2, 3, 1])
tile("tile_c_3_4x4_c3", (1, 4, 4, 3), [1, 1, 1, 3], (0.0, 6.0))
tile("tile_all_2x2x2x2_c7", (1, 2, 3, 7), [2, 2, 2, 2], (-6.0, 0.0))
tile("tile_w_5_c13", (1, 2, 3, 13), [1, 1, 5, 1], (-3.0, 1.0))
tile("tile_rank1_x4", (7,), [4])
tile("tile_rank2_3x2", (3, 17), [3, 2], (-1.0, 4.0))
tile("tile_rank3_2x1x3", (2, 5, 3), [2, 1, 3])
tile("tile_rank5", (1, 2, 3, 2, 3), [1, 3, 1, 2, 2], (-2.0, 0.5))
