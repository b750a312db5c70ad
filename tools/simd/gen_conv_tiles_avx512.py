#!/usr/bin/env python3
"""Generates Sources/_CNNKernelsAVX512/ConvTilesAVX512.swift: the register
tiles of the AVX-512 VNNI band Conv2D kernel (ConvAVX512.swift,
convBandAVX512), one function per (B output-channel blocks of 16, P output
pixels of one row), fully unrolled so that every accumulator is a named local
(kept in a zmm register).

    python3 tools/simd/gen_conv_tiles_avx512.py > Sources/_CNNKernelsAVX512/ConvTilesAVX512.swift
"""

# B blocks -> largest P (accumulators P * B <= 24; + B weight registers and
# a broadcast register stay within the 32 zmm registers). One block takes 16
# pixels: 16 accumulators, and a 16- or 32-wide row in whole tiles.
PMAX = {1: 16, 2: 12, 4: 6}

# The 3-wide tiles (stride 1, dilation 1, k_w = 3, pixel quads): B blocks ->
# P pixels (P * B accumulators + 3 * B weight registers + a broadcast <= 32).
PK3 = {1: 16, 2: 8, 4: 4}

# The requantization forms of the "R" tiles (RequantLanes512.form: 2 ReLU, 1
# short; None: each block's own, tested per vector) -> function name suffix.
# With the form a constant, the epilogue holds only that form's
# instructions: no flag test and branch per vector.
RFORMS = {None: "", 2: "ReLU", 1: "Short"}

out = []
w = out.append


def prologue(name, B, P, extra=""):
    """The tile function's head: accumulators a{p}_{b} of P pixels x B blocks
    set to the blocks' acc_init."""
    w("@inline(__always)")
    w(f"func convTile512{name}(_ c: ConvTile512Args, _ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Int8>{extra}) {{")
    for b in range(B):
        w(f"  let i{b} = _mm512_loadu_si512(UnsafeRawPointer(c.accInit + {16*b}))")
    for p in range(P):
        w("  var " + ", ".join(f"a{p}_{b} = i{b}" for b in range(B)))


def epilogue(B, P, addr=lambda p: f"out + {p} &* c.outC", given_rq=False, form=None):
    """Requantizes and stores the accumulators a{p}_{b} of P pixels x B blocks
    (pixel p's outputs at addr(p); a run of 4 / B pixels is contiguous), with
    the blocks' RequantLanes512 made here or (given_rq) the parameters rq{b};
    `form` (RequantLanes512.form, every block's): that form's code only."""
    fa = "" if form is None else f", form: {form}"
    for b in range(B):
        w(f"  let n{b} = min(16, c.outC &- c.c0 &- {16*b})")
        w(f"  let k{b} = laneMask16(n{b})")
        if not given_rq:
            w(f"  let rq{b} = blockRequant512(c, {b})")
    # Whole 64-byte output runs: B * 16 channels per pixel, 4 / B pixels
    # per run, contiguous when the tile's blocks are whole and (B < 4)
    # they are all of the pixel's channels.
    per = 4 // B
    runs = P // per
    if runs > 0:
        cond = "c.c0 &+ 64 <= c.outC" if B == 4 else f"c.outC == {16 * B}"
        w(f"  if {cond} {{")
        w("    // Packed 64 at a time: saturating packs, then the clamp (as packClamp64).")
        if given_rq:
            block_major(B, P, runs, per, addr, fa)
        else:
            for g in range(runs):
                vals = []
                for i in range(per):
                    p = g * per + i
                    for b in range(B):
                        vals.append(f"rq{b}.apply(a{p}_{b}{fa})")
                w(f"    _mm512_storeu_si512(UnsafeMutableRawPointer({addr(g * per)}),")
                w(f"                        packClamp64({', '.join(vals[:2])},")
                w(f"                                    {', '.join(vals[2:])}, c.lo8, c.hi8))")
        rest = range(runs * per, P)
        for b in range(B):
            for p in rest:
                w(f"    requantStore512(a{p}_{b}, k{b}, rq{b}, c.vMin, c.vMax, {addr(p)} + {16*b}{fa})")
        w("    return")
        w("  }")
    for b in range(B):
        for p in range(P):
            w(f"  requantStore512(a{p}_{b}, k{b}, rq{b}, c.vMin, c.vMax, {addr(p)} + {16*b}{fa})")


def block_major(B, P, runs, per, addr, fa):
    """The packed stores of epilogue() block by block: each block's
    requantization of its P pixels in a row, so that the block's constants
    (six vectors of RequantLanes512 in the ReLU form) are loaded once for
    them rather than once per vector, as a pixel-by-pixel order does when the
    accumulators leave no registers for them; each pair of blocks packed to
    int16 as soon as it is done."""
    pixels = range(runs * per)
    for b in range(B):
        for p in pixels:
            w(f"    let r{p}_{b} = rq{b}.apply(a{p}_{b}{fa})")
        if b % 2 == 1:
            for p in pixels:
                w(f"    let h{p}_{b // 2} = _mm512_packs_epi32(r{p}_{b - 1}, r{p}_{b})")
    for g in range(runs):
        halves = [f"h{g * per + i}_{j}" for i in range(per) for j in range(B // 2)]
        w(f"    _mm512_storeu_si512(UnsafeMutableRawPointer({addr(g * per)}),")
        w(f"                        packClampHalves64({halves[0]}, {halves[1]}, c.lo8, c.hi8))")


def k3_tile(B, P):
    """A tile for k_w = 3, stride 1, dilation 1: per kernel row and input
    channel quad, the 3 * B weight vectors (one per kernel column and block)
    are loaded once, and each of the P + 2 input pixels the tile's P outputs
    read is broadcast once into the vpdpbusd of every output pixel and kernel
    column it meets (up to 3 * B): P + 2 broadcasts per 3 * P * B vpdpbusd,
    against P per P * B in the tiles above."""
    prologue(f"K3B{B}", B, P)
    w("  let step = c.pxStep, tap = c.runWStep, groups = c.runQuads / 3")
    w("  var ky = 0")
    w("  while ky < c.kH {")
    w("    var s = src + ky &* c.rowBytes")
    w("    var wp = c.weights + ky &* c.kyWStep")
    w("    var g = 0")
    w("    while g < groups {")
    for b in range(B):
        blk = "" if b == 0 else (" + c.blockStride" if b == 1 else f" + {b} &* c.blockStride")
        for kx in range(3):
            tp = "" if kx == 0 else (" + tap" if kx == 1 else " + 2 &* tap")
            w(f"      let w{kx}_{b} = _mm512_loadu_si512(wp{blk}{tp})")
    for ix in range(P + 2):
        addr = "s" if ix == 0 else (f"(s + step)" if ix == 1 else f"(s + {ix} &* step)")
        w(f"      let x{ix} = _mm512_set1_epi32({addr}.loadUnaligned(as: Int32.self))")
        ops = []
        for kx in range(3):
            p = ix - kx
            if 0 <= p < P:
                ops += [f"a{p}_{b} = _mm512_dpbusd_epi32(a{p}_{b}, x{ix}, w{kx}_{b})" for b in range(B)]
        w("      " + "; ".join(ops))
    w("      s += 4; wp += 64; g &+= 1")
    w("    }")
    w("    ky &+= 1")
    w("  }")
    epilogue(B, P)
    w("}")
    w("")
    w(f"/// Pixels of a 3-wide tile of {B} block(s).")
    w(f"let convTile512PixelsK3B{B} = {P}")
    w("")


def k3_two_rows_tile(P):
    """One block, two output rows of P pixels, k_h = k_w = 3, stride and
    dilation 1: the tile reads 4 scratch rows; per input quad the 9 weight
    vectors are loaded once, and each input pixel of each row is broadcast
    once into the vpdpbusd of every output pixel, row and kernel column it
    meets (4 * (P + 2) broadcasts per 18 * P vpdpbusd). Pixel p of the second
    row is accumulator P + p; its outputs go to out1."""
    prologue("K3R2B1", 1, 2 * P, extra=", _ out1: UnsafeMutablePointer<Int8>")
    w("  let step = c.pxStep, tap = c.runWStep, groups = c.runQuads / 3, rb = c.rowBytes, ky = c.kyWStep")
    w("  var s = src")
    w("  var wp = c.weights")
    w("  var g = 0")
    w("  while g < groups {")
    for ky in range(3):
        for kx in range(3):
            off = " + ".join(x for x in (["ky" if ky == 1 else "2 &* ky"] if ky else []) + (["tap" if kx == 1 else "2 &* tap"] if kx else []))
            w(f"    let w{ky}{kx} = _mm512_loadu_si512(wp{' + ' + off if off else ''})")
    for r in range(4):
        base = "s" if r == 0 else (f"(s + rb)" if r == 1 else f"(s + {r} &* rb)")
        for ix in range(P + 2):
            addr = base if ix == 0 else (f"({base} + step)" if ix == 1 else f"({base} + {ix} &* step)")
            w(f"    let x{r}_{ix} = _mm512_set1_epi32({addr}.loadUnaligned(as: Int32.self))")
            ops = []
            for o in range(2):
                kyy = r - o
                if not 0 <= kyy < 3:
                    continue
                for kx in range(3):
                    p = ix - kx
                    if 0 <= p < P:
                        a = o * P + p
                        ops.append(f"a{a}_0 = _mm512_dpbusd_epi32(a{a}_0, x{r}_{ix}, w{kyy}{kx})")
            w("    " + "; ".join(ops))
    w("    s += 4; wp += 64; g &+= 1")
    w("  }")
    epilogue(1, 2 * P, addr=lambda p: f"out + {p} &* c.outC" if p < P else f"out1 + {p - P} &* c.outC")
    w("}")
    w("")
    w("/// Pixels per row of the two-row 3-wide tile.")
    w(f"let convTile512PixelsK3R2B1 = {P}")
    w("")


w("// GENERATED by tools/simd/gen_conv_tiles_avx512.py: do not edit.")
w("//")
w("// Register tiles of the AVX-512 band Conv2D (convBandAVX512): P output")
w("// pixels of one row x B blocks of 16 output channels. For each quad of")
w("// input bytes the B weight vectors are loaded once and each pixel's quad")
w("// (u = x + 128, from the band scratch rows) is broadcast from memory")
w("// (vpbroadcastd) into vpdpbusd: four exact products summed into int32 per")
w("// lane, wrapping as the reference's accumulator. The epilogue requantizes")
w("// block by block, the block's RequantLanes512 made once for the P pixels;")
w("// where a pixel's B blocks are whole and 4 / B pixels' outputs are 64")
w("// contiguous bytes, they are packed and stored 64 at a time.")
w("#if arch(x86_64)")
w("import _Builtin_intrinsics.intel")
w("")
for B in sorted(PMAX):
    for P, form in [(p, None) for p in range(1, PMAX[B] + 1)] + ([("R", f) for f in RFORMS] if B > 1 else []):
        # "R": the whole tile of 2 or 4 blocks with the requantization given
        # by the caller (made once per output row; for short reductions, where
        # making it per tile is a noticeable part of the tile's work), one
        # function per requantization form the blocks share (RFORMS).
        given = P == "R"
        name = f"B{B}R{RFORMS[form]}" if given else f"B{B}P{P}"
        P = PMAX[B] if given else P
        rqs = "".join(f", _ rq{b}: RequantLanes512" for b in range(B)) if given else ""
        prologue(name, B, P, extra=rqs)
        if P > 1:
            w("  let step = c.pxStep")
            for p in range(2, P):
                w(f"  let o{p} = {p} &* step")
        w("  var ky = 0")
        w("  while ky < c.kH {")
        w("    let rowSrc = src + ky &* c.rowBytes")
        w("    let rowW = c.weights + ky &* c.kyWStep")
        w("    var r = 0")
        w("    while r < c.runs {")
        w("      var s = rowSrc + r &* c.runSrcStep")
        w("      var wp = rowW + r &* c.runWStep")
        w("      var q = 0")
        w("      while q < c.runQuads {")
        for b in range(B):
            off = "" if b == 0 else (f" + c.blockStride" if b == 1 else f" + {b} &* c.blockStride")
            w(f"        let w{b} = _mm512_loadu_si512(wp{off})")
        for p in range(P):
            addr = "s" if p == 0 else (f"(s + step)" if p == 1 else f"(s + o{p})")
            w(f"        let x{p} = _mm512_set1_epi32({addr}.loadUnaligned(as: Int32.self))")
            w("        " + "; ".join(f"a{p}_{b} = _mm512_dpbusd_epi32(a{p}_{b}, x{p}, w{b})" for b in range(B)))
        w("        s += 4; wp += 64; q &+= 1")
        w("      }")
        w("      r &+= 1")
        w("    }")
        w("    ky &+= 1")
        w("  }")
        epilogue(B, P, given_rq=given, form=form)
        w("}")
        w("")
    w(f"/// Most pixels of a tile of {B} block(s).")
    w(f"let convTile512PixelsB{B} = {PMAX[B]}")
    w("")
    w(f"/// Runs the tile of B = {B} blocks and P = `pixels` (1...{PMAX[B]}) pixels.")
    w("@inline(__always)")
    w(f"func convTile512B{B}(_ pixels: Int, _ c: ConvTile512Args, _ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Int8>) {{")
    w("  switch pixels {")
    for P in range(1, PMAX[B]):
        w(f"  case {P}: convTile512B{B}P{P}(c, src, out)")
    w(f"  default: convTile512B{B}P{PMAX[B]}(c, src, out)")
    w("  }")
    w("}")
    w("")
w("// The 3-wide tiles: same weights, scratch rows and arithmetic; each input")
w("// pixel's quad is broadcast once for the three kernel columns it meets.")
for B in sorted(PK3):
    k3_tile(B, PK3[B])
k3_two_rows_tile(8)
w("#endif")
print("\n".join(out))
