// AVX2 (x86-64-v3) elementwise int8 Add, bit-exact with addReference and
// addBroadcastReference. Call only when the CPU has AVX2. Two row kernels:
//   cnnrtAddAVX2        out[i] = add(x1[i], x2[i])   (same shape; each row of a
//                                                  per-channel [1,1,1,C] broadcast)
//   cnnrtAddScalarAVX2  out[i] = add(x[i], v) with the other operand one value
//                       for the row (a scalar; a [1,H,W,1] factor over [1,H,W,C])
//
// Per element, exactly as the reference (TFLM AddElementwise):
//   a_i = (x_i + offset_i) << left_shift           (wrapping, as &<<)
//   s_i = MultiplyByQuantizedMultiplier(a_i, M_i, shift_i)
//   out = MultiplyByQuantizedMultiplier(s_1 + s_2, M_out, shift_out) + zp_out,
//         clamped to [act_min, act_max]
// MultiplyByQuantizedMultiplier is requantizeAVX2 (ConvAVX2.swift): the
// saturating rounding doubling high multiply from the exact 64-bit products
// (_mm256_mul_epi32 on even and odd lanes, Int32.min * Int32.min saturated)
// and RoundingDivideByPOT with the gemmlowp remainder/threshold rule.
// 32 elements per step (four groups of 8 int32 lanes); the tail (< 32) goes
// through the same vector code on a zero-padded copy.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAddAVX2(_ a: UnsafePointer<cnnrt_add_args>, _ count: Int,
                         _ input1: UnsafePointer<Int8>, _ input2: UnsafePointer<Int8>,
                         _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  let k = AddConstants(p)
  var i = 0
  // Every stage's input bounded below 2^30 (checked here in int64 from the
  // offsets and shifts): the folded requantization (RequantAVX2.swift's
  // derivation, one multiplier for all lanes) is exact and cheapest.
  if let folded = foldedAddConstants(p, k) {
    while i &+ 32 <= count {
      _mm256_storeu_si256(UnsafeMutableRawPointer(output + i).assumingMemoryBound(to: __m256i.self),
                          add32Folded(UnsafeRawPointer(input1 + i), UnsafeRawPointer(input2 + i), folded))
      i &+= 32
    }
  }
  // Multipliers other than Int32.min (always so for QuantizeMultiplier's
  // [0, 2^31)): the doubling high multiply cannot saturate, so the cheaper
  // uniform requantization (requantUniformAVX2) is exact.
  if let f = uniformAddConstants(p, k) {
    while i &+ 32 <= count {
      _mm256_storeu_si256(UnsafeMutableRawPointer(output + i).assumingMemoryBound(to: __m256i.self),
                          add32Fast(UnsafeRawPointer(input1 + i), UnsafeRawPointer(input2 + i), f))
      i &+= 32
    }
  }
  while i &+ 32 <= count {
    _mm256_storeu_si256(UnsafeMutableRawPointer(output + i).assumingMemoryBound(to: __m256i.self),
                        add32(UnsafeRawPointer(input1 + i), UnsafeRawPointer(input2 + i), k))
    i &+= 32
  }
  let rest = count &- i
  if rest > 0 {
    var b1 = _mm256_setzero_si256(), b2 = _mm256_setzero_si256()
    withUnsafeMutableBytes(of: &b1) { d in
      var j = 0
      while j < rest { d[j] = UInt8(bitPattern: input1[i &+ j]); j &+= 1 }
    }
    withUnsafeMutableBytes(of: &b2) { d in
      var j = 0
      while j < rest { d[j] = UInt8(bitPattern: input2[i &+ j]); j &+= 1 }
    }
    let r = withUnsafeBytes(of: b1) { s1 in
      withUnsafeBytes(of: b2) { s2 in add32(s1.baseAddress!, s2.baseAddress!, k) }
    }
    withUnsafeBytes(of: r) { s in
      var j = 0
      while j < rest { output[i &+ j] = Int8(bitPattern: s[j]); j &+= 1 }
    }
  }
}

/// out[i] = add(x[i], value) for `count` elements, where the op's other
/// input is one value for the whole row: `inputIsSecond` says which input
/// the row is (its offset, multiplier and shift; `value` is the other's).
/// The value's rescaled term MBQM((value + offset) << left_shift, M, shift)
/// is computed once, by the same vector code as in cnnrtAddAVX2 (so the same
/// bits), then added to each element's term as there (s1 + s2 is wrapping
/// int32 addition: the order of the operands does not matter).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAddScalarAVX2(_ a: UnsafePointer<cnnrt_add_args>, _ count: Int, _ input: UnsafePointer<Int8>,
                               _ inputIsSecond: Bool, _ value: Int8, _ output: UnsafeMutablePointer<Int8>) {
  var p = a.pointee
  if inputIsSecond { swapAddInputs(&p) }
  let k = AddConstants(p)
  let x2 = _mm256_set1_epi32(Int32(value))
  if let f = foldedAddConstants(p, k) {
    let s2 = requantFoldedAVX2(_mm256_sllv_epi32(_mm256_add_epi32(x2, f.off2), f.left), f.r2)
    mapRow(count, input, output, f.vMin, f.vMax) { x1 in
      let s = _mm256_add_epi32(requantFoldedAVX2(_mm256_sllv_epi32(_mm256_add_epi32(x1, f.off1), f.left), f.r1), s2)
      return _mm256_add_epi32(requantFoldedAVX2(s, f.rOut), f.outOffset)
    }
  } else if let f = uniformAddConstants(p, k) {
    let s2 = requantUniformAVX2(_mm256_sllv_epi32(_mm256_add_epi32(x2, f.off2), f.left), f.r2)
    mapRow(count, input, output, f.vMin, f.vMax) { x1 in
      let s = _mm256_add_epi32(requantUniformAVX2(_mm256_sllv_epi32(_mm256_add_epi32(x1, f.off1), f.left), f.r1), s2)
      return _mm256_add_epi32(requantUniformAVX2(s, f.rOut), f.outOffset)
    }
  } else {
    mapRow(count, input, output, k.vMin, k.vMax) { x1 in add8(x1, x2, k) }
  }
}

/// The rescaled terms of one operand, terms[j] = MBQM((values[j] + offset) <<
/// left_shift, M, shift) for j < count, with the offset, multiplier and shift
/// of input 2 (`second`) or input 1: the s_i of the reference's arithmetic,
/// for an operand that is one row repeated over the other input's rows
/// (cnnrtAddRowsAVX2). Writes count rounded up to 8 entries (the lanes past
/// count from zero values).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAddTermsAVX2(_ a: UnsafePointer<cnnrt_add_args>, _ values: UnsafePointer<Int8>, _ count: Int,
                              _ second: Bool, _ terms: UnsafeMutablePointer<Int32>) {
  var p = a.pointee
  if second { swapAddInputs(&p) }
  let k = AddConstants(p)
  let folded = foldedAddConstants(p, k), uniform = uniformAddConstants(p, k)
  var i = 0
  while i < count {
    var b = _mm256_setzero_si256()
    copyIn(&b, values + i, min(8, count &- i))
    let x = _mm256_sllv_epi32(_mm256_add_epi32(_mm256_cvtepi8_epi32(_mm256_castsi256_si128(b)), k.off1), k.left)
    let t: __m256i
    if let f = folded {
      t = requantFoldedAVX2(x, f.r1)
    } else if let f = uniform {
      t = requantUniformAVX2(x, f.r1)
    } else {
      t = requantizeAVX2(x, k.m1, k.sh1)
    }
    _mm256_storeu_si256(UnsafeMutableRawPointer(terms + i).assumingMemoryBound(to: __m256i.self), t)
    i &+= 8
  }
}

/// Add where the other operand is one row repeated (a per-channel [1,1,1,C]
/// constant over [N,H,W,C]): for r < rows and j < count,
///   out[r·stride + j] = clamp(MBQM(s(x[r·stride + j]) + terms[j], M_out, shift_out) + zp_out)
/// with s the rescaling of `input` (input 2 if `inputIsSecond`, else input 1)
/// and terms from cnnrtAddTermsAVX2 for the other input. Each element
/// costs two requantizations instead of three, and the whole op is one call.
/// `terms` must be readable up to count rounded up to 32 (those entries'
/// values do not matter).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAddRowsAVX2(_ a: UnsafePointer<cnnrt_add_args>, _ rows: Int, _ count: Int, _ stride: Int,
                             _ input: UnsafePointer<Int8>, _ inputIsSecond: Bool, _ terms: UnsafePointer<Int32>,
                             _ output: UnsafeMutablePointer<Int8>) {
  var p = a.pointee
  if inputIsSecond { swapAddInputs(&p) }
  let k = AddConstants(p)
  if let f = foldedAddConstants(p, k) {
    termRows(rows, count, stride, input, terms, output, f.vMin, f.vMax) { x, t in
      let s = _mm256_add_epi32(requantFoldedAVX2(_mm256_sllv_epi32(_mm256_add_epi32(x, f.off1), f.left), f.r1), t)
      return _mm256_add_epi32(requantFoldedAVX2(s, f.rOut), f.outOffset)
    }
  } else if let f = uniformAddConstants(p, k) {
    termRows(rows, count, stride, input, terms, output, f.vMin, f.vMax) { x, t in
      let s = _mm256_add_epi32(requantUniformAVX2(_mm256_sllv_epi32(_mm256_add_epi32(x, f.off1), f.left), f.r1), t)
      return _mm256_add_epi32(requantUniformAVX2(s, f.rOut), f.outOffset)
    }
  } else {
    termRows(rows, count, stride, input, terms, output, k.vMin, k.vMax) { x, t in
      let s = _mm256_add_epi32(requantizeAVX2(_mm256_sllv_epi32(_mm256_add_epi32(x, k.off1), k.left), k.m1, k.sh1), t)
      return _mm256_add_epi32(requantizeAVX2(s, k.mOut, k.shOut), k.outOffset)
    }
  }
}

/// The same op with its inputs exchanged (the output stage is symmetric).
@inline(__always)
func swapAddInputs(_ p: inout cnnrt_add_args) {
  swap(&p.input1_offset, &p.input2_offset)
  swap(&p.input1_multiplier, &p.input2_multiplier)
  swap(&p.input1_shift, &p.input2_shift)
}

/// `rows` spans of `count` elements, `stride` apart, of a one-input map whose
/// lane j also reads terms[j]: 32 elements per step through terms32, the
/// tail of each span on a zero-padded copy.
@inline(__always)
func termRows(_ rows: Int, _ count: Int, _ stride: Int, _ input: UnsafePointer<Int8>, _ terms: UnsafePointer<Int32>,
              _ output: UnsafeMutablePointer<Int8>, _ vMin: __m256i, _ vMax: __m256i,
              _ f: (__m256i, __m256i) -> __m256i) {
  var r = 0
  while r < rows {
    let x = input + r &* stride, o = output + r &* stride
    var i = 0
    while i &+ 32 <= count {
      _mm256_storeu_si256(UnsafeMutableRawPointer(o + i).assumingMemoryBound(to: __m256i.self),
                          terms32(UnsafeRawPointer(x + i), terms + i, vMin: vMin, vMax: vMax, f))
      i &+= 32
    }
    let rest = count &- i
    if rest > 0 {
      var b = _mm256_setzero_si256()
      copyIn(&b, x + i, rest)
      let v = withUnsafeBytes(of: b) { s in terms32(s.baseAddress!, terms + i, vMin: vMin, vMax: vMax, f) }
      copyOut(v, o + i, rest)
    }
    r &+= 1
  }
}

/// 32 int8 outputs from 32 int8 inputs and 32 int32 terms: widens 4 × 8
/// lanes, applies `f(x, term)`, packs and clamps as map32.
@inline(__always)
func terms32(_ p: UnsafeRawPointer, _ t: UnsafePointer<Int32>, vMin: __m256i, vMax: __m256i,
             _ f: (__m256i, __m256i) -> __m256i) -> __m256i {
  @inline(__always) func load8(_ o: Int) -> __m256i {
    _mm256_cvtepi8_epi32(_mm_loadl_epi64((p + o).assumingMemoryBound(to: __m128i.self)))
  }
  @inline(__always) func term8(_ o: Int) -> __m256i {
    _mm256_loadu_si256(UnsafeRawPointer(t + o).assumingMemoryBound(to: __m256i.self))
  }
  return packClamp32(f(load8(0), term8(0)), f(load8(8), term8(8)), f(load8(16), term8(16)), f(load8(24), term8(24)),
                     vMin: vMin, vMax: vMax)
}

struct AddConstants {
  var off1, off2, left, m1, sh1, m2, sh2, mOut, shOut, outOffset, vMin, vMax: __m256i

  @inline(__always)
  init(_ p: cnnrt_add_args) {
    off1 = _mm256_set1_epi32(p.input1_offset); off2 = _mm256_set1_epi32(p.input2_offset)
    left = _mm256_set1_epi32(p.left_shift)
    m1 = _mm256_set1_epi32(p.input1_multiplier); sh1 = _mm256_set1_epi32(p.input1_shift)
    m2 = _mm256_set1_epi32(p.input2_multiplier); sh2 = _mm256_set1_epi32(p.input2_shift)
    mOut = _mm256_set1_epi32(p.output_multiplier); shOut = _mm256_set1_epi32(p.output_shift)
    outOffset = _mm256_set1_epi32(p.output_offset)
    vMin = _mm256_set1_epi32(p.act_min); vMax = _mm256_set1_epi32(p.act_max)
  }
}

/// The uniform-requantization constants, or nil when some multiplier is
/// Int32.min (the doubling high multiply could saturate) or a shift lies
/// outside -31...31: then only the general add8 is exact.
@inline(__always)
func uniformAddConstants(_ p: cnnrt_add_args, _ k: AddConstants) -> AddFastConstants? {
  guard p.input1_multiplier != Int32.min && p.input2_multiplier != Int32.min && p.output_multiplier != Int32.min
     && p.input1_shift >= -31 && p.input1_shift <= 31 && p.input2_shift >= -31 && p.input2_shift <= 31
     && p.output_shift >= -31 && p.output_shift <= 31 else { return nil }
  return AddFastConstants(
    off1: k.off1, off2: k.off2, left: k.left,
    r1: UniformRequant(p.input1_multiplier, p.input1_shift), r2: UniformRequant(p.input2_multiplier, p.input2_shift),
    rOut: UniformRequant(p.output_multiplier, p.output_shift),
    outOffset: k.outOffset, vMin: k.vMin, vMax: k.vMax)
}

/// 32 int8 outputs from 32 + 32 int8 inputs (unaligned reads of 32 bytes each).
@inline(__always)
func add32(_ p1: UnsafeRawPointer, _ p2: UnsafeRawPointer, _ k: AddConstants) -> __m256i {
  @inline(__always) func load8(_ p: UnsafeRawPointer, _ o: Int) -> __m256i {
    _mm256_cvtepi8_epi32(_mm_loadl_epi64((p + o).assumingMemoryBound(to: __m128i.self)))
  }
  let g0 = add8(load8(p1, 0), load8(p2, 0), k)
  let g1 = add8(load8(p1, 8), load8(p2, 8), k)
  let g2 = add8(load8(p1, 16), load8(p2, 16), k)
  let g3 = add8(load8(p1, 24), load8(p2, 24), k)
  // Values are within int8 (clamp bounds checked by the runtime), so the
  // saturating packs are exact. Per 128-bit lane the packs give
  // [g0 g1 g2 g3](low 4 of each) | [g0 g1 g2 g3](high 4); reorder dwords.
  let p16a = _mm256_packs_epi32(g0, g1)
  let p16b = _mm256_packs_epi32(g2, g3)
  let p8 = _mm256_packs_epi16(p16a, p16b)
  return _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
}

/// MultiplyByQuantizedMultiplier constants for one multiplier and shift
/// (shift in -31...31, multiplier not Int32.min), as in requantTableAVX2.
struct UniformRequant {
  var m, left, right, mask, half: __m256i
  @inline(__always)
  init(_ multiplier: Int32, _ shift: Int32) {
    let r: Int32 = shift < 0 ? 0 &- shift : 0
    let maskValue = (Int32(1) &<< r) &- 1
    m = _mm256_set1_epi32(multiplier)
    left = _mm256_set1_epi32(shift > 0 ? shift : 0)
    right = _mm256_set1_epi32(r)
    mask = _mm256_set1_epi32(maskValue)
    half = _mm256_set1_epi32(maskValue >> 1)
  }
}

/// requantTableAVX2 with one multiplier and shift for all lanes (see
/// RequantAVX2.swift for the derivation); exact when the multiplier is not Int32.min.
@inline(__always)
func requantUniformAVX2(_ acc: __m256i, _ q: UniformRequant) -> __m256i {
  let x = _mm256_sllv_epi32(acc, q.left)
  let nudge = _mm256_set1_epi64x(1 << 30)
  let pe = _mm256_add_epi64(_mm256_mul_epi32(x, q.m), nudge)
  let po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), q.m), nudge)
  let h = _mm256_blendv_epi8(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1),
                             _mm256_set1_epi64x(Int64(bitPattern: 0xFFFF_FFFF_0000_0000)))
  let threshold = _mm256_sub_epi32(q.half, _mm256_srai_epi32(h, 31))
  return _mm256_sub_epi32(_mm256_srav_epi32(h, q.right), _mm256_cmpgt_epi32(_mm256_and_si256(h, q.mask), threshold))
}

/// MultiplyByQuantizedMultiplier with one multiplier and shift for all
/// lanes, both roundings folded into the 64-bit nudge (see RequantAVX2.swift):
/// exact when |x << left| < 2^30 and the right shift is at most 30.
struct FoldedRequant {
  var m, left, right, nudge, negThreshold: __m256i
  var hasLeft: Bool
  @inline(__always)
  init(_ multiplier: Int32, _ shift: Int32) {
    let r: Int32 = shift < 0 ? 0 &- shift : 0
    let half: Int32 = r > 0 ? Int32(1) &<< (r &- 1) : 0
    m = _mm256_set1_epi32(multiplier)
    left = _mm256_set1_epi32(shift > 0 ? shift : 0)
    hasLeft = shift > 0
    right = _mm256_set1_epi32(r)
    nudge = _mm256_set1_epi64x((Int64(1) << 30) &+ Int64(half) &<< 31)
    negThreshold = _mm256_set1_epi32(r > 0 ? half : Int32.min)
  }
}

@inline(__always)
func requantFoldedAVX2(_ acc: __m256i, _ q: FoldedRequant) -> __m256i {
  let x = q.hasLeft ? _mm256_sllv_epi32(acc, q.left) : acc
  let pe = _mm256_add_epi64(_mm256_mul_epi32(x, q.m), q.nudge)
  let po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), q.m), q.nudge)
  let h = _mm256_blendv_epi8(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1),
                             _mm256_set1_epi64x(Int64(bitPattern: 0xFFFF_FFFF_0000_0000)))
  return _mm256_srav_epi32(_mm256_add_epi32(h, _mm256_cmpgt_epi32(q.negThreshold, h)), q.right)
}

struct AddFoldedConstants {
  var off1, off2, left: __m256i
  var r1, r2, rOut: FoldedRequant
  var outOffset, vMin, vMax: __m256i
}

/// The folded constants, or nil when some stage's input may reach 2^30 or a
/// right shift exceeds 30. Bounds: |x_i + offset_i| <= V_i; stage i sees
/// V_i << (left_shift + left_i); its result is at most (that >> right_i) + 2;
/// the output stage sees the sum of both, << its left shift.
@inline(__always)
func foldedAddConstants(_ p: cnnrt_add_args, _ k: AddConstants) -> AddFoldedConstants? {
  let limit = Int64(1) << 30
  let ls = Int64(p.left_shift)
  guard ls >= 0, ls <= 30 else { return nil }
  @inline(__always) func stage(_ offset: Int32, _ shift: Int32) -> Int64? {
    if shift < -30 || shift > 30 { return nil }
    let o = Int64(offset)
    let v = max(abs(o - 128), abs(o + 127))
    let l = ls + Int64(shift > 0 ? shift : 0)
    if l > 30 { return nil }
    let x = v << l
    if x >= limit { return nil }
    return (x >> Int64(shift < 0 ? -shift : 0)) + 2
  }
  guard let b1 = stage(p.input1_offset, p.input1_shift), let b2 = stage(p.input2_offset, p.input2_shift),
        p.output_shift >= -30, p.output_shift <= 30 else { return nil }
  let outLeft = Int64(p.output_shift > 0 ? p.output_shift : 0)
  guard (b1 + b2) << outLeft < limit else { return nil }
  return AddFoldedConstants(
    off1: k.off1, off2: k.off2, left: k.left,
    r1: FoldedRequant(p.input1_multiplier, p.input1_shift), r2: FoldedRequant(p.input2_multiplier, p.input2_shift),
    rOut: FoldedRequant(p.output_multiplier, p.output_shift),
    outOffset: k.outOffset, vMin: k.vMin, vMax: k.vMax)
}

/// 32 int8 outputs of an elementwise add: widens 4 × 8 lanes of each input
/// to int32, applies `add8` (offsets, shifts, requantization), then packs
/// with saturation and clamps to [vMin, vMax] (exact: the bounds are int8).
@inline(__always)
func add32(_ p1: UnsafeRawPointer, _ p2: UnsafeRawPointer, vMin: __m256i, vMax: __m256i,
           _ add8: (__m256i, __m256i) -> __m256i) -> __m256i {
  @inline(__always) func load8(_ p: UnsafeRawPointer, _ o: Int) -> __m256i {
    _mm256_cvtepi8_epi32(_mm_loadl_epi64((p + o).assumingMemoryBound(to: __m128i.self)))
  }
  return packClamp32(add8(load8(p1, 0), load8(p2, 0)), add8(load8(p1, 8), load8(p2, 8)),
                     add8(load8(p1, 16), load8(p2, 16)), add8(load8(p1, 24), load8(p2, 24)), vMin: vMin, vMax: vMax)
}

/// Four groups of 8 int32 lanes (in element order) as 32 int8, clamped to
/// [vMin, vMax]: packed with saturation (exact, the bounds are int8).
@inline(__always)
func packClamp32(_ g0: __m256i, _ g1: __m256i, _ g2: __m256i, _ g3: __m256i,
                 vMin: __m256i, vMax: __m256i) -> __m256i {
  let lo = _mm256_packs_epi32(g0, g1), hi = _mm256_packs_epi32(g2, g3)
  let min16 = _mm256_packs_epi32(vMin, vMin), max16 = _mm256_packs_epi32(vMax, vMax)
  let p8 = _mm256_packs_epi16(_mm256_min_epi16(_mm256_max_epi16(lo, min16), max16),
                              _mm256_min_epi16(_mm256_max_epi16(hi, min16), max16))
  return _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
}

@inline(__always)
func add32Folded(_ p1: UnsafeRawPointer, _ p2: UnsafeRawPointer, _ k: AddFoldedConstants) -> __m256i {
  add32(p1, p2, vMin: k.vMin, vMax: k.vMax) { x1, x2 in
    let a1 = _mm256_sllv_epi32(_mm256_add_epi32(x1, k.off1), k.left)
    let a2 = _mm256_sllv_epi32(_mm256_add_epi32(x2, k.off2), k.left)
    let s = _mm256_add_epi32(requantFoldedAVX2(a1, k.r1), requantFoldedAVX2(a2, k.r2))
    return _mm256_add_epi32(requantFoldedAVX2(s, k.rOut), k.outOffset)
  }
}

struct AddFastConstants {
  var off1, off2, left: __m256i
  var r1, r2, rOut: UniformRequant
  var outOffset, vMin, vMax: __m256i
}

@inline(__always)
func add32Fast(_ p1: UnsafeRawPointer, _ p2: UnsafeRawPointer, _ k: AddFastConstants) -> __m256i {
  add32(p1, p2, vMin: k.vMin, vMax: k.vMax) { x1, x2 in
    let a1 = _mm256_sllv_epi32(_mm256_add_epi32(x1, k.off1), k.left)
    let a2 = _mm256_sllv_epi32(_mm256_add_epi32(x2, k.off2), k.left)
    let s = _mm256_add_epi32(requantUniformAVX2(a1, k.r1), requantUniformAVX2(a2, k.r2))
    return _mm256_add_epi32(requantUniformAVX2(s, k.rOut), k.outOffset)
  }
}

/// 8 lanes of the reference's per-element arithmetic (int32 in, clamped int32 out).
@inline(__always)
func add8(_ x1: __m256i, _ x2: __m256i, _ k: AddConstants) -> __m256i {
  let a1 = _mm256_sllv_epi32(_mm256_add_epi32(x1, k.off1), k.left)
  let a2 = _mm256_sllv_epi32(_mm256_add_epi32(x2, k.off2), k.left)
  let s = _mm256_add_epi32(requantizeAVX2(a1, k.m1, k.sh1), requantizeAVX2(a2, k.m2, k.sh2))
  var v = _mm256_add_epi32(requantizeAVX2(s, k.mOut, k.shOut), k.outOffset)
  v = _mm256_max_epi32(v, k.vMin)
  return _mm256_min_epi32(v, k.vMax)
}
#endif
