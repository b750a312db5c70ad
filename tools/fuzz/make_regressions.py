#!/usr/bin/env python3
"""Writes Tests/Fuzz/regressions/*.cnnrt: the difference class the first
differential fuzz runs found (a requantization multiplier of 2^31 or more,
which the portable and AVX2 kernels computed differently), recreated on the
project's own MNIST model. Each file sets one op's output scale so small that
input scale x weight scale / output scale >= 2^31, with the size and CRC-32
fields repaired; the loader must refuse it with the same status on every
kernel path. `make fuzz` replays them through fuzz_diff.

    python3 tools/fuzz/make_regressions.py   (from the repository root)

Layout facts from docs/FORMAT.md (format v2).
"""
import struct
import zlib

SRC = "models/mnist.cnnrt"
OUT = "Tests/Fuzz/regressions"
CONV2D, FULLY_CONNECTED = 1, 3


def u16(b, o): return struct.unpack_from("<H", b, o)[0]
def u32(b, o): return struct.unpack_from("<I", b, o)[0]


def first_op(b, code):
    ops, table = u32(b, 28), u32(b, 32)
    for i in range(ops):
        rec = table + 64 * i
        if u16(b, rec) == code:
            return i, rec
    raise SystemExit(f"{SRC}: no op with code {code}")


def patched(code):
    b = bytearray(open(SRC, "rb").read())
    assert u16(b, 8) == 2, "format v2 expected"
    index, rec = first_op(b, code)
    inputs = u16(b, rec + 4)
    out = u32(b, u32(b, rec + 8) + 4 * inputs)                  # first output's tensor index
    scales = u32(b, u32(b, 24) + 64 * out + 32)                 # its scales offset
    struct.pack_into("<f", b, scales, 1e-30)
    struct.pack_into("<I", b, 12, len(b))
    struct.pack_into("<I", b, 16, zlib.crc32(bytes(b[20:])) & 0xFFFFFFFF)
    return index, bytes(b)


for code, name in ((CONV2D, "requant_shift_conv2d"), (FULLY_CONNECTED, "requant_shift_fully_connected")):
    index, data = patched(code)
    path = f"{OUT}/mnist_{name}_op{index}.cnnrt"
    open(path, "wb").write(data)
    print(f"wrote {path}")
