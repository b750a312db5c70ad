// AVX2 (x86-64-v3) Conv2D kernel, bit-exact with conv2DReference.
//
// Compiled with -Xcc -march=x86-64-v3: call only when the CPU has AVX2
// (cnnrt_cpu_best_isa() >= CNNRT_ISA_AVX2). Takes only raw pointers and the
// C argument block, so it does not depend on CNNRuntime.
//
// Packed weights (made at load by CNNRuntime.conv2DPack), int8:
//   [oc_blocks][k_h][k_w][c_groups][8 output channels][2 input channels]
// (input channels padded to an even count, output channels to a multiple of
// 8, both with zero weights): one byte per weight, as in the model file.
// Each 16-byte vector (8 channels x 2 inputs) is sign-extended to int16 as
// it is loaded (loadWeightsAVX2: vpmovsxbw, exact). Each step broadcasts one
// pair of offset inputs (x + input_offset, exact in int16) and multiplies it
// against 8 output channels with vpmaddwd: two exact products summed in int32, so the
// int32 accumulator sees the reference's products (wrapping addition is
// associative: the result is the reference's modulo 2^32). Padding taps are
// skipped (they contribute 0, as in the reference). acc_init = bias (or 0).
// Requantization is the reference's MultiplyByQuantizedMultiplier (double
// rounding), + output offset, clamp, vectorised 8 lanes at a time.
// Register tiling: interior pixels (all column taps inside the input) run
// 4 pixels x 16 channels (layers with <= 16 output channels) or 2 pixels x
// 32 channels per pass, so each packed weight load is reused across pixels;
// border pixels take the 1-pixel path with per-tap bounds checks.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

/// Lanes (output channels) per block.
public let avx2ConvLanes = 8

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtConv2DAVX2(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                            _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let wRaw = p.weights, let accInit = p.acc_init, let mult = p.multiplier, let shift = p.shift else { return }
  let weights = wRaw.assumingMemoryBound(to: Int8.self)
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), inC = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w), outC = Int(p.out_c)
  let kH = Int(p.k_h), kW = Int(p.k_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w)
  let dilH = Int(p.dilation_h), dilW = Int(p.dilation_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let cGroups = Int(p.c_groups), ocBlocks = Int(p.oc_blocks)
  let inOff = p.input_offset
  let tapStride = cGroups &* 16          // int8 weights (bytes) per tap per block
  let blockStride = kH &* kW &* tapStride
  let outOffset = _mm256_set1_epi32(p.output_offset)
  let vMin = _mm256_set1_epi32(p.act_min), vMax = _mm256_set1_epi32(p.act_max)
  let fullPairs = inC / 2
  let off16 = _mm256_set1_epi16(Int16(truncatingIfNeeded: inOff))

  var outPtr = output
  for b in 0..<batches {
    for oy in 0..<outH {
      let iy0 = oy &* strideH &- padTop
      var ox = 0
      while ox < outW {
        let ix0 = ox &* strideW &- padLeft
        // Narrow layers (<= 16 output channels): four interior pixels per pass.
        if ocBlocks <= 2 && ox &+ 3 < outW && ix0 >= 0 && ix0 &+ 3 &* strideW &+ (kW &- 1) &* dilW < inW {
          let two = ocBlocks > 1
          var a0 = _mm256_loadu_si256(UnsafeRawPointer(accInit).assumingMemoryBound(to: __m256i.self))
          var a1 = two ? _mm256_loadu_si256(UnsafeRawPointer(accInit + 8).assumingMemoryBound(to: __m256i.self)) : _mm256_setzero_si256()
          var b0 = a0, b1 = a1, c0 = a0, c1 = a1, d0 = a0, d1 = a1
          let pxStride = strideW &* inC
          for ky in 0..<kH {
            let iy = iy0 &+ ky &* dilH
            if iy < 0 || iy >= inH { continue }
            let rowBase = input + ((b &* inH &+ iy) &* inW &+ ix0) &* inC
            for kx in 0..<kW {
              let ipA = rowBase + kx &* dilW &* inC
              let ipB = ipA + pxStride, ipC = ipB + pxStride, ipD = ipC + pxStride
              let wt = weights + (ky &* kW &+ kx) &* tapStride
              var g = 0
              while g &+ 8 <= fullPairs {
                let xA = _mm256_add_epi16(_mm256_cvtepi8_epi16(
                  _mm_loadu_si128(UnsafeRawPointer(ipA + 2 &* g).assumingMemoryBound(to: __m128i.self))), off16)
                let xB = _mm256_add_epi16(_mm256_cvtepi8_epi16(
                  _mm_loadu_si128(UnsafeRawPointer(ipB + 2 &* g).assumingMemoryBound(to: __m128i.self))), off16)
                let xC = _mm256_add_epi16(_mm256_cvtepi8_epi16(
                  _mm_loadu_si128(UnsafeRawPointer(ipC + 2 &* g).assumingMemoryBound(to: __m128i.self))), off16)
                let xD = _mm256_add_epi16(_mm256_cvtepi8_epi16(
                  _mm_loadu_si128(UnsafeRawPointer(ipD + 2 &* g).assumingMemoryBound(to: __m128i.self))), off16)
                var k = 0
                while k < 8 {
                  let idx = _mm256_set1_epi32(Int32(truncatingIfNeeded: k))
                  let wp = UnsafeRawPointer(wt + (g &+ k) &* 16)
                  let w0 = loadWeightsAVX2(wp)
                  let vA = _mm256_permutevar8x32_epi32(xA, idx)
                  a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(vA, w0))
                  let vB = _mm256_permutevar8x32_epi32(xB, idx)
                  b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(vB, w0))
                  let vC = _mm256_permutevar8x32_epi32(xC, idx)
                  c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(vC, w0))
                  let vD = _mm256_permutevar8x32_epi32(xD, idx)
                  d0 = _mm256_add_epi32(d0, _mm256_madd_epi16(vD, w0))
                  if two {
                    let w1 = loadWeightsAVX2(wp + blockStride)
                    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(vA, w1))
                    b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(vB, w1))
                    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(vC, w1))
                    d1 = _mm256_add_epi32(d1, _mm256_madd_epi16(vD, w1))
                  }
                  k &+= 1
                }
                g &+= 8
              }
              while g < cGroups {
                let hasX1 = g < fullPairs
                let xa0 = Int32(ipA[2 &* g]) &+ inOff
                let xa1: Int32 = hasX1 ? Int32(ipA[2 &* g &+ 1]) &+ inOff : 0
                let xb0 = Int32(ipB[2 &* g]) &+ inOff
                let xb1: Int32 = hasX1 ? Int32(ipB[2 &* g &+ 1]) &+ inOff : 0
                let xc0 = Int32(ipC[2 &* g]) &+ inOff
                let xc1: Int32 = hasX1 ? Int32(ipC[2 &* g &+ 1]) &+ inOff : 0
                let xd0 = Int32(ipD[2 &* g]) &+ inOff
                let xd1: Int32 = hasX1 ? Int32(ipD[2 &* g &+ 1]) &+ inOff : 0
                let vA = _mm256_set1_epi32((xa0 & 0xFFFF) | (xa1 &<< 16))
                let vB = _mm256_set1_epi32((xb0 & 0xFFFF) | (xb1 &<< 16))
                let vC = _mm256_set1_epi32((xc0 & 0xFFFF) | (xc1 &<< 16))
                let vD = _mm256_set1_epi32((xd0 & 0xFFFF) | (xd1 &<< 16))
                let wp = UnsafeRawPointer(wt + g &* 16)
                let w0 = loadWeightsAVX2(wp)
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(vA, w0))
                b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(vB, w0))
                c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(vC, w0))
                d0 = _mm256_add_epi32(d0, _mm256_madd_epi16(vD, w0))
                if two {
                  let w1 = loadWeightsAVX2(wp + blockStride)
                  a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(vA, w1))
                  b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(vB, w1))
                  c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(vC, w1))
                  d1 = _mm256_add_epi32(d1, _mm256_madd_epi16(vD, w1))
                }
                g &+= 1
              }
            }
          }
          let outB = outPtr + outC, outC2 = outB + outC, outD = outC2 + outC
          storeBlock(a0, 0, outC, mult, shift, outOffset, vMin, vMax, outPtr)
          storeBlock(b0, 0, outC, mult, shift, outOffset, vMin, vMax, outB)
          storeBlock(c0, 0, outC, mult, shift, outOffset, vMin, vMax, outC2)
          storeBlock(d0, 0, outC, mult, shift, outOffset, vMin, vMax, outD)
          if two {
            storeBlock(a1, 1, outC, mult, shift, outOffset, vMin, vMax, outPtr)
            storeBlock(b1, 1, outC, mult, shift, outOffset, vMin, vMax, outB)
            storeBlock(c1, 1, outC, mult, shift, outOffset, vMin, vMax, outC2)
            storeBlock(d1, 1, outC, mult, shift, outOffset, vMin, vMax, outD)
          }
          outPtr += 4 &* outC
          ox &+= 4
          continue
        }
        // Interior fast path: two adjacent output pixels whose every column
        // tap is inside the input share each packed weight load.
        if ox &+ 1 < outW && ix0 >= 0 && ix0 &+ strideW &+ (kW &- 1) &* dilW < inW {
          var blk = 0
          while blk < ocBlocks {
            let nb = min(4, ocBlocks &- blk)
            let accBase = accInit + blk &* 8
            var a0 = _mm256_loadu_si256(UnsafeRawPointer(accBase).assumingMemoryBound(to: __m256i.self))
            var a1 = nb > 1 ? _mm256_loadu_si256(UnsafeRawPointer(accBase + 8).assumingMemoryBound(to: __m256i.self)) : _mm256_setzero_si256()
            var a2 = nb > 2 ? _mm256_loadu_si256(UnsafeRawPointer(accBase + 16).assumingMemoryBound(to: __m256i.self)) : _mm256_setzero_si256()
            var a3 = nb > 3 ? _mm256_loadu_si256(UnsafeRawPointer(accBase + 24).assumingMemoryBound(to: __m256i.self)) : _mm256_setzero_si256()
            var b0 = a0, b1 = a1, b2 = a2, b3 = a3
            let wBlock = weights + blk &* blockStride
            for ky in 0..<kH {
              let iy = iy0 &+ ky &* dilH
              if iy < 0 || iy >= inH { continue }
              let rowBase = input + ((b &* inH &+ iy) &* inW &+ ix0) &* inC
              for kx in 0..<kW {
                let ipA = rowBase + kx &* dilW &* inC
                let ipB = ipA + strideW &* inC
                let wt = wBlock + (ky &* kW &+ kx) &* tapStride
                var g = 0
                while g &+ 8 <= fullPairs {
                  let xA = _mm256_add_epi16(_mm256_cvtepi8_epi16(
                    _mm_loadu_si128(UnsafeRawPointer(ipA + 2 &* g).assumingMemoryBound(to: __m128i.self))), off16)
                  let xB = _mm256_add_epi16(_mm256_cvtepi8_epi16(
                    _mm_loadu_si128(UnsafeRawPointer(ipB + 2 &* g).assumingMemoryBound(to: __m128i.self))), off16)
                  var k = 0
                  while k < 8 {
                    let idx = _mm256_set1_epi32(Int32(truncatingIfNeeded: k))
                    let vA = _mm256_permutevar8x32_epi32(xA, idx)
                    let vB = _mm256_permutevar8x32_epi32(xB, idx)
                    let wp = UnsafeRawPointer(wt + (g &+ k) &* 16)
                    let w0 = loadWeightsAVX2(wp)
                    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(vA, w0))
                    b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(vB, w0))
                    if nb > 1 {
                      let w1 = loadWeightsAVX2(wp + blockStride)
                      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(vA, w1))
                      b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(vB, w1))
                      if nb > 2 {
                        let w2 = loadWeightsAVX2(wp + 2 &* blockStride)
                        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(vA, w2))
                        b2 = _mm256_add_epi32(b2, _mm256_madd_epi16(vB, w2))
                        if nb > 3 {
                          let w3 = loadWeightsAVX2(wp + 3 &* blockStride)
                          a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(vA, w3))
                          b3 = _mm256_add_epi32(b3, _mm256_madd_epi16(vB, w3))
                        }
                      }
                    }
                    k &+= 1
                  }
                  g &+= 8
                }
                while g < cGroups {
                  let hasX1 = g < fullPairs
                  let xa0 = Int32(ipA[2 &* g]) &+ inOff
                  let xa1: Int32 = hasX1 ? Int32(ipA[2 &* g &+ 1]) &+ inOff : 0
                  let xb0 = Int32(ipB[2 &* g]) &+ inOff
                  let xb1: Int32 = hasX1 ? Int32(ipB[2 &* g &+ 1]) &+ inOff : 0
                  let vA = _mm256_set1_epi32((xa0 & 0xFFFF) | (xa1 &<< 16))
                  let vB = _mm256_set1_epi32((xb0 & 0xFFFF) | (xb1 &<< 16))
                  let wp = UnsafeRawPointer(wt + g &* 16)
                  let w0 = loadWeightsAVX2(wp)
                  a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(vA, w0))
                  b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(vB, w0))
                  if nb > 1 {
                    let w1 = loadWeightsAVX2(wp + blockStride)
                    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(vA, w1))
                    b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(vB, w1))
                    if nb > 2 {
                      let w2 = loadWeightsAVX2(wp + 2 &* blockStride)
                      a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(vA, w2))
                      b2 = _mm256_add_epi32(b2, _mm256_madd_epi16(vB, w2))
                      if nb > 3 {
                        let w3 = loadWeightsAVX2(wp + 3 &* blockStride)
                        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(vA, w3))
                        b3 = _mm256_add_epi32(b3, _mm256_madd_epi16(vB, w3))
                      }
                    }
                  }
                  g &+= 1
                }
              }
            }
            let outB = outPtr + outC
            storeBlock(a0, blk, outC, mult, shift, outOffset, vMin, vMax, outPtr)
            storeBlock(b0, blk, outC, mult, shift, outOffset, vMin, vMax, outB)
            if nb > 1 {
              storeBlock(a1, blk &+ 1, outC, mult, shift, outOffset, vMin, vMax, outPtr)
              storeBlock(b1, blk &+ 1, outC, mult, shift, outOffset, vMin, vMax, outB)
            }
            if nb > 2 {
              storeBlock(a2, blk &+ 2, outC, mult, shift, outOffset, vMin, vMax, outPtr)
              storeBlock(b2, blk &+ 2, outC, mult, shift, outOffset, vMin, vMax, outB)
            }
            if nb > 3 {
              storeBlock(a3, blk &+ 3, outC, mult, shift, outOffset, vMin, vMax, outPtr)
              storeBlock(b3, blk &+ 3, outC, mult, shift, outOffset, vMin, vMax, outB)
            }
            blk &+= nb
          }
          outPtr += 2 &* outC
          ox &+= 2
          continue
        }
        var blk = 0
        while blk < ocBlocks {
          // Up to 4 blocks (32 channels) per pass share each input broadcast.
          let nb = min(4, ocBlocks &- blk)
          let accBase = accInit + blk &* 8
          var acc0 = _mm256_loadu_si256(UnsafeRawPointer(accBase).assumingMemoryBound(to: __m256i.self))
          var acc1 = nb > 1 ? _mm256_loadu_si256(UnsafeRawPointer(accBase + 8).assumingMemoryBound(to: __m256i.self)) : _mm256_setzero_si256()
          var acc2 = nb > 2 ? _mm256_loadu_si256(UnsafeRawPointer(accBase + 16).assumingMemoryBound(to: __m256i.self)) : _mm256_setzero_si256()
          var acc3 = nb > 3 ? _mm256_loadu_si256(UnsafeRawPointer(accBase + 24).assumingMemoryBound(to: __m256i.self)) : _mm256_setzero_si256()
          let wBlock = weights + blk &* blockStride
          for ky in 0..<kH {
            let iy = iy0 &+ ky &* dilH
            if iy < 0 || iy >= inH { continue }
            for kx in 0..<kW {
              let ix = ix0 &+ kx &* dilW
              if ix < 0 || ix >= inW { continue }
              let ip = input + ((b &* inH &+ iy) &* inW &+ ix) &* inC
              let wt = wBlock + (ky &* kW &+ kx) &* tapStride
              var g = 0
              // 16 channels at a time: sign-extend, add the offset (exact in
              // int16), and broadcast each pair with vpermd.
              while g &+ 8 <= fullPairs {
                let raw = _mm_loadu_si128(UnsafeRawPointer(ip + 2 &* g).assumingMemoryBound(to: __m128i.self))
                let x16 = _mm256_add_epi16(_mm256_cvtepi8_epi16(raw), off16)
                var k = 0
                while k < 8 {
                  let v = _mm256_permutevar8x32_epi32(x16, _mm256_set1_epi32(Int32(truncatingIfNeeded: k)))
                  let wp = UnsafeRawPointer(wt + (g &+ k) &* 16)
                  acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(v, loadWeightsAVX2(wp)))
                  if nb > 1 {
                    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(v, loadWeightsAVX2(wp + blockStride)))
                    if nb > 2 {
                      acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(v, loadWeightsAVX2(wp + 2 &* blockStride)))
                      if nb > 3 {
                        acc3 = _mm256_add_epi32(acc3, _mm256_madd_epi16(v, loadWeightsAVX2(wp + 3 &* blockStride)))
                      }
                    }
                  }
                  k &+= 1
                }
                g &+= 8
              }
              while g < cGroups {
                let x0 = Int32(ip[2 &* g]) &+ inOff
                let x1: Int32 = (g < fullPairs) ? Int32(ip[2 &* g &+ 1]) &+ inOff : 0
                let v = _mm256_set1_epi32((x0 & 0xFFFF) | (x1 &<< 16))
                let wp = UnsafeRawPointer(wt + g &* 16)
                acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(v, loadWeightsAVX2(wp)))
                if nb > 1 {
                  acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(v, loadWeightsAVX2(wp + blockStride)))
                  if nb > 2 {
                    acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(v, loadWeightsAVX2(wp + 2 &* blockStride)))
                    if nb > 3 {
                      acc3 = _mm256_add_epi32(acc3, _mm256_madd_epi16(v, loadWeightsAVX2(wp + 3 &* blockStride)))
                    }
                  }
                }
                g &+= 1
              }
            }
          }
          storeBlock(acc0, blk, outC, mult, shift, outOffset, vMin, vMax, outPtr)
          if nb > 1 { storeBlock(acc1, blk &+ 1, outC, mult, shift, outOffset, vMin, vMax, outPtr) }
          if nb > 2 { storeBlock(acc2, blk &+ 2, outC, mult, shift, outOffset, vMin, vMax, outPtr) }
          if nb > 3 { storeBlock(acc3, blk &+ 3, outC, mult, shift, outOffset, vMin, vMax, outPtr) }
          blk &+= nb
        }
        outPtr += outC
        ox &+= 1
      }
    }
  }
}

/// One packed weight vector (8 output channels x 2 inputs, 16 int8 at `p`)
/// sign-extended to 16 int16 lanes in the same order (vpmovsxbw ymm, m128):
/// the operand vpmaddwd takes, read from int8-sized packed weights.
@inline(__always)
func loadWeightsAVX2(_ p: UnsafeRawPointer) -> __m256i {
  _mm256_cvtepi8_epi16(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self)))
}

@inline(__always)
func storeBlock(_ acc: __m256i, _ blk: Int, _ outC: Int, _ mult: UnsafePointer<Int32>, _ shift: UnsafePointer<Int32>,
                _ outOffset: __m256i, _ vMin: __m256i, _ vMax: __m256i, _ out: UnsafeMutablePointer<Int8>) {
  let c0 = blk &* 8
  let m = _mm256_loadu_si256(UnsafeRawPointer(mult + c0).assumingMemoryBound(to: __m256i.self))
  let s = _mm256_loadu_si256(UnsafeRawPointer(shift + c0).assumingMemoryBound(to: __m256i.self))
  var v = _mm256_add_epi32(requantizeAVX2(acc, m, s), outOffset)
  v = _mm256_max_epi32(v, vMin)
  v = _mm256_min_epi32(v, vMax)
  // Clamp bounds are within int8 (checked at load), so saturating packs equal truncation.
  // Per 128-bit lane: packs give bytes [a0..a3 x4 | a4..a7 x4]; gather dwords 0 and 4.
  let p8 = _mm256_packs_epi16(_mm256_packs_epi32(v, v), _mm256_setzero_si256())
  let b8 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0)))
  let n = min(8, outC &- c0)
  if n == 8 {
    _mm_storel_epi64(UnsafeMutableRawPointer(out + c0).assumingMemoryBound(to: __m128i.self), b8)
  } else {
    var bits = UInt64(bitPattern: Int64(_mm_cvtsi128_si64(b8)))
    var i = 0
    while i < n { out[c0 &+ i] = Int8(truncatingIfNeeded: bits); bits >>= 8; i &+= 1 }
  }
}

/// MultiplyByQuantizedMultiplier on 8 lanes, bit-identical to the scalar
/// reference (shift in -31...31, positive = left).
@inline(__always)
func requantizeAVX2(_ acc: __m256i, _ mult: __m256i, _ shift: __m256i) -> __m256i {
  let zero = _mm256_setzero_si256()
  let left = _mm256_max_epi32(shift, zero)
  let right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero)
  let x = _mm256_sllv_epi32(acc, left)
  // SaturatingRoundingDoublingHighMul: bits 31...62 of x * m + 2^30.
  let nudge = _mm256_set1_epi64x(1 << 30)
  let pe = _mm256_add_epi64(_mm256_mul_epi32(x, mult), nudge)
  let po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mult, 32)), nudge)
  let re = _mm256_srli_epi64(pe, 31)
  let ro = _mm256_slli_epi64(_mm256_srli_epi64(po, 31), 32)
  var h = _mm256_or_si256(_mm256_and_si256(re, _mm256_set1_epi64x(0xFFFF_FFFF)), ro)
  let intMin = _mm256_set1_epi32(Int32.min)
  let both = _mm256_and_si256(_mm256_cmpeq_epi32(x, intMin), _mm256_cmpeq_epi32(mult, intMin))
  h = _mm256_blendv_epi8(h, _mm256_set1_epi32(Int32.max), both)
  // RoundingDivideByPOT(h, right).
  let mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right), _mm256_set1_epi32(1))
  let rem = _mm256_and_si256(h, mask)
  let threshold = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_cmpgt_epi32(zero, h))
  return _mm256_sub_epi32(_mm256_srav_epi32(h, right), _mm256_cmpgt_epi32(rem, threshold))
}
#endif

#if arch(x86_64)
/// Depthwise Conv2D, depth multiplier 1, channels a multiple of 8, bit-exact
/// with depthwiseConv2DReference. `weights` is the model's own filter
/// [1, KH, KW, C] (int8, used in place), `acc_init` the bias or nil;
/// multiplier/shift have C entries. Each step sign-extends 8 channels of
/// input and filter to int32 and accumulates (x + offset) * w with vpmulld
/// (the exact low 32 bits, as the reference's wrapping multiply-add).
/// Padding taps are skipped (they contribute 0).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtDepthwiseAVX2(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                               _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let wRaw = p.weights, let mult = p.multiplier, let shift = p.shift else { return }
  let filter = wRaw.assumingMemoryBound(to: Int8.self)
  let bias = p.acc_init
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), chans = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w)
  let kH = Int(p.k_h), kW = Int(p.k_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w)
  let dilH = Int(p.dilation_h), dilW = Int(p.dilation_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let off32 = _mm256_set1_epi32(p.input_offset)
  let outOffset = _mm256_set1_epi32(p.output_offset)
  let vMin = _mm256_set1_epi32(p.act_min), vMax = _mm256_set1_epi32(p.act_max)
  guard chans % 8 == 0 else { return }

  var outPtr = output
  for b in 0..<batches {
    for oy in 0..<outH {
      let iy0 = oy &* strideH &- padTop
      for ox in 0..<outW {
        let ix0 = ox &* strideW &- padLeft
        var c0 = 0
        while c0 < chans {
          var acc = bias.map { _mm256_loadu_si256(UnsafeRawPointer($0 + c0).assumingMemoryBound(to: __m256i.self)) }
            ?? _mm256_setzero_si256()
          for ky in 0..<kH {
            let iy = iy0 &+ ky &* dilH
            if iy < 0 || iy >= inH { continue }
            for kx in 0..<kW {
              let ix = ix0 &+ kx &* dilW
              if ix < 0 || ix >= inW { continue }
              let ip = input + (((b &* inH &+ iy) &* inW &+ ix) &* chans &+ c0)
              let wp = filter + ((ky &* kW &+ kx) &* chans &+ c0)
              let x = _mm256_add_epi32(
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(UnsafeRawPointer(ip).assumingMemoryBound(to: __m128i.self))), off32)
              let w = _mm256_cvtepi8_epi32(_mm_loadl_epi64(UnsafeRawPointer(wp).assumingMemoryBound(to: __m128i.self)))
              acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(x, w))
            }
          }
          storeBlock(acc, c0 / 8, chans, mult, shift, outOffset, vMin, vMax, outPtr)
          c0 &+= 8
        }
        outPtr += chans
      }
    }
  }
}
#endif
