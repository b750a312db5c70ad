// AVX2 (x86-64-v3) FullyConnected kernel, bit-exact with
// fullyConnectedReference. Call only when the CPU has AVX2.
//
// Eight output units at a time share each input load: 16 inputs and 16
// weights per unit are sign-extended to int16 with their offsets added
// (|x + offset| <= 255, exact in int16; offsets checked by the runtime) and
// multiplied with vpmaddwd (two exact products summed in int32). The int32
// accumulators wrap like the reference's (addition modulo 2^32 is
// associative, so the order of the sum does not matter). The depth tail
// (< 16) goes through zero-padded copies with the padded inputs masked to 0.
// The eight accumulators are reduced with vphaddd + a cross-lane add into
// one vector of 8 units, + bias, then requantizeAVX2 (the reference's
// MultiplyByQuantizedMultiplier), + output offset, clamp, store (storeBlock).
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtFullyConnectedAVX2(_ a: UnsafePointer<cnnrt_fc_args>, _ input: UnsafePointer<Int8>,
                                    _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let filter = p.filter, let mult = p.multiplier, let shift = p.shift else { return }
  let batches = Int(p.batches), depth = Int(p.depth), units = Int(p.units)
  guard batches > 0, depth > 0, units > 0 else { return }
  let bias = p.bias
  let inOff = _mm256_set1_epi16(Int16(truncatingIfNeeded: p.input_offset))
  let fOff = _mm256_set1_epi16(Int16(truncatingIfNeeded: p.filter_offset))
  let outOffset = _mm256_set1_epi32(p.output_offset)
  let vMin = _mm256_set1_epi32(p.act_min), vMax = _mm256_set1_epi32(p.act_max)
  let full = depth & ~15
  let rest = depth &- full
  // Lanes < rest of the depth tail are real inputs; the others are masked to 0.
  let tailMask = _mm256_cmpgt_epi16(_mm256_set1_epi16(Int16(truncatingIfNeeded: rest)),
                                    _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
  @inline(__always) func load16(_ p: UnsafeRawPointer) -> __m256i {
    _mm256_cvtepi8_epi16(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self)))
  }
  @inline(__always) func tail16(_ src: UnsafePointer<Int8>) -> __m256i {
    var buf = _mm_setzero_si128()
    withUnsafeMutableBytes(of: &buf) { d in
      var j = 0
      while j < rest { d[j] = UInt8(bitPattern: src[j]); j &+= 1 }
    }
    return _mm256_cvtepi8_epi16(buf)
  }

  for b in 0..<batches {
    let row = input + b &* depth
    let outRow = output + b &* units
    var u = 0
    while u < units {
      let n = min(8, units &- u)
      // Rows of the 8 lanes; lanes past the last unit repeat it (results dropped).
      let base = filter + u &* depth, last = n &- 1
      let w0 = base, w1 = base + min(1, last) &* depth, w2 = base + min(2, last) &* depth
      let w3 = base + min(3, last) &* depth, w4 = base + min(4, last) &* depth
      let w5 = base + min(5, last) &* depth, w6 = base + min(6, last) &* depth
      let w7 = base + min(7, last) &* depth
      var a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
      var d = 0
      while d < full {
        let x = _mm256_add_epi16(load16(UnsafeRawPointer(row + d)), inOff)
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x, _mm256_add_epi16(load16(UnsafeRawPointer(w0 + d)), fOff)))
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x, _mm256_add_epi16(load16(UnsafeRawPointer(w1 + d)), fOff)))
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(x, _mm256_add_epi16(load16(UnsafeRawPointer(w2 + d)), fOff)))
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(x, _mm256_add_epi16(load16(UnsafeRawPointer(w3 + d)), fOff)))
        a4 = _mm256_add_epi32(a4, _mm256_madd_epi16(x, _mm256_add_epi16(load16(UnsafeRawPointer(w4 + d)), fOff)))
        a5 = _mm256_add_epi32(a5, _mm256_madd_epi16(x, _mm256_add_epi16(load16(UnsafeRawPointer(w5 + d)), fOff)))
        a6 = _mm256_add_epi32(a6, _mm256_madd_epi16(x, _mm256_add_epi16(load16(UnsafeRawPointer(w6 + d)), fOff)))
        a7 = _mm256_add_epi32(a7, _mm256_madd_epi16(x, _mm256_add_epi16(load16(UnsafeRawPointer(w7 + d)), fOff)))
        d &+= 16
      }
      if rest > 0 {
        let x = _mm256_and_si256(_mm256_add_epi16(tail16(row + full), inOff), tailMask)
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x, _mm256_add_epi16(tail16(w0 + full), fOff)))
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x, _mm256_add_epi16(tail16(w1 + full), fOff)))
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(x, _mm256_add_epi16(tail16(w2 + full), fOff)))
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(x, _mm256_add_epi16(tail16(w3 + full), fOff)))
        a4 = _mm256_add_epi32(a4, _mm256_madd_epi16(x, _mm256_add_epi16(tail16(w4 + full), fOff)))
        a5 = _mm256_add_epi32(a5, _mm256_madd_epi16(x, _mm256_add_epi16(tail16(w5 + full), fOff)))
        a6 = _mm256_add_epi32(a6, _mm256_madd_epi16(x, _mm256_add_epi16(tail16(w6 + full), fOff)))
        a7 = _mm256_add_epi32(a7, _mm256_madd_epi16(x, _mm256_add_epi16(tail16(w7 + full), fOff)))
      }
      // Reduce: per 128-bit half, hadd gives [s0 s1 s2 s3] (X) and [s4..s7] (Y)
      // partial sums; add the two halves and take X's low half, Y's high half.
      let xq = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3))
      let yq = _mm256_hadd_epi32(_mm256_hadd_epi32(a4, a5), _mm256_hadd_epi32(a6, a7))
      let swap = _mm256_setr_epi32(4, 5, 6, 7, 0, 1, 2, 3)
      let xs = _mm256_add_epi32(xq, _mm256_permutevar8x32_epi32(xq, swap))
      let ys = _mm256_add_epi32(yq, _mm256_permutevar8x32_epi32(yq, swap))
      var acc = _mm256_blendv_epi8(xs, ys, _mm256_setr_epi32(0, 0, 0, 0, -1, -1, -1, -1))
      if n == 8 {
        if let bias {
          acc = _mm256_add_epi32(acc, _mm256_loadu_si256(UnsafeRawPointer(bias + u).assumingMemoryBound(to: __m256i.self)))
        }
        storeBlock(acc, 0, 8, mult + u, shift + u, outOffset, vMin, vMax, outRow + u)
      } else {
        // Partial block: bias, multipliers and shifts through padded copies.
        var bv = _mm256_setzero_si256(), mv = _mm256_setzero_si256(), sv = _mm256_setzero_si256()
        withUnsafeMutableBytes(of: &bv) { bb in
          withUnsafeMutableBytes(of: &mv) { mb in
            withUnsafeMutableBytes(of: &sv) { sb in
              let bp = bb.baseAddress!.assumingMemoryBound(to: Int32.self)
              let mp = mb.baseAddress!.assumingMemoryBound(to: Int32.self)
              let sp = sb.baseAddress!.assumingMemoryBound(to: Int32.self)
              var k = 0
              while k < n {
                bp[k] = bias?[u &+ k] ?? 0
                mp[k] = mult[u &+ k]; sp[k] = shift[u &+ k]
                k &+= 1
              }
            }
          }
        }
        acc = _mm256_add_epi32(acc, bv)
        withUnsafeBytes(of: mv) { mb in
          withUnsafeBytes(of: sv) { sb in
            storeBlock(acc, 0, n, mb.baseAddress!.assumingMemoryBound(to: Int32.self),
                       sb.baseAddress!.assumingMemoryBound(to: Int32.self), outOffset, vMin, vMax, outRow + u)
          }
        }
      }
      u &+= 8
    }
  }
}
#endif
