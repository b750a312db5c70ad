// AVX-512 elementwise int8 Add and Mul, bit-exact with addReference /
// addBroadcastReference and mulReference (TFLM AddElementwise,
// MulElementwise). Call only when the CPU has AVX-512 (F, BW). Row kernels,
// as the AVX2 ones (AddAVX2.swift, MulAVX2.swift) they replace on this path:
//   cnnrtAddAVX512        out[i] = add(x1[i], x2[i])   (same shape; a row of a
//                                                     per-channel broadcast)
//   cnnrtAddScalarAVX512  out[i] = add(x[i], v), v one value for the row
//                         (a scalar; a [1,H,W,1] operand over [1,H,W,C])
//   cnnrtMulAVX512, cnnrtMulScalarAVX512   the same for Mul
// 64 elements per step: each 16-byte quarter is sign-extended to 16 int32
// lanes, the reference arithmetic runs on int32, and the four results are
// packed with saturation (exact: clamped to the int8 activation bounds
// after). The row's tail (< 64) runs the same code on masked loads (bytes
// past the row are neither read nor written) and one masked store.
//
// Requantization (MultiplyByQuantizedMultiplier, TFLM double rounding) with
// one multiplier M and shift for all lanes, in 64-bit lanes (requantUniform512):
//   x = acc << left  (wrapping, as the reference's int32 multiply),
//   h = SaturatingRoundingDoublingHighMul(x, M) = floor((x*M + 2^30) / 2^31)
//     for every x, M but x = M = Int32.min (RequantAVX2.swift's derivation:
//     the reference's sign-dependent nudge and truncating division give the
//     floor for both signs),
//   RoundingDivideByPOT(h, r) = (h + half - [h < 0]) >> r for r >= 1,
//     half = 2^(r-1) (AVX2 derivation), and h for r = 0.
// With u = x*M + 2^30 (h < 0 iff u < 0) and the correction scaled by 2^31:
//   out = (u + (half - [u < 0 and r >= 1]) * 2^31) >> (31 + r)   (arithmetic)
// (floor(floor(t / 2^31) / 2^r) = floor(t / 2^(31+r))). |x*M| <= 2^31
// (2^31 - 1) < 2^62 and half * 2^31 <= 2^61, so t never overflows int64 and
// vpsraq gives the exact floor. One form covers the AVX2 kernels' folded and
// uniform domains: exact for any multiplier but Int32.min and any shift in
// -31...31 (UniformRequant512's guard); outside it the AVX2 kernels' general
// requantization runs instead (the kernels return false, writing nothing).
// Add's input terms use it (or AddTerm512's int32 form); the Add and Mul
// output stages use RequantLanes512 (ConvAVX512.swift) with that one
// multiplier in every lane, which also adds the output offset and, for right
// shifts of 1...23, takes its shorter form. Long Add rows on a CPU with
// AVX512-VBMI look the input terms up in byte tables (TermPlanes512).
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

/// MultiplyByQuantizedMultiplier constants for one multiplier and shift.
struct UniformRequant512 {
  var m, left, nudge, half, negMask: __m512i
  var shift: UInt32
  var hasLeft: Bool

  /// nil for a multiplier of Int32.min or a shift outside -31...31.
  @inline(__always)
  init?(_ multiplier: Int32, _ shift: Int32) {
    guard multiplier != Int32.min, shift >= -31, shift <= 31 else { return nil }
    let r: Int32 = shift < 0 ? 0 &- shift : 0
    m = _mm512_set1_epi32(multiplier)
    left = _mm512_set1_epi32(shift > 0 ? shift : 0)
    hasLeft = shift > 0
    nudge = _mm512_set1_epi64(1 << 30)
    half = _mm512_set1_epi64(r > 0 ? Int64(1) << (30 &+ Int64(r)) : 0)  // 2^(r-1) * 2^31
    negMask = _mm512_set1_epi64(r > 0 ? Int64(bitPattern: 0xFFFF_FFFF_8000_0000) : 0)  // -2^31 or 0
    self.shift = UInt32(31 &+ r)
  }
}

/// MultiplyByQuantizedMultiplier of 16 int32 lanes (see the file comment).
@inline(__always)
func requantUniform512(_ acc: __m512i, _ q: UniformRequant512) -> __m512i {
  let x = q.hasLeft ? _mm512_sllv_epi32(acc, q.left) : acc
  @inline(__always) func round(_ product: __m512i) -> __m512i {
    let u = _mm512_add_epi64(product, q.nudge)
    let correction = _mm512_and_si512(_mm512_srai_epi64(u, 63), q.negMask)
    return _mm512_srai_epi64(_mm512_add_epi64(_mm512_add_epi64(u, q.half), correction), q.shift)
  }
  let even = round(_mm512_mul_epi32(x, q.m))
  let odd = round(_mm512_mul_epi32(oddDwordsDown512(x), q.m))
  // Each 64-bit result fits int32: even lanes keep their low dword, odd
  // lanes move theirs up.
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32))
}

/// Dword order that undoes vpackssdw + vpacksswb's interleave of four
/// vectors within each 128-bit lane: result dword 4j + k is dword 4k + j.
@inline(__always)
func packOrder512() -> __m512i {
  unsafeBitCast(SIMD16<Int32>(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), to: __m512i.self)
}

/// 64 int8 from four vectors of 16 int32 (elements 0-15, 16-31, ...), each
/// saturated to -128...127.
@inline(__always)
func packs64(_ g0: __m512i, _ g1: __m512i, _ g2: __m512i, _ g3: __m512i) -> __m512i {
  let b = _mm512_packs_epi16(_mm512_packs_epi32(g0, g1), _mm512_packs_epi32(g2, g3))
  return _mm512_permutexvar_epi32(packOrder512(), b)
}

/// packs64, then clamped to [lo, hi] (int8 in every byte). Exact as the
/// reference's int32 clamp: the bounds are int8 values.
@inline(__always)
func packClamp64(_ g0: __m512i, _ g1: __m512i, _ g2: __m512i, _ g3: __m512i,
                 _ lo: __m512i, _ hi: __m512i) -> __m512i {
  packClampHalves64(_mm512_packs_epi32(g0, g1), _mm512_packs_epi32(g2, g3), lo, hi)
}

/// packClamp64 from its two halves' int16 packs, h0 = vpackssdw(g0, g1) and
/// h1 = vpackssdw(g2, g3), for a caller that makes them at different times.
@inline(__always)
func packClampHalves64(_ h0: __m512i, _ h1: __m512i, _ lo: __m512i, _ hi: __m512i) -> __m512i {
  let b = _mm512_permutexvar_epi32(packOrder512(), _mm512_packs_epi16(h0, h1))
  return _mm512_min_epi8(_mm512_max_epi8(b, lo), hi)
}

/// Calls `body(i, mask, full)` for each block of 64 of `count` elements:
/// full blocks with all mask bits, then the tail (if any) with the mask of
/// its `count - i` bytes.
@inline(__always)
func forEachBlock64(_ count: Int, _ body: (Int, __mmask64, Bool) -> Void) {
  var i = 0
  while i &+ 64 <= count {
    body(i, ~0, true)
    i &+= 64
  }
  if i < count { body(i, (1 &<< UInt64(count &- i)) &- 1, false) }
}

/// The 64-byte block at `p` (a partial block: only the bytes under `mask`
/// are read, the others are 0).
@inline(__always)
func load64(_ p: UnsafePointer<Int8>, _ mask: __mmask64, _ full: Bool) -> __m512i {
  full ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(mask, p)
}

/// Bytes 16j...16j+15 of a block at `p`, sign-extended to 16 int32 lanes
/// (a partial block: only the bytes under `mask` are read, the others are 0).
@inline(__always)
func widen16(_ p: UnsafePointer<Int8>, _ j: Int, _ mask: __mmask64, _ full: Bool) -> __m512i {
  let q = UnsafeRawPointer(p + 16 &* j)
  return _mm512_cvtepi8_epi32(full ? _mm_loadu_si128(q.assumingMemoryBound(to: __m128i.self))
                                   : _mm_maskz_loadu_epi8(__mmask16(truncatingIfNeeded: mask &>> UInt64(16 &* j)), q))
}

/// Stores the block's 64 bytes (a partial block: only those under `mask`).
@inline(__always)
func store64(_ out: UnsafeMutablePointer<Int8>, _ v: __m512i, _ mask: __mmask64, _ full: Bool) {
  if full {
    _mm512_storeu_si512(UnsafeMutableRawPointer(out), v)
  } else {
    _mm512_mask_storeu_epi8(UnsafeMutableRawPointer(out), mask, v)
  }
}

/// A row of `count` outputs from two inputs: `f` maps 16 int32 lanes of each
/// to 16 int32 results, which are packed and clamped to [lo, hi].
@inline(__always)
func mapRows512(_ count: Int, _ input1: UnsafePointer<Int8>, _ input2: UnsafePointer<Int8>,
                _ output: UnsafeMutablePointer<Int8>, _ lo: __m512i, _ hi: __m512i,
                _ f: (__m512i, __m512i) -> __m512i) {
  forEachBlock64(count) { i, mask, full in
    let p1 = input1 + i, p2 = input2 + i
    let g0 = f(widen16(p1, 0, mask, full), widen16(p2, 0, mask, full))
    let g1 = f(widen16(p1, 1, mask, full), widen16(p2, 1, mask, full))
    let g2 = f(widen16(p1, 2, mask, full), widen16(p2, 2, mask, full))
    let g3 = f(widen16(p1, 3, mask, full), widen16(p2, 3, mask, full))
    store64(output + i, packClamp64(g0, g1, g2, g3, lo, hi), mask, full)
  }
}

/// mapRows512 for one input.
@inline(__always)
func mapRow512(_ count: Int, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>,
               _ lo: __m512i, _ hi: __m512i, _ f: (__m512i) -> __m512i) {
  forEachBlock64(count) { i, mask, full in
    let p = input + i
    let g0 = f(widen16(p, 0, mask, full)), g1 = f(widen16(p, 1, mask, full))
    let g2 = f(widen16(p, 2, mask, full)), g3 = f(widen16(p, 3, mask, full))
    store64(output + i, packClamp64(g0, g1, g2, g3, lo, hi), mask, full)
  }
}

/// The activation bounds as int8 in every byte.
@inline(__always)
func bounds512(_ actMin: Int32, _ actMax: Int32) -> (__m512i, __m512i) {
  (splatByte512(actMin), splatByte512(actMax))
}

/// `v` (an int8 value, -128...127) in all 64 bytes, made by saturating packs
/// of a dword splat instead of a byte splat. The module is compiled with
/// AVX512-VBMI for the Add's byte tables, and the compiler may make a byte
/// splat of a value it holds in a vector register with vpermb, a VBMI
/// instruction, which would fault on an AVX-512 VNNI CPU without VBMI
/// (tools/simd/check_vbmi.sh stops such a build; the band Conv2D without its
/// short-reduction tiles made one so). The packs are not shuffles, so the
/// compiler keeps them.
@inline(__always)
func splatByte512(_ v: Int32) -> __m512i {
  let d = _mm512_set1_epi32(v)
  let w = _mm512_packs_epi32(d, d)
  return _mm512_packs_epi16(w, w)
}

struct Add512 {
  var off1, off2, left: __m512i
  var r1, r2: UniformRequant512
  var rOut: RequantLanes512          // the output stage, offset included
  var lo, hi: __m512i

  /// nil where requantUniform512 is not exact for some stage (a multiplier of
  /// Int32.min) or the left shift is outside 0...31.
  @inline(__always)
  init?(_ p: cnnrt_add_args) {
    guard p.left_shift >= 0, p.left_shift <= 31,
          let q1 = UniformRequant512(p.input1_multiplier, p.input1_shift),
          let q2 = UniformRequant512(p.input2_multiplier, p.input2_shift),
          UniformRequant512(p.output_multiplier, p.output_shift) != nil else { return nil }
    off1 = _mm512_set1_epi32(p.input1_offset); off2 = _mm512_set1_epi32(p.input2_offset)
    left = _mm512_set1_epi32(p.left_shift)
    r1 = q1; r2 = q2
    rOut = RequantLanes512(_mm512_set1_epi32(p.output_multiplier), _mm512_set1_epi32(p.output_shift),
                           offset: p.output_offset, actMin: p.act_min)
    (lo, hi) = bounds512(p.act_min, p.act_max)
  }

  /// An input's rescaled term MBQM((x + offset) << left_shift, M_i, shift_i).
  @inline(__always)
  func term(_ x: __m512i, _ offset: __m512i, _ q: UniformRequant512) -> __m512i {
    requantUniform512(_mm512_sllv_epi32(_mm512_add_epi32(x, offset), left), q)
  }

  /// The output from the sum of both terms (wrapping, as the reference), before the clamp.
  @inline(__always)
  func output(_ s: __m512i) -> __m512i { rOut.apply(s) }
}

/// An Add input's term MBQM((x + offset) << L, M, shift) in int32 lanes only.
/// With x' = x + offset (offset in -128...128: |x'| <= 256), s = 31 - L,
/// r = -shift and the
/// single-floor form of requantUniform512 (u = x' * M * 2^L + 2^30):
///   term = floor((u + (half - n) * 2^31) / 2^(31 + r)),  n = [u < 0 and r >= 1]
///        = (floor((x' * M + 2^(s-1)) / 2^s) + half - n) >> r        (2^L divides out)
///        = (x' * Mh + ((x' * Ml + 2^(s-1)) >> s) + half - n) >> r   (M = Mh * 2^s + Ml)
/// where |x' * Mh| < 2^8 * 2^L <= 2^30 and |x' * Ml| < 2^(8+s) < 2^31 for L in
/// 9...22, and u < 0 exactly when x' < 0 once M > 2^(30-L) (|x' * M| * 2^L >
/// 2^30 for x' != 0). Outside that domain (and for shift > 0) nil: the
/// 64-bit form runs instead.
struct AddTerm512 {
  var off, mh, ml, round, half, neg: __m512i
  var s: UInt32, r: UInt32

  @inline(__always)
  init?(offset: Int32, multiplier m: Int32, shift: Int32, left: Int32) {
    guard offset >= -128, offset <= 128, left >= 9, left <= 22, shift <= 0, shift >= -31,
          m > (Int32(1) &<< (30 &- left)) else { return nil }
    let sBits = 31 &- left, rBits = 0 &- shift
    off = _mm512_set1_epi32(offset)
    mh = _mm512_set1_epi32(m &>> sBits)
    ml = _mm512_set1_epi32(m & ((Int32(1) &<< sBits) &- 1))
    round = _mm512_set1_epi32(Int32(1) &<< (sBits &- 1))
    half = _mm512_set1_epi32(rBits > 0 ? Int32(1) &<< (rBits &- 1) : 0)
    neg = _mm512_set1_epi32(rBits > 0 ? -1 : 0)
    s = UInt32(sBits); r = UInt32(rBits)
  }

  @inline(__always)
  func apply(_ x: __m512i) -> __m512i {
    let xp = _mm512_add_epi32(x, off)
    let low = _mm512_srai_epi32(_mm512_add_epi32(_mm512_mullo_epi32(xp, ml), round), s)
    let minusN = _mm512_and_si512(_mm512_srai_epi32(xp, 31), neg)
    let v = _mm512_add_epi32(_mm512_add_epi32(_mm512_mullo_epi32(xp, mh), low), _mm512_add_epi32(half, minusN))
    return _mm512_srai_epi32(v, r)
  }
}

/// An Add input's term for each of the 256 int8 values, in four byte planes
/// of 256 bytes (plane k: byte k of the int32 term; entry u: the input byte
/// u, i.e. x = Int8(bitPattern: u)), made once per call from the kernel's own
/// term arithmetic. A plane is four 64-byte tables (entries 64k...64k + 63).
struct TermPlanes512 {
  var bytes: (SIMD64<UInt8>, SIMD64<UInt8>, SIMD64<UInt8>, SIMD64<UInt8>,
              SIMD64<UInt8>, SIMD64<UInt8>, SIMD64<UInt8>, SIMD64<UInt8>,
              SIMD64<UInt8>, SIMD64<UInt8>, SIMD64<UInt8>, SIMD64<UInt8>,
              SIMD64<UInt8>, SIMD64<UInt8>, SIMD64<UInt8>, SIMD64<UInt8>)

  @inline(__always)
  init(_ term: (__m512i) -> __m512i) {
    let z = SIMD64<UInt8>()
    bytes = (z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z)
    let iota = unsafeBitCast(SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), to: __m512i.self)
    withUnsafeMutableBytes(of: &bytes) { raw in
      let base = raw.baseAddress!
      var j: Int32 = 0
      while j < 16 {
        // x = u as int8 for u = 16j...16j+15.
        let u = _mm512_add_epi32(iota, _mm512_set1_epi32(16 &* j))
        let t = term(_mm512_srai_epi32(_mm512_slli_epi32(u, 24), 24))
        var k = 0
        while k < 4 {
          let plane = _mm512_cvtepi32_epi8(k == 0 ? t : _mm512_srai_epi32(t, UInt32(8 &* k)))
          (base + (k &* 256 &+ 16 &* Int(j))).storeBytes(of: plane, as: __m128i.self)
          k &+= 1
        }
        j &+= 1
      }
    }
  }

  /// The terms of 64 input bytes `x` as int32, in the order the unpacks
  /// leave them: vector q, 128-bit lane j holds the terms of bytes 16j + 4q
  /// ... 16j + 4q + 3 (packs64Unpacked undoes it). `twoTable`
  /// (cnnrt_add_args.byte_tables = 2): each plane is two 128-entry vpermt2b
  /// lookups and a blend by bit 7; else four vpermb, merge-masked by bits 6
  /// and 7 (later quarters overwriting: no blends). Same bytes; which is
  /// faster depends on the CPU (README "Speed").
  @inline(__always)
  func lookup(_ x: __m512i, twoTable: Bool) -> (__m512i, __m512i, __m512i, __m512i) {
    var out = (_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512())
    let hi7 = _mm512_movepi8_mask(x)
    let hi6 = twoTable ? 0 : _mm512_test_epi8_mask(x, _mm512_set1_epi8(0x40))
    withUnsafeBytes(of: bytes) { raw in
      let base = raw.baseAddress!
      @inline(__always) func plane(_ k: Int) -> __m512i {
        let p = base + k &* 256
        if twoTable {
          let low = _mm512_permutex2var_epi8(_mm512_loadu_si512(p), x, _mm512_loadu_si512(p + 64))
          let high = _mm512_permutex2var_epi8(_mm512_loadu_si512(p + 128), x, _mm512_loadu_si512(p + 192))
          return _mm512_mask_blend_epi8(hi7, low, high)
        }
        let r0 = _mm512_permutexvar_epi8(x, _mm512_loadu_si512(p))
        let r1 = _mm512_mask_permutexvar_epi8(r0, hi6, x, _mm512_loadu_si512(p + 64))
        let r2 = _mm512_mask_permutexvar_epi8(r1, hi7, x, _mm512_loadu_si512(p + 128))
        return _mm512_mask_permutexvar_epi8(r2, hi6 & hi7, x, _mm512_loadu_si512(p + 192))
      }
      let b0 = plane(0), b1 = plane(1), b2 = plane(2), b3 = plane(3)
      let w01lo = _mm512_unpacklo_epi8(b0, b1), w01hi = _mm512_unpackhi_epi8(b0, b1)
      let w23lo = _mm512_unpacklo_epi8(b2, b3), w23hi = _mm512_unpackhi_epi8(b2, b3)
      out = (_mm512_unpacklo_epi16(w01lo, w23lo), _mm512_unpackhi_epi16(w01lo, w23lo),
             _mm512_unpacklo_epi16(w01hi, w23hi), _mm512_unpackhi_epi16(w01hi, w23hi))
    }
    return out
  }
}

/// 64 int8 from four vectors in TermPlanes512.lookup's order, saturated: the
/// packs' own interleave within each 128-bit lane puts the bytes back in
/// input order (lane j: vectors 0 and 1 give bytes 16j...16j+7, 2 and 3 the
/// rest), so no permute follows.
@inline(__always)
func packs64Unpacked(_ g0: __m512i, _ g1: __m512i, _ g2: __m512i, _ g3: __m512i) -> __m512i {
  _mm512_packs_epi16(_mm512_packs_epi32(g0, g1), _mm512_packs_epi32(g2, g3))
}

/// Rows at least this long use the byte tables (building them costs about
/// as much as 64 elements of the direct form).
let addTableMinCount = 256

/// The split output stage of the table kernel (cnnrt_add_args.split_output
/// = 1 + q, q in 0...4 extra bits). With M = output_multiplier > 0 and
/// r = -output_shift >= 1 (r + q <= 30), the reference's output from the
/// two terms s1, s2 (wrapping int32 sum) is
///   RDBPOT(SRDHM(s1 + s2, M), r) + zo,  SRDHM(s, M) = floor((s M + 2^30) / 2^31),
///   RDBPOT(h, r) = floor((h + 2^(r-1) - [h < 0]) / 2^r)   (file comment).
/// With G1 = floor((s1 M + 2^30) / 2^(31-q)) and G2 = floor(s2 M / 2^(31-q)),
/// g = G1 + G2 + c (c the carry of their two dropped remainders) is
/// floor((s1 M + s2 M + 2^30) / 2^(31-q)), SRDHM = floor(g / 2^q), and the
/// output is floor((g + 2^(r+q-1) - [g < 0] 2^q) / 2^(r+q)) + zo. Leaving
/// c and the [g < 0] term out:
///   out' = ((T1 + T2) >> (r + q)) + zo,  T1 = G1 + 2^(r+q-1),  T2 = G2
/// (both per input: looked up like the terms): an add, a shift and the
/// offset per 16 outputs instead of the 64-bit output stage. out' is one off
/// only for pairs where c = 1 and (T1 + T2) mod 2^(r+q) = 2^(r+q) - 1, or
/// g < 0 and (T1 + T2) mod 2^(r+q) < 2^q (a rounding tie below zero, which
/// a ReLU's clamp at zo hides); each q halves the first kind. Whether such
/// a pair exists inside the clamp depends on the parameters (ResNet-8's
/// first Add has two at q = 0, none at q = 4), so the loader runs
/// cnnrtAddSplitCheckAVX512, which compares this form with the exact one on
/// all 65,536 input pairs, and sets split_output only where they all agree.
struct AddSplit512 {
  var m: __m512i, nudge1: __m512i, bias1: __m512i, offset: __m512i
  var lowBits: UInt32, shift: UInt32

  @inline(__always)
  init?(_ p: cnnrt_add_args) {
    let q = p.split_output &- 1
    guard q >= 0, q <= 4, p.output_multiplier > 0, p.output_shift <= -1,
          p.output_shift &- q >= -30 else { return nil }
    let rq = q &- p.output_shift
    m = _mm512_set1_epi32(p.output_multiplier)
    nudge1 = _mm512_set1_epi64(1 << 30)
    bias1 = _mm512_set1_epi32(Int32(1) &<< (rq &- 1))
    offset = _mm512_set1_epi32(p.output_offset)
    lowBits = UInt32(31 &- q)
    shift = UInt32(rq)
  }

  /// floor((s * M + nudge) / 2^(31-q)) per int32 lane (its low dword; the
  /// check at load fails where it does not fit).
  @inline(__always)
  func high(_ s: __m512i, _ nudge: __m512i) -> __m512i {
    let even = _mm512_srai_epi64(_mm512_add_epi64(_mm512_mul_epi32(s, m), nudge), lowBits)
    let odd = _mm512_srai_epi64(_mm512_add_epi64(_mm512_mul_epi32(oddDwordsDown512(s), m), nudge), lowBits)
    return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32))
  }

  /// T1 of the first input's terms.
  @inline(__always)
  func first(_ s: __m512i) -> __m512i { _mm512_add_epi32(high(s, nudge1), bias1) }

  /// T2 of the second input's terms.
  @inline(__always)
  func second(_ s: __m512i) -> __m512i { high(s, _mm512_setzero_si512()) }

  /// out' from T1 + T2, before the clamp.
  @inline(__always)
  func output(_ t: __m512i) -> __m512i { _mm512_add_epi32(_mm512_srai_epi32(t, shift), offset) }
}

/// 64 outputs of the table kernel from 64 bytes of each input: both inputs'
/// values looked up, `finish` maps the 16-lane sums to outputs, then packs
/// and the clamp.
@inline(__always)
func addTableBlock512(_ x1: __m512i, _ x2: __m512i, _ planes1: TermPlanes512, _ planes2: TermPlanes512,
                      twoTable: Bool, _ lo: __m512i, _ hi: __m512i, _ finish: (__m512i) -> __m512i) -> __m512i {
  let a = planes1.lookup(x1, twoTable: twoTable)
  let b = planes2.lookup(x2, twoTable: twoTable)
  let v = packs64Unpacked(finish(_mm512_add_epi32(a.0, b.0)), finish(_mm512_add_epi32(a.1, b.1)),
                          finish(_mm512_add_epi32(a.2, b.2)), finish(_mm512_add_epi32(a.3, b.3)))
  return _mm512_min_epi8(_mm512_max_epi8(v, lo), hi)
}

/// Both inputs' term functions of the table kernel: AddTerm512's int32 form
/// where its domain holds, else Add512.term.
struct AddTerms512 {
  var k: Add512
  var t1: AddTerm512?, t2: AddTerm512?

  @inline(__always)
  init(_ p: cnnrt_add_args, _ k: Add512) {
    self.k = k
    t1 = AddTerm512(offset: p.input1_offset, multiplier: p.input1_multiplier, shift: p.input1_shift,
                    left: p.left_shift)
    t2 = AddTerm512(offset: p.input2_offset, multiplier: p.input2_multiplier, shift: p.input2_shift,
                    left: p.left_shift)
  }

  @inline(__always)
  func first(_ x: __m512i) -> __m512i { t1?.apply(x) ?? k.term(x, k.off1, k.r1) }

  @inline(__always)
  func second(_ x: __m512i) -> __m512i { t2?.apply(x) ?? k.term(x, k.off2, k.r2) }
}

/// Whether the table kernel's split output stage (AddSplit512, with the q of
/// a.split_output) gives the same bytes as its exact one for these
/// parameters: both are run on all 65,536 pairs of input bytes (every input
/// an Add can see), 64 pairs at a time, with the vpermb tables (the lookups
/// of both table forms are the same bytes). Called at load where the CPU has
/// AVX512-VBMI; about 2,000 blocks of the kernel's own work (10-15 us on a
/// Zen 5).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAddSplitCheckAVX512(_ a: UnsafePointer<cnnrt_add_args>) -> Bool {
  let p = a.pointee
  guard let k = Add512(p), let sp = AddSplit512(p) else { return false }
  let terms = AddTerms512(p, k)
  let exact1 = TermPlanes512 { x in terms.first(x) }, exact2 = TermPlanes512 { x in terms.second(x) }
  let split1 = TermPlanes512 { x in sp.first(terms.first(x)) }
  let split2 = TermPlanes512 { x in sp.second(terms.second(x)) }
  let iota = unsafeBitCast(SIMD64<UInt8>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                         16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                         32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
                                         48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63),
                           to: __m512i.self)
  var x1: Int32 = -128
  while x1 <= 127 {
    let v1 = _mm512_set1_epi8(CChar(truncatingIfNeeded: x1))
    var q: Int32 = 0
    while q < 4 {
      // Second-input bytes 64q...64q + 63 (as unsigned: every int8 value over the four).
      let v2 = _mm512_add_epi8(iota, _mm512_set1_epi8(CChar(truncatingIfNeeded: 64 &* q)))
      let e = addTableBlock512(v1, v2, exact1, exact2, twoTable: false, k.lo, k.hi) { k.output($0) }
      let s = addTableBlock512(v1, v2, split1, split2, twoTable: false, k.lo, k.hi) { sp.output($0) }
      let d = _mm512_xor_si512(e, s)
      if _mm512_test_epi8_mask(d, d) != 0 { return false }
      q &+= 1
    }
    x1 &+= 1
  }
  return true
}

/// The split_output value for these parameters (the rest of `a` as the
/// kernel gets it, byte_tables set): 1 + q for the most extra bits q in
/// 4...0 whose split form passes cnnrtAddSplitCheckAVX512, else 0 (the
/// exact output stage). Called at load where the CPU has AVX512-VBMI.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAddSplitOutputAVX512(_ a: UnsafePointer<cnnrt_add_args>) -> Int32 {
  var t = a.pointee
  var q: Int32 = 4
  while q >= 0 {
    t.split_output = 1 &+ q
    if cnnrtAddSplitCheckAVX512(&t) { return t.split_output }
    q &-= 1
  }
  return 0
}

/// Same-shape Add of `count` elements; false, writing nothing, when the
/// parameters are outside requantUniform512's domain (run cnnrtAddAVX2 then).
/// With byte_tables (AVX512-VBMI) and a long row, each input's term is
/// looked up (TermPlanes512) instead of computed: the term depends on the
/// input byte only, and the lookup moves the work off the shift and multiply
/// port the output stage needs. With split_output as well (set at load by
/// cnnrtAddSplitCheckAVX512), the tables hold AddSplit512's T1 and T2 and the
/// output stage is one add and one shift.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAddAVX512(_ a: UnsafePointer<cnnrt_add_args>, _ count: Int,
                           _ input1: UnsafePointer<Int8>, _ input2: UnsafePointer<Int8>,
                           _ output: UnsafeMutablePointer<Int8>) -> Bool {
  guard let k = Add512(a.pointee) else { return false }
  let p = a.pointee
  let terms = AddTerms512(p, k)
  if p.byte_tables != 0 && count >= addTableMinCount {
    @inline(__always) func run(_ planes1: TermPlanes512, _ planes2: TermPlanes512, _ finish: (__m512i) -> __m512i) {
      @inline(__always) func rows(twoTable: Bool) {
        forEachBlock64(count) { i, mask, full in
          let x1 = load64(input1 + i, mask, full), x2 = load64(input2 + i, mask, full)
          store64(output + i, addTableBlock512(x1, x2, planes1, planes2, twoTable: twoTable, k.lo, k.hi, finish),
                  mask, full)
        }
      }
      if p.byte_tables == 2 { rows(twoTable: true) } else { rows(twoTable: false) }
    }
    if p.split_output != 0, let sp = AddSplit512(p) {
      run(TermPlanes512 { x in sp.first(terms.first(x)) }, TermPlanes512 { x in sp.second(terms.second(x)) }) {
        sp.output($0)
      }
    } else {
      run(TermPlanes512 { x in terms.first(x) }, TermPlanes512 { x in terms.second(x) }) { k.output($0) }
    }
    return true
  }
  // The direct forms: both terms in int32 lanes where both can be, else both
  // in 64-bit lanes (one choice per call, none per vector).
  if let t1 = terms.t1, let t2 = terms.t2 {
    mapRows512(count, input1, input2, output, k.lo, k.hi) { x1, x2 in
      k.output(_mm512_add_epi32(t1.apply(x1), t2.apply(x2)))
    }
    return true
  }
  mapRows512(count, input1, input2, output, k.lo, k.hi) { x1, x2 in
    k.output(_mm512_add_epi32(k.term(x1, k.off1, k.r1), k.term(x2, k.off2, k.r2)))
  }
  return true
}

/// out[i] = add(x[i], value) for `count` elements, the op's other input one
/// value for the row: `inputIsSecond` says which input the row is. The
/// value's term is computed once by the same vector code; s1 + s2 is
/// wrapping int32 addition, so the operand order does not matter. False,
/// writing nothing, as cnnrtAddAVX512.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAddScalarAVX512(_ a: UnsafePointer<cnnrt_add_args>, _ count: Int, _ input: UnsafePointer<Int8>,
                                 _ inputIsSecond: Bool, _ value: Int8, _ output: UnsafeMutablePointer<Int8>) -> Bool {
  guard let k = Add512(a.pointee) else { return false }
  let (rowOffset, rowQ) = inputIsSecond ? (k.off2, k.r2) : (k.off1, k.r1)
  let (valueOffset, valueQ) = inputIsSecond ? (k.off1, k.r1) : (k.off2, k.r2)
  let s2 = k.term(_mm512_set1_epi32(Int32(value)), valueOffset, valueQ)
  mapRow512(count, input, output, k.lo, k.hi) { x in
    k.output(_mm512_add_epi32(k.term(x, rowOffset, rowQ), s2))
  }
  return true
}

/// Add where the other operand is one row repeated over the rows of
/// `input` (a per-channel [1,1,1,C] operand over [N,H,W,C]): as
/// cnnrtAddRowsAVX2 (rows of `count` elements, `stride` apart; terms[j] the
/// other input's rescaled term from cnnrtAddTermsAVX2), 64 elements per
/// block, tails under byte masks. `terms` must be readable up to count
/// rounded up to 64. False, writing nothing, as cnnrtAddAVX512.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAddRowsAVX512(_ a: UnsafePointer<cnnrt_add_args>, _ rows: Int, _ count: Int, _ stride: Int,
                               _ input: UnsafePointer<Int8>, _ inputIsSecond: Bool, _ terms: UnsafePointer<Int32>,
                               _ output: UnsafeMutablePointer<Int8>) -> Bool {
  guard let k = Add512(a.pointee) else { return false }
  let t = AddTerms512(a.pointee, k)
  let (offset, q) = inputIsSecond ? (k.off2, k.r2) : (k.off1, k.r1)
  // The term's form and the output stage's are chosen here, once per call:
  // through AddTerms512.first/second and Add512.output, each vector copied
  // the optional int32 term form (an outlined copy and memcpy calls) and
  // tested the output form, which made this kernel 3.6 times slower than
  // the AVX2 one on DenseNet121's per-channel Adds (Zen 4).
  @inline(__always) func run(_ term: (__m512i) -> __m512i) {
    @inline(__always) func rowsIn(form: Int) {
      termRows512(rows, count, stride, input, terms, output, k.lo, k.hi) { x, u in
        k.rOut.apply(_mm512_add_epi32(term(x), u), form: form)
      }
    }
    switch k.rOut.form {
    case 2: rowsIn(form: 2)
    case 1: rowsIn(form: 1)
    default: rowsIn(form: 0)
    }
  }
  if let f = inputIsSecond ? t.t2 : t.t1 {
    run { f.apply($0) }
  } else {
    run { k.term($0, offset, q) }
  }
  return true
}

/// `rows` spans of `count` elements, `stride` apart, of a one-input map whose
/// lane j also reads the int32 terms[j]: `f(x, term)` on 16 lanes, packed and
/// clamped to [lo, hi]; 64 elements per block, the tail under a byte mask.
@inline(__always)
func termRows512(_ rows: Int, _ count: Int, _ stride: Int, _ input: UnsafePointer<Int8>,
                 _ terms: UnsafePointer<Int32>, _ output: UnsafeMutablePointer<Int8>, _ lo: __m512i, _ hi: __m512i,
                 _ f: (__m512i, __m512i) -> __m512i) {
  var r = 0
  while r < rows {
    let x = input + r &* stride, o = output + r &* stride
    forEachBlock64(count) { i, mask, full in
      @inline(__always) func g(_ j: Int) -> __m512i {
        f(widen16(x + i, j, mask, full), _mm512_loadu_si512(UnsafeRawPointer(terms + (i &+ 16 &* j))))
      }
      store64(o + i, packClamp64(g(0), g(1), g(2), g(3), lo, hi), mask, full)
    }
    r &+= 1
  }
}

/// Mul's output stage: clamp(MBQM(product, M, shift) + zp_out).
struct Mul512 {
  var q: RequantLanes512             // offset included
  var lo, hi: __m512i

  /// nil when M is Int32.min or the shift is outside -31...31 (the runtime
  /// passes neither).
  @inline(__always)
  init?(_ p: cnnrt_mul_args) {
    guard UniformRequant512(p.output_multiplier, p.output_shift) != nil else { return nil }
    q = RequantLanes512(_mm512_set1_epi32(p.output_multiplier), _mm512_set1_epi32(p.output_shift),
                        offset: p.output_offset, actMin: p.act_min)
    (lo, hi) = bounds512(p.act_min, p.act_max)
  }

  /// The outputs of 16 int32 products, before the clamp.
  @inline(__always)
  func output(_ product: __m512i) -> __m512i { q.apply(product) }
}

/// Same-shape Mul of `count` elements:
///   out = clamp(MBQM((x1 + offset1) * (x2 + offset2), M, shift) + zp_out)
/// (|product| <= 383^2 for offsets in -255...255: the int32 vpmulld is
/// exact). False, writing nothing, outside Mul512's domain.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMulAVX512(_ a: UnsafePointer<cnnrt_mul_args>, _ count: Int,
                           _ input1: UnsafePointer<Int8>, _ input2: UnsafePointer<Int8>,
                           _ output: UnsafeMutablePointer<Int8>) -> Bool {
  guard let k = Mul512(a.pointee) else { return false }
  let off1 = _mm512_set1_epi32(a.pointee.input1_offset), off2 = _mm512_set1_epi32(a.pointee.input2_offset)
  mapRows512(count, input1, input2, output, k.lo, k.hi) { x1, x2 in
    k.output(_mm512_mullo_epi32(_mm512_add_epi32(x1, off1), _mm512_add_epi32(x2, off2)))
  }
  return true
}

/// Mul with the other operand one value for the row: out[i] =
/// clamp(MBQM((x[i] + inputOffset) * factor, M, shift) + zp_out), `factor`
/// the value plus its offset. The args' input offsets are not read. False
/// as cnnrtMulAVX512.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMulScalarAVX512(_ a: UnsafePointer<cnnrt_mul_args>, _ count: Int,
                                 _ input: UnsafePointer<Int8>, _ inputOffset: Int32, _ factor: Int32,
                                 _ output: UnsafeMutablePointer<Int8>) -> Bool {
  guard let k = Mul512(a.pointee) else { return false }
  let off = _mm512_set1_epi32(inputOffset), f = _mm512_set1_epi32(factor)
  mapRow512(count, input, output, k.lo, k.hi) { x in k.output(_mm512_mullo_epi32(_mm512_add_epi32(x, off), f)) }
  return true
}
/// Mul where the other operand is one row repeated over the rows of
/// `input` (an SE gate or a per-channel constant): as cnnrtMulRowsAVX2
/// (factors[j] the other operand's value plus its offset), 64 elements per
/// block, tails under byte masks. `factors` must be readable up to count
/// rounded up to 64. False, writing nothing, outside Mul512's domain.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMulRowsAVX512(_ a: UnsafePointer<cnnrt_mul_args>, _ rows: Int, _ count: Int, _ stride: Int,
                               _ input: UnsafePointer<Int8>, _ inputOffset: Int32, _ factors: UnsafePointer<Int32>,
                               _ output: UnsafeMutablePointer<Int8>) -> Bool {
  guard let k = Mul512(a.pointee) else { return false }
  let off = _mm512_set1_epi32(inputOffset)
  termRows512(rows, count, stride, input, factors, output, k.lo, k.hi) { x, f in
    k.output(_mm512_mullo_epi32(_mm512_add_epi32(x, off), f))
  }
  return true
}
#endif
