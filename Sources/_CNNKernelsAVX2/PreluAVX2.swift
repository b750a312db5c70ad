// AVX2 (x86-64-v3) int8 PReLU, bit-exact with preluReference (CNNRuntime
// Ops/Prelu.swift, TFLM's PRELU). Call only when the CPU has AVX2.
//
// Per element, as the reference, with d = x − zp_in:
//   d >= 0: MultiplyByQuantizedMultiplier(d, M_1, s_1)
//   d <  0: MultiplyByQuantizedMultiplier(d × (a − zp_a), M_2, s_2)
// + zp_out, saturated to int8. Both branches are computed on 8 int32 lanes
// and blended by the sign of d (the unused branch's lanes are discarded).
// |d| <= 255 and |d × (a − zp_a)| <= 255², so the requantization is the
// folded form (requantFoldedAVX2, both roundings in one 64-bit nudge) when
// that is exact for both bounds and shifts (mulFoldable), else the uniform
// form (exact for shifts in −31...31 and multipliers other than Int32.min,
// which QuantizeMultiplier never gives). 32 elements per step (mulRow); a
// tail on zero-padded copies.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

/// PReLU of `count` elements: element i reads alpha[i mod alphaCount]
/// (`alpha` holds whole periods of the op's alpha, so that the last, shorter
/// run reads its alpha from the start too).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtPreluAVX2(_ input: UnsafePointer<Int8>, _ count: Int, _ alpha: UnsafePointer<Int8>,
                           _ alphaCount: Int, _ inputZeroPoint: Int32, _ alphaZeroPoint: Int32,
                           _ outputZeroPoint: Int32, _ identityMultiplier: Int32, _ identityShift: Int32,
                           _ alphaMultiplier: Int32, _ alphaShift: Int32, _ output: UnsafeMutablePointer<Int8>) {
  guard count > 0, alphaCount > 0 else { return }
  let dBound = mulOperandBound(0 &- inputZeroPoint)
  if mulFoldable(productBound: dBound, shift: identityShift)
    && mulFoldable(productBound: dBound &* mulOperandBound(0 &- alphaZeroPoint), shift: alphaShift) {
    preluRunsAVX2(input, count, alpha, alphaCount, inputZeroPoint, alphaZeroPoint, outputZeroPoint,
                  FoldedRequant(identityMultiplier, identityShift), FoldedRequant(alphaMultiplier, alphaShift), output)
  } else {
    preluRunsAVX2(input, count, alpha, alphaCount, inputZeroPoint, alphaZeroPoint, outputZeroPoint,
                  UniformRequant(identityMultiplier, identityShift), UniformRequant(alphaMultiplier, alphaShift),
                  output)
  }
}

/// MultiplyByQuantizedMultiplier on 8 lanes in one of the two forms of
/// AddAVX2.swift.
protocol LaneRequantAVX2 {
  func apply(_ x: __m256i) -> __m256i
}

extension FoldedRequant: LaneRequantAVX2 {
  @inline(__always) func apply(_ x: __m256i) -> __m256i { requantFoldedAVX2(x, self) }
}

extension UniformRequant: LaneRequantAVX2 {
  @inline(__always) func apply(_ x: __m256i) -> __m256i { requantUniformAVX2(x, self) }
}

/// The runs of cnnrtPreluAVX2 with the requantization form R.
@inline(__always)
func preluRunsAVX2<R: LaneRequantAVX2>(_ input: UnsafePointer<Int8>, _ count: Int, _ alpha: UnsafePointer<Int8>,
                                       _ alphaCount: Int, _ inputZeroPoint: Int32, _ alphaZeroPoint: Int32,
                                       _ outputZeroPoint: Int32, _ q1: R, _ q2: R,
                                       _ output: UnsafeMutablePointer<Int8>) {
  let zpIn = _mm256_set1_epi32(inputZeroPoint), zpA = _mm256_set1_epi32(alphaZeroPoint)
  let outOffset = _mm256_set1_epi32(outputZeroPoint)
  let vMin = _mm256_set1_epi32(-128), vMax = _mm256_set1_epi32(127)
  let zero = _mm256_setzero_si256()
  var i = 0
  while i < count {
    mulRow(min(alphaCount, count &- i), input + i, alpha, output + i, vMin, vMax) { x, a in
      let d = _mm256_sub_epi32(x, zpIn)
      let pos = q1.apply(d)
      let neg = q2.apply(_mm256_mullo_epi32(d, _mm256_sub_epi32(a, zpA)))
      return _mm256_add_epi32(_mm256_blendv_epi8(pos, neg, _mm256_cmpgt_epi32(zero, d)), outOffset)
    }
    i &+= alphaCount
  }
}
#endif
