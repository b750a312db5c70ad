// AVX2 (x86-64-v3) elementwise int8 Mul, bit-exact with mulReference
// (CNNRuntime Ops/Mul.swift, TFLM MulElementwise). Call only when the CPU
// has AVX2. Two row kernels:
//   cnnrtMulAVX2        out[i] = f(x1[i], x2[i])       (same shape; each row of
//                                                    an SE gate's [1,1,1,C] broadcast)
//   cnnrtMulScalarAVX2  out[i] = f'(x[i]) with the other operand fixed for the
//                       row (a [1,H,W,1] factor over [1,H,W,C])
// Per element, exactly as the reference:
//   p   = (x1 + offset1) * (x2 + offset2)            (|p| <= 255 * 255 < 2^16)
//   out = clamp(MultiplyByQuantizedMultiplier(p, M, shift) + zp_out)
// MultiplyByQuantizedMultiplier is the folded form of AddAVX2.swift
// (requantFoldedAVX2: both roundings in one 64-bit nudge; exact when
// |p << left| < 2^30 and the right shift is at most 30, checked per call from
// the offsets and the shift) or else the uniform form (requantUniformAVX2:
// exact for any shift in -31...31 and multiplier != Int32.min, which the
// runtime guarantees before it chooses this kernel).
// 32 elements per step (four groups of 8 int32 lanes, packed with
// saturation and clamped by add32/map32); the tail (< 32) goes through the
// same vector code on a zero-padded copy.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMulAVX2(_ a: UnsafePointer<cnnrt_mul_args>, _ count: Int,
                         _ input1: UnsafePointer<Int8>, _ input2: UnsafePointer<Int8>,
                         _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  let off1 = _mm256_set1_epi32(p.input1_offset), off2 = _mm256_set1_epi32(p.input2_offset)
  let outOffset = _mm256_set1_epi32(p.output_offset)
  let vMin = _mm256_set1_epi32(p.act_min), vMax = _mm256_set1_epi32(p.act_max)
  let bound = mulOperandBound(p.input1_offset) &* mulOperandBound(p.input2_offset)
  if mulFoldable(productBound: bound, shift: p.output_shift) {
    let q = FoldedRequant(p.output_multiplier, p.output_shift)
    mulRow(count, input1, input2, output, vMin, vMax) { x1, x2 in
      let prod = _mm256_mullo_epi32(_mm256_add_epi32(x1, off1), _mm256_add_epi32(x2, off2))
      return _mm256_add_epi32(requantFoldedAVX2(prod, q), outOffset)
    }
  } else {
    let q = UniformRequant(p.output_multiplier, p.output_shift)
    mulRow(count, input1, input2, output, vMin, vMax) { x1, x2 in
      let prod = _mm256_mullo_epi32(_mm256_add_epi32(x1, off1), _mm256_add_epi32(x2, off2))
      return _mm256_add_epi32(requantUniformAVX2(prod, q), outOffset)
    }
  }
}

/// out[i] = clamp(MBQM((x[i] + inputOffset) * factor, M, shift) + zp_out) for
/// `count` elements: Mul where the other operand is one value for the whole
/// row, `factor` = that value plus its offset (|factor| <= 255). The args'
/// input offsets are not read.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMulScalarAVX2(_ a: UnsafePointer<cnnrt_mul_args>, _ count: Int,
                               _ input: UnsafePointer<Int8>, _ inputOffset: Int32, _ factor: Int32,
                               _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  let off = _mm256_set1_epi32(inputOffset), f = _mm256_set1_epi32(factor)
  let outOffset = _mm256_set1_epi32(p.output_offset)
  let vMin = _mm256_set1_epi32(p.act_min), vMax = _mm256_set1_epi32(p.act_max)
  let bound = mulOperandBound(inputOffset) &* Int64(factor < 0 ? 0 &- factor : factor)
  if mulFoldable(productBound: bound, shift: p.output_shift) {
    let q = FoldedRequant(p.output_multiplier, p.output_shift)
    mapRow(count, input, output, vMin, vMax) { x in
      _mm256_add_epi32(requantFoldedAVX2(_mm256_mullo_epi32(_mm256_add_epi32(x, off), f), q), outOffset)
    }
  } else {
    let q = UniformRequant(p.output_multiplier, p.output_shift)
    mapRow(count, input, output, vMin, vMax) { x in
      _mm256_add_epi32(requantUniformAVX2(_mm256_mullo_epi32(_mm256_add_epi32(x, off), f), q), outOffset)
    }
  }
}

/// Mul where the other operand is one row repeated (an SE gate [1,1,1,C] or a
/// per-channel constant over [N,H,W,C]): for r < rows and j < count,
///   out[r·stride + j] = clamp(MBQM((x[r·stride + j] + inputOffset) · factors[j], M, shift) + zp_out)
/// with factors[j] the other operand's value plus its offset (|factor| <=
/// 255 + |offset|, bounded as in cnnrtMulAVX2 from the args' two offsets).
/// The whole op is one call. `factors` must be readable up to count rounded
/// up to 32 (those entries' values do not matter).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMulRowsAVX2(_ a: UnsafePointer<cnnrt_mul_args>, _ rows: Int, _ count: Int, _ stride: Int,
                             _ input: UnsafePointer<Int8>, _ inputOffset: Int32, _ factors: UnsafePointer<Int32>,
                             _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  let off = _mm256_set1_epi32(inputOffset)
  let outOffset = _mm256_set1_epi32(p.output_offset)
  let vMin = _mm256_set1_epi32(p.act_min), vMax = _mm256_set1_epi32(p.act_max)
  let bound = mulOperandBound(p.input1_offset) &* mulOperandBound(p.input2_offset)
  if mulFoldable(productBound: bound, shift: p.output_shift) {
    let q = FoldedRequant(p.output_multiplier, p.output_shift)
    termRows(rows, count, stride, input, factors, output, vMin, vMax) { x, f in
      _mm256_add_epi32(requantFoldedAVX2(_mm256_mullo_epi32(_mm256_add_epi32(x, off), f), q), outOffset)
    }
  } else {
    let q = UniformRequant(p.output_multiplier, p.output_shift)
    termRows(rows, count, stride, input, factors, output, vMin, vMax) { x, f in
      _mm256_add_epi32(requantUniformAVX2(_mm256_mullo_epi32(_mm256_add_epi32(x, off), f), q), outOffset)
    }
  }
}

/// Largest |x + offset| over int8 x.
@inline(__always)
func mulOperandBound(_ offset: Int32) -> Int64 {
  let o = Int64(offset)
  let lo = o - 128, hi = o + 127
  return max(lo < 0 ? -lo : lo, hi < 0 ? -hi : hi)
}

/// Whether the folded requantization is exact for products of magnitude at
/// most `productBound`: |p << left| < 2^30 and a right shift of at most 30.
@inline(__always)
func mulFoldable(productBound: Int64, shift: Int32) -> Bool {
  guard shift >= -30, shift <= 30, productBound >= 0, productBound < (1 << 30) else { return false }
  return productBound << Int64(shift > 0 ? shift : 0) < (1 << 30)
}

/// Two-input row: 32 elements per step through `add32` (AddAVX2.swift:
/// widen 4 × 8 lanes, apply `f`, pack and clamp); the tail on zero-padded copies.
@inline(__always)
func mulRow(_ count: Int, _ input1: UnsafePointer<Int8>, _ input2: UnsafePointer<Int8>,
            _ output: UnsafeMutablePointer<Int8>, _ vMin: __m256i, _ vMax: __m256i,
            _ f: (__m256i, __m256i) -> __m256i) {
  var i = 0
  while i &+ 32 <= count {
    _mm256_storeu_si256(UnsafeMutableRawPointer(output + i).assumingMemoryBound(to: __m256i.self),
                        add32(UnsafeRawPointer(input1 + i), UnsafeRawPointer(input2 + i), vMin: vMin, vMax: vMax, f))
    i &+= 32
  }
  let rest = count &- i
  if rest > 0 {
    var b1 = _mm256_setzero_si256(), b2 = _mm256_setzero_si256()
    copyIn(&b1, input1 + i, rest)
    copyIn(&b2, input2 + i, rest)
    let r = withUnsafeBytes(of: b1) { s1 in
      withUnsafeBytes(of: b2) { s2 in add32(s1.baseAddress!, s2.baseAddress!, vMin: vMin, vMax: vMax, f) }
    }
    copyOut(r, output + i, rest)
  }
}

/// One-input row: as mulRow with `map32`.
@inline(__always)
func mapRow(_ count: Int, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>,
            _ vMin: __m256i, _ vMax: __m256i, _ f: (__m256i) -> __m256i) {
  var i = 0
  while i &+ 32 <= count {
    _mm256_storeu_si256(UnsafeMutableRawPointer(output + i).assumingMemoryBound(to: __m256i.self),
                        map32(UnsafeRawPointer(input + i), vMin: vMin, vMax: vMax, f))
    i &+= 32
  }
  let rest = count &- i
  if rest > 0 {
    var b = _mm256_setzero_si256()
    copyIn(&b, input + i, rest)
    let r = withUnsafeBytes(of: b) { s in map32(s.baseAddress!, vMin: vMin, vMax: vMax, f) }
    copyOut(r, output + i, rest)
  }
}

@inline(__always)
func copyIn(_ v: inout __m256i, _ src: UnsafePointer<Int8>, _ n: Int) {
  withUnsafeMutableBytes(of: &v) { d in
    var j = 0
    while j < n { d[j] = UInt8(bitPattern: src[j]); j &+= 1 }
  }
}

@inline(__always)
func copyOut(_ v: __m256i, _ dst: UnsafeMutablePointer<Int8>, _ n: Int) {
  withUnsafeBytes(of: v) { s in
    var j = 0
    while j < n { dst[j] = Int8(bitPattern: s[j]); j &+= 1 }
  }
}

/// 32 int8 outputs of a one-input elementwise map: widens 4 × 8 lanes to
/// int32, applies `f`, packs with saturation and clamps to [vMin, vMax]
/// (exact: the bounds are int8).
@inline(__always)
func map32(_ p: UnsafeRawPointer, vMin: __m256i, vMax: __m256i, _ f: (__m256i) -> __m256i) -> __m256i {
  @inline(__always) func load8(_ o: Int) -> __m256i {
    _mm256_cvtepi8_epi32(_mm_loadl_epi64((p + o).assumingMemoryBound(to: __m128i.self)))
  }
  return packClamp32(f(load8(0)), f(load8(8)), f(load8(16)), f(load8(24)), vMin: vMin, vMax: vMax)
}
#endif
