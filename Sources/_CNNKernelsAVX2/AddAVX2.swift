// AVX2 (x86-64-v3) elementwise int8 Add (same-shape inputs), bit-exact with
// addReference. Call only when the CPU has AVX2.
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
  let k = AddConstants(
    off1: _mm256_set1_epi32(p.input1_offset), off2: _mm256_set1_epi32(p.input2_offset),
    left: _mm256_set1_epi32(p.left_shift),
    m1: _mm256_set1_epi32(p.input1_multiplier), sh1: _mm256_set1_epi32(p.input1_shift),
    m2: _mm256_set1_epi32(p.input2_multiplier), sh2: _mm256_set1_epi32(p.input2_shift),
    mOut: _mm256_set1_epi32(p.output_multiplier), shOut: _mm256_set1_epi32(p.output_shift),
    outOffset: _mm256_set1_epi32(p.output_offset),
    vMin: _mm256_set1_epi32(p.act_min), vMax: _mm256_set1_epi32(p.act_max))
  var i = 0
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

struct AddConstants {
  var off1, off2, left, m1, sh1, m2, sh2, mOut, shOut, outOffset, vMin, vMax: __m256i
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
