// AVX-512 VNNI FullyConnected kernel, bit-exact with fullyConnectedReference
// for symmetric weights (filter offset 0, TFLite's int8 weights). Call only
// when the CPU has AVX-512 VNNI; reads the model's filter in place.
//
// vpdpbusd multiplies unsigned by signed bytes, so inputs enter as
// u = x + 128 (x XOR 0x80):
//   bias + sum((x + off) * w) = [bias + (off - 128) * sum(w)] + sum(u * w)
// The bracket is computed at load (foldedFullyConnectedArgs) and arrives as
// `bias`, with input_offset 0. sum(u * w) takes 64 inputs at a time, for 4
// units sharing each input load. The depth tail (< 64) is loaded with a byte
// mask: masked weights are 0, so those lanes add nothing. Every step is
// exact modulo 2^32, as the reference's wrapping int32 accumulator. The 16
// unit sums of a block go through the Conv2D kernel's requantization and
// store.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtFullyConnectedAVX512(_ a: UnsafePointer<cnnrt_fc_args>, _ input: UnsafePointer<Int8>,
                                      _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let filter = p.filter, let mult = p.multiplier, let shift = p.shift, p.filter_offset == 0, p.input_offset == 0 else { return }
  let batches = Int(p.batches), depth = Int(p.depth), units = Int(p.units)
  guard batches > 0, depth > 0, units > 0 else { return }
  let bias = p.bias
  let full = depth & ~63, rest = depth &- full
  let tailMask: __mmask64 = rest == 0 ? 0 : (1 &<< UInt64(rest)) &- 1
  let flip = _mm512_set1_epi8(-128)
  let outOffset = _mm512_set1_epi32(p.output_offset)
  let vMin = _mm512_set1_epi32(p.act_min), vMax = _mm512_set1_epi32(p.act_max)
  var sums = SIMD16<Int32>()

  for b in 0..<batches {
    let row = UnsafeRawPointer(input + b &* depth)
    var u = 0
    while u < units {
      let n = min(16, units &- u)
      var j = 0
      while j < n {
        // Units j...j+3 of the block (past the last: repeats it, dropped).
        let last = n &- 1
        let w0 = UnsafeRawPointer(filter + (u &+ j) &* depth)
        let w1 = UnsafeRawPointer(filter + (u &+ min(j &+ 1, last)) &* depth)
        let w2 = UnsafeRawPointer(filter + (u &+ min(j &+ 2, last)) &* depth)
        let w3 = UnsafeRawPointer(filter + (u &+ min(j &+ 3, last)) &* depth)
        var p0 = _mm512_setzero_si512(), p1 = p0, p2 = p0, p3 = p0  // sum(u * w)
        var d = 0
        while d < full {
          let x = _mm512_xor_si512(_mm512_loadu_si512(row + d), flip)
          let v0 = _mm512_loadu_si512(w0 + d), v1 = _mm512_loadu_si512(w1 + d)
          let v2 = _mm512_loadu_si512(w2 + d), v3 = _mm512_loadu_si512(w3 + d)
          p0 = _mm512_dpbusd_epi32(p0, x, v0); p1 = _mm512_dpbusd_epi32(p1, x, v1)
          p2 = _mm512_dpbusd_epi32(p2, x, v2); p3 = _mm512_dpbusd_epi32(p3, x, v3)
          d &+= 64
        }
        if rest > 0 {
          let x = _mm512_xor_si512(_mm512_maskz_loadu_epi8(tailMask, row + full), flip)
          let v0 = _mm512_maskz_loadu_epi8(tailMask, w0 + full), v1 = _mm512_maskz_loadu_epi8(tailMask, w1 + full)
          let v2 = _mm512_maskz_loadu_epi8(tailMask, w2 + full), v3 = _mm512_maskz_loadu_epi8(tailMask, w3 + full)
          p0 = _mm512_dpbusd_epi32(p0, x, v0); p1 = _mm512_dpbusd_epi32(p1, x, v1)
          p2 = _mm512_dpbusd_epi32(p2, x, v2); p3 = _mm512_dpbusd_epi32(p3, x, v3)
        }
        sums[j] = _mm512_reduce_add_epi32(p0)
        if j &+ 1 < n { sums[j &+ 1] = _mm512_reduce_add_epi32(p1) }
        if j &+ 2 < n { sums[j &+ 2] = _mm512_reduce_add_epi32(p2) }
        if j &+ 3 < n { sums[j &+ 3] = _mm512_reduce_add_epi32(p3) }
        j &+= 4
      }
      var acc = unsafeBitCast(sums, to: __m512i.self)
      if let bias {
        acc = _mm512_add_epi32(acc, _mm512_maskz_loadu_epi32(laneMask16(n), UnsafeRawPointer(bias + u)))
      }
      requantStore512(acc, n, mult + u, shift + u, outOffset, vMin, vMax, output + (b &* units &+ u))
      u &+= 16
    }
  }
}
#endif
