// AVX-512 MaxPool2D and AveragePool2D, bit-exact with maxPool2DReference
// and averagePool2DReference. Call only when the CPU has AVX-512 (F, BW).
// Per output pixel, 64 channels at a time over the window clipped to the
// input; the channel tail (< 64) uses masked loads and a masked store.
//
// MaxPool2D: the signed byte maximum (vpmaxsb) of every in-bounds tap,
// starting from -128, then the activation clamp (max with act_min, min with
// act_max, in the reference's order).
//
// AveragePool2D: each tap's 64 bytes are sign-extended into four vectors of
// 16 int32 sums (exact: |sum| <= 128 n). The reference's rounding division
// (s > 0 ? (s + n/2) / n : (s - n/2) / n, C division, n the window's tap
// count; s unchanged when n = 0) is a = s + (s < 0 ? -n/2 : n/2) (for s = 0
// both give 0: n/2 < n), then trunc(a / n) in float32, exact while n <=
// 2^16: |a| <= 128.5 n < 2^24 and n convert exactly; a/n = k + f, |k| <= 128.
// If f = 0 the quotient is exact. Else the true quotient lies at least 1/n
// >= 2^-16 inside (k, k+1) (for a >= 0; mirror for a < 0), the correctly
// rounded quotient cannot pass the representable k or k+1, and it reaches
// k+1 only within half an ulp of it, at most 2^-17 below 256: so vcvttps2dq
// gives k. Larger windows run the AVX2 kernel (the function returns false).
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

/// Calls `body(out, first, rows, cols)` for every output pixel of the pool
/// `p` in output order: `out` its C outputs, `first` the input at its first
/// in-bounds tap (channel 0), `rows` x `cols` in-bounds taps (the next row
/// in_w * C elements on, the next tap C on).
@inline(__always)
func forEachPoolWindow512(_ p: cnnrt_pool_args, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>,
                          _ body: (UnsafeMutablePointer<Int8>, UnsafePointer<Int8>, Int, Int) -> Void) {
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), C = Int(p.channels)
  let outH = Int(p.out_h), outW = Int(p.out_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w), fH = Int(p.filter_h), fW = Int(p.filter_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  var out = output
  for b in 0..<batches {
    for oy in 0..<outH {
      let y0 = oy &* strideH &- padTop
      let fy0 = max(0, 0 &- y0), fy1 = max(fy0, min(fH, inH &- y0))
      for ox in 0..<outW {
        let x0 = ox &* strideW &- padLeft
        let fx0 = max(0, 0 &- x0), fx1 = max(fx0, min(fW, inW &- x0))
        let pixel = (b &* inH &+ y0 &+ fy0) &* inW &+ x0 &+ fx0
        body(out, input + pixel &* C, fy1 &- fy0, fx1 &- fx0)
        out += C
      }
    }
  }
}

/// Calls `f` with the input at each in-bounds tap of a window whose first
/// tap is at `first`: `rows` x `cols` taps, `rowStep` elements from row to
/// row, `step` from tap to tap.
@inline(__always)
func forEachTap512(_ first: UnsafePointer<Int8>, _ rows: Int, _ cols: Int, _ rowStep: Int, _ step: Int,
                   _ f: (UnsafePointer<Int8>) -> Void) {
  var row = first
  var fy = 0
  while fy < rows {
    var q = row
    var fx = 0
    while fx < cols {
      f(q)
      q += step
      fx &+= 1
    }
    row += rowStep
    fy &+= 1
  }
}

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMaxPoolAVX512(_ a: UnsafePointer<cnnrt_pool_args>, _ input: UnsafePointer<Int8>,
                               _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  let C = Int(p.channels), rowStep = Int(p.in_w) &* C
  let (lo, hi) = bounds512(p.act_min, p.act_max)
  let lowest = _mm512_set1_epi8(-128)
  forEachPoolWindow512(p, input, output) { out, first, rows, cols in
    forEachBlock64(C) { c, mask, full in
      var m = lowest
      forEachTap512(first + c, rows, cols, rowStep, C) { q in
        m = _mm512_max_epi8(m, load64(q, mask, full))
      }
      store64(out + c, _mm512_min_epi8(_mm512_max_epi8(m, lo), hi), mask, full)
    }
  }
}

/// False, writing nothing, when a window can exceed 2^16 taps (see above)
/// or an activation bound is not an int8 value.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAveragePoolAVX512(_ a: UnsafePointer<cnnrt_pool_args>, _ input: UnsafePointer<Int8>,
                                   _ output: UnsafeMutablePointer<Int8>) -> Bool {
  let p = a.pointee
  guard p.filter_h > 0, p.filter_w > 0, p.filter_h <= 1 << 16, p.filter_w <= 1 << 16,
        p.filter_h &* p.filter_w <= 1 << 16,
        p.act_min >= -128, p.act_min <= 127, p.act_max >= -128, p.act_max <= 127 else { return false }
  let C = Int(p.channels), rowStep = Int(p.in_w) &* C
  let (lo, hi) = bounds512(p.act_min, p.act_max)
  forEachPoolWindow512(p, input, output) { out, first, rows, cols in
    let n = Int32(truncatingIfNeeded: rows &* cols)
    let half = _mm512_set1_epi32(n / 2)
    let divisor = _mm512_set1_ps(Float(n > 0 ? n : 1))
    @inline(__always) func average(_ s: __m512i) -> __m512i {
      let sign = _mm512_srai_epi32(s, 31)  // -1 where s < 0
      let rounded = _mm512_add_epi32(s, _mm512_sub_epi32(_mm512_xor_si512(half, sign), sign))  // s -+ n/2
      return _mm512_cvttps_epi32(_mm512_div_ps(_mm512_cvtepi32_ps(rounded), divisor))
    }
    forEachBlock64(C) { c, mask, full in
      var s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0
      forEachTap512(first + c, rows, cols, rowStep, C) { q in
        s0 = _mm512_add_epi32(s0, widen16(q, 0, mask, full))
        s1 = _mm512_add_epi32(s1, widen16(q, 1, mask, full))
        s2 = _mm512_add_epi32(s2, widen16(q, 2, mask, full))
        s3 = _mm512_add_epi32(s3, widen16(q, 3, mask, full))
      }
      store64(out + c, packClamp64(average(s0), average(s1), average(s2), average(s3), lo, hi), mask, full)
    }
  }
  return true
}
#endif
