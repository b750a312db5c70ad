// AVX2 (x86-64-v3) AveragePool2D and MaxPool2D, bit-exact with
// averagePool2DReference and maxPool2DReference. Call only when the CPU has
// AVX2.
//
// MaxPool2D: per output pixel, 32 channels at a time, the signed byte maximum
// (vpmaxsb) of every in-bounds tap starting from -128, then the activation
// clamp (vpmaxsb with act_min, vpminsb with act_max, in the reference's
// order); a channel count that is not a multiple of 32 ends with a vector
// over the last 32 channels (16 or 8 below 32 channels; fewer than 8: the
// scalar loop).
//
// AveragePool2D:
// Per output pixel, 32 (then 8) channels at a time: every in-bounds tap's
// int8 values are sign-extended to int32 lanes and summed (|sum| <= 128 * n,
// exact for any window below 2^24 taps, checked by the caller). The rounding
// division of the reference, (acc > 0 ? (acc + n/2) / n : (acc - n/2) / n)
// with C's truncating division, is done in float32 on 8 lanes: a = acc ± n/2
// and n are exact floats, and trunc(fl(a / n)) = trunc(a / n) while
// |a| < 2^24 (a / n is either an integer, exactly representable, or at
// least 1/n from one, more than fl's error |a / n| * 2^-24), which holds for
// windows of up to 2^16 taps; larger windows divide lane by lane. Then the
// clamp. With 8 or more channels, a count that is not a multiple of 8 ends
// with a vector over the last 8 channels, overlapping the one before (the
// output does not overlap the input); fewer than 8 take the scalar loop.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

/// One output pixel's pooling window, clipped to the input: `first` is the
/// input at its first in-bounds tap (channel 0), `rows` x `cols` taps, the
/// next row `rowStep` elements on, the next tap `channels` on.
struct PoolWindow {
  var out: UnsafeMutablePointer<Int8>
  var first: UnsafePointer<Int8>
  var rows: Int, cols: Int, rowStep: Int, channels: Int

  /// Calls `f` with the input at each of the window's taps, channel `c`.
  @inline(__always)
  func forEachTap(_ c: Int, _ f: (UnsafePointer<Int8>) -> Void) {
    var fy = 0
    while fy < rows {
      var q = first + (fy &* rowStep &+ c)
      var fx = 0
      while fx < cols { f(q); q += channels; fx &+= 1 }
      fy &+= 1
    }
  }
}

/// Calls `body` for every output pixel of the pool `p`, in output order.
@inline(__always)
func forEachPoolWindow(_ p: cnnrt_pool_args, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>,
                       _ body: (PoolWindow) -> Void) {
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), C = Int(p.channels)
  let outH = Int(p.out_h), outW = Int(p.out_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w), fH = Int(p.filter_h), fW = Int(p.filter_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  var b = 0
  while b < batches {
    var oy = 0
    while oy < outH {
      let y0 = oy &* strideH &- padTop
      let fyStart = max(0, 0 &- y0), fyEnd = max(fyStart, min(fH, inH &- y0))
      var ox = 0
      while ox < outW {
        let x0 = ox &* strideW &- padLeft
        let fxStart = max(0, 0 &- x0), fxEnd = max(fxStart, min(fW, inW &- x0))
        let pixel = (b &* inH &+ y0 &+ fyStart) &* inW &+ x0 &+ fxStart
        body(PoolWindow(out: output + ((b &* outH &+ oy) &* outW &+ ox) &* C, first: input + pixel &* C,
                        rows: fyEnd &- fyStart, cols: fxEnd &- fxStart, rowStep: inW &* C, channels: C))
        ox &+= 1
      }
      oy &+= 1
    }
    b &+= 1
  }
}

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAveragePoolAVX2(_ a: UnsafePointer<cnnrt_pool_args>, _ input: UnsafePointer<Int8>,
                                 _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  let C = Int(p.channels)
  let actMin = p.act_min, actMax = p.act_max

  @inline(__always) func finish(_ acc: Int32, _ count: Int32) -> Int8 {
    var v = acc
    if count > 0 {
      let half = count / 2
      v = v > 0 ? (v &+ half) / count : (v &- half) / count
    }
    v = v < actMin ? actMin : v
    v = v > actMax ? actMax : v
    return Int8(truncatingIfNeeded: v)
  }
  @inline(__always) func load8(_ q: UnsafePointer<Int8>) -> __m256i {
    _mm256_cvtepi8_epi32(_mm_loadl_epi64(UnsafeRawPointer(q).assumingMemoryBound(to: __m128i.self)))
  }

  let vActMin = _mm256_set1_epi32(actMin), vActMax = _mm256_set1_epi32(actMax)
  let zero = _mm256_setzero_si256()
  let firstDwords = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)  // each lane's first dword, then the rest

  forEachPoolWindow(p, input, output) { w in
    let count = Int32(truncatingIfNeeded: w.rows &* w.cols)
    let out = w.out
    // The rounding division in float32 (file comment) for windows of up to
    // 2^16 taps; larger ones divide lane by lane.
    let floatDivide = count > 0 && count <= 1 << 16
    let vHalf = _mm256_set1_epi32(count / 2), vCount = _mm256_set1_ps(Float(count))
    /// The sums of channels c..<c+8 over the window's taps, one per lane.
    @inline(__always) func sum8(_ c: Int) -> __m256i {
      var s = zero
      w.forEachTap(c) { q in s = _mm256_add_epi32(s, load8(q)) }
      return s
    }
    /// Divides, clamps and stores the 8 sums `s` of channels c..<c+8.
    @inline(__always) func store8(_ s: __m256i, _ c: Int) {
      guard floatDivide else {
        var v = s
        withUnsafeBytes(of: &v) { raw in
          let lanes = raw.baseAddress!.assumingMemoryBound(to: Int32.self)
          var i = 0
          while i < 8 { out[c &+ i] = finish(lanes[i], count); i &+= 1 }
        }
        return
      }
      let rounded = _mm256_blendv_epi8(_mm256_sub_epi32(s, vHalf), _mm256_add_epi32(s, vHalf),
                                       _mm256_cmpgt_epi32(s, zero))
      var q = _mm256_cvttps_epi32(_mm256_div_ps(_mm256_cvtepi32_ps(rounded), vCount))
      q = _mm256_min_epi32(_mm256_max_epi32(q, vActMin), vActMax)
      // Packs work per 128-bit lane: lane k ends with its 4 results in its
      // first 4 bytes (the bounds are int8, so nothing saturates).
      let words = _mm256_packs_epi32(q, q)
      let bytes = _mm256_packs_epi16(words, words)
      let eight = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, firstDwords))
      _mm_storel_epi64(UnsafeMutableRawPointer(out + c).assumingMemoryBound(to: __m128i.self), eight)
    }
    var c = 0
    while c &+ 32 <= C {
      var s0 = zero, s1 = zero, s2 = zero, s3 = zero
      w.forEachTap(c) { q in
        s0 = _mm256_add_epi32(s0, load8(q))
        s1 = _mm256_add_epi32(s1, load8(q + 8))
        s2 = _mm256_add_epi32(s2, load8(q + 16))
        s3 = _mm256_add_epi32(s3, load8(q + 24))
      }
      store8(s0, c); store8(s1, c &+ 8); store8(s2, c &+ 16); store8(s3, c &+ 24)
      c &+= 32
    }
    while c &+ 8 <= C {
      store8(sum8(c), c)
      c &+= 8
    }
    if c < C && C >= 8 {
      // The last 8 channels, overlapping the vector before (same values).
      store8(sum8(C &- 8), C &- 8)
      c = C
    }
    while c < C {
      var acc: Int32 = 0
      w.forEachTap(c) { q in acc = acc &+ Int32(q.pointee) }
      out[c] = finish(acc, count)
      c &+= 1
    }
  }
}

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMaxPoolAVX2(_ a: UnsafePointer<cnnrt_pool_args>, _ input: UnsafePointer<Int8>,
                             _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  let C = Int(p.channels)
  let actMin = p.act_min, actMax = p.act_max
  let lowest = _mm256_set1_epi8(-128)
  let vMin = _mm256_set1_epi8(Int8(truncatingIfNeeded: actMin))
  let vMax = _mm256_set1_epi8(Int8(truncatingIfNeeded: actMax))

  let lowest16 = _mm_set1_epi8(-128)
  let vMin16 = _mm_set1_epi8(Int8(truncatingIfNeeded: actMin))
  let vMax16 = _mm_set1_epi8(Int8(truncatingIfNeeded: actMax))

  forEachPoolWindow(p, input, output) { w in
    let out = w.out
    /// Channels c..<c+32: the maximum of every tap, clamped, stored.
    @inline(__always) func block32(_ c: Int) {
      var m = lowest
      w.forEachTap(c) { q in
        m = _mm256_max_epi8(m, _mm256_loadu_si256(UnsafeRawPointer(q).assumingMemoryBound(to: __m256i.self)))
      }
      m = _mm256_min_epi8(_mm256_max_epi8(m, vMin), vMax)
      _mm256_storeu_si256(UnsafeMutableRawPointer(out + c).assumingMemoryBound(to: __m256i.self), m)
    }
    /// Channels c..<c+16 (`eight`: c..<c+8, 8-byte loads and store).
    @inline(__always) func block16(_ c: Int, eight: Bool) {
      var m = lowest16
      w.forEachTap(c) { q in
        let raw = UnsafeRawPointer(q).assumingMemoryBound(to: __m128i.self)
        m = _mm_max_epi8(m, eight ? _mm_loadl_epi64(raw) : _mm_loadu_si128(raw))
      }
      m = _mm_min_epi8(_mm_max_epi8(m, vMin16), vMax16)
      let dst = UnsafeMutableRawPointer(out + c).assumingMemoryBound(to: __m128i.self)
      if eight { _mm_storel_epi64(dst, m) } else { _mm_storeu_si128(dst, m) }
    }
    // Whole vectors; a channel count that is not a multiple of the width
    // ends with one more vector over the last channels, overlapping the one
    // before it (the maximum of a channel does not depend on which vector
    // computes it, and the output does not overlap the input).
    if C >= 32 {
      var c = 0
      while c &+ 32 <= C { block32(c); c &+= 32 }
      if c < C { block32(C &- 32) }
    } else if C >= 8 {
      let eight = C < 16, width = eight ? 8 : 16
      block16(0, eight: eight)
      if C > width { block16(C &- width, eight: eight) }
    } else {
      var c = 0
      while c < C {
        var v: Int32 = -128
        w.forEachTap(c) { q in
          let x = Int32(q.pointee)
          if x > v { v = x }
        }
        v = v < actMin ? actMin : v
        v = v > actMax ? actMax : v
        out[c] = Int8(truncatingIfNeeded: v)
        c &+= 1
      }
    }
  }
}
#endif
