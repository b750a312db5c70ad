// AVX-512 VNNI Conv2D kernel, bit-exact with conv2DReference.
//
// Compiled with -Xcc -march=x86-64-v4 -Xcc -mavx512vnni: call only when the
// CPU has them (cnnrt_cpu_best_isa() == CNNRT_ISA_AVX512). Takes only raw
// pointers and the C argument block, so it does not depend on CNNRuntime.
//
// Packed weights (made at load by CNNRuntime.conv2DPack), int8:
//   [oc_blocks][k_h][k_w][c_groups][16 output channels][4 input channels]
// (input channels padded to a multiple of 4, output channels to a multiple
// of 16, both with zero weights). vpdpbusd multiplies unsigned activations
// by signed weights, so activations enter as u = x + 128 (x XOR 0x80):
//   sum((x + off) * w) = sum(u * w) - (128 - off) * sum(w)
// acc_init = bias - (128 - off) * sum(w) is computed at load over ALL taps;
// a padding tap feeds u = 128 - off (= 128 + input zero point, in 0...255)
// so that it contributes exactly 0 after the correction. Every product and
// the int32 sums are exact modulo 2^32, as the reference's wrapping
// accumulator. Requantization is the reference's MultiplyByQuantizedMultiplier
// (double rounding), + output offset, clamp, 16 lanes at a time.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtConv2DAVX512(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                              _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let wRaw = p.weights, let accInit = p.acc_init, let mult = p.multiplier, let shift = p.shift else { return }
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), inC = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w), outC = Int(p.out_c)
  let kH = Int(p.k_h), kW = Int(p.k_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w)
  let dilH = Int(p.dilation_h), dilW = Int(p.dilation_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let cGroups = Int(p.c_groups), ocBlocks = Int(p.oc_blocks)
  let tapStride = cGroups &* 64          // bytes per tap per block
  let blockStride = kH &* kW &* tapStride
  let padU8 = UInt32(truncatingIfNeeded: 128 &- p.input_offset) & 0xFF
  let padVec = _mm512_set1_epi32(Int32(bitPattern: padU8 &* 0x0101_0101))
  let fullQuads = inC / 4
  let outOffset = _mm512_set1_epi32(p.output_offset)
  let vMin = _mm512_set1_epi32(p.act_min), vMax = _mm512_set1_epi32(p.act_max)

  var outPtr = output
  for b in 0..<batches {
    for oy in 0..<outH {
      let iy0 = oy &* strideH &- padTop
      for ox in 0..<outW {
        let ix0 = ox &* strideW &- padLeft
        var blk = 0
        while blk < ocBlocks {
          // Up to 4 blocks (64 channels) per pass share each input broadcast.
          let nb = min(4, ocBlocks &- blk)
          let accBase = UnsafeRawPointer(accInit + blk &* 16)
          var acc0 = _mm512_loadu_si512(accBase)
          var acc1 = nb > 1 ? _mm512_loadu_si512(accBase + 64) : _mm512_setzero_si512()
          var acc2 = nb > 2 ? _mm512_loadu_si512(accBase + 128) : _mm512_setzero_si512()
          var acc3 = nb > 3 ? _mm512_loadu_si512(accBase + 192) : _mm512_setzero_si512()
          let wBlock = wRaw + blk &* blockStride
          for ky in 0..<kH {
            let iy = iy0 &+ ky &* dilH
            let rowInside = iy >= 0 && iy < inH
            for kx in 0..<kW {
              let ix = ix0 &+ kx &* dilW
              let inside = rowInside && ix >= 0 && ix < inW
              let ip = inside ? input + ((b &* inH &+ iy) &* inW &+ ix) &* inC : input
              let wt = wBlock + (ky &* kW &+ kx) &* tapStride
              var g = 0
              while g < cGroups {
                let v: __m512i
                if !inside {
                  v = padVec
                } else if g < fullQuads {
                  let raw = UnsafeRawPointer(ip + 4 &* g).loadUnaligned(as: UInt32.self)
                  v = _mm512_set1_epi32(Int32(bitPattern: raw ^ 0x8080_8080))
                } else {
                  var u: UInt32 = 0
                  var k = 0
                  while 4 &* g &+ k < inC {
                    u |= (UInt32(UInt8(bitPattern: ip[4 &* g &+ k])) ^ 0x80) &<< UInt32(8 &* k)
                    k &+= 1
                  }
                  v = _mm512_set1_epi32(Int32(bitPattern: u))
                }
                let wp = wt + g &* 64
                acc0 = _mm512_dpbusd_epi32(acc0, v, _mm512_loadu_si512(wp))
                if nb > 1 {
                  acc1 = _mm512_dpbusd_epi32(acc1, v, _mm512_loadu_si512(wp + blockStride))
                  if nb > 2 {
                    acc2 = _mm512_dpbusd_epi32(acc2, v, _mm512_loadu_si512(wp + 2 &* blockStride))
                    if nb > 3 {
                      acc3 = _mm512_dpbusd_epi32(acc3, v, _mm512_loadu_si512(wp + 3 &* blockStride))
                    }
                  }
                }
                g &+= 1
              }
            }
          }
          storeBlock512(acc0, blk, outC, mult, shift, outOffset, vMin, vMax, outPtr)
          if nb > 1 { storeBlock512(acc1, blk &+ 1, outC, mult, shift, outOffset, vMin, vMax, outPtr) }
          if nb > 2 { storeBlock512(acc2, blk &+ 2, outC, mult, shift, outOffset, vMin, vMax, outPtr) }
          if nb > 3 { storeBlock512(acc3, blk &+ 3, outC, mult, shift, outOffset, vMin, vMax, outPtr) }
          blk &+= nb
        }
        outPtr += outC
      }
    }
  }
}

@inline(__always)
func storeBlock512(_ acc: __m512i, _ blk: Int, _ outC: Int, _ mult: UnsafePointer<Int32>, _ shift: UnsafePointer<Int32>,
                   _ outOffset: __m512i, _ vMin: __m512i, _ vMax: __m512i, _ out: UnsafeMutablePointer<Int8>) {
  let c0 = blk &* 16
  let m = _mm512_loadu_si512(UnsafeRawPointer(mult + c0))
  let s = _mm512_loadu_si512(UnsafeRawPointer(shift + c0))
  var v = _mm512_add_epi32(requantizeAVX512(acc, m, s), outOffset)
  v = _mm512_max_epi32(v, vMin)
  v = _mm512_min_epi32(v, vMax)
  let n = min(16, outC &- c0)
  let k: __mmask16 = n >= 16 ? 0xFFFF : __mmask16(truncatingIfNeeded: (1 &<< n) &- 1)
  // vpmovdb truncates, as the reference's Int8(truncatingIfNeeded:).
  _mm512_mask_cvtepi32_storeu_epi8(UnsafeMutableRawPointer(out + c0), k, v)
}

/// MultiplyByQuantizedMultiplier on 16 lanes, bit-identical to the scalar
/// reference (shift in -31...31, positive = left).
@inline(__always)
func requantizeAVX512(_ acc: __m512i, _ mult: __m512i, _ shift: __m512i) -> __m512i {
  let zero = _mm512_setzero_si512()
  let one = _mm512_set1_epi32(1)
  let left = _mm512_max_epi32(shift, zero)
  let right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero)
  let x = _mm512_sllv_epi32(acc, left)
  // SaturatingRoundingDoublingHighMul: bits 31...62 of x * m + 2^30.
  let nudge = _mm512_set1_epi64(1 << 30)
  let pe = _mm512_add_epi64(_mm512_mul_epi32(x, mult), nudge)
  let po = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(mult, 32)), nudge)
  let re = _mm512_srli_epi64(pe, 31)
  let ro = _mm512_slli_epi64(_mm512_srli_epi64(po, 31), 32)
  var h = _mm512_mask_blend_epi32(0xAAAA, re, ro)
  // (The _mm512_cmp*_mask intrinsics are macros Swift cannot import: masks
  // come from vptestmd / vptestnmd instead.)
  let intMin = _mm512_set1_epi32(Int32.min)
  let diff = _mm512_or_si512(_mm512_xor_si512(x, intMin), _mm512_xor_si512(mult, intMin))
  let both = _mm512_testn_epi32_mask(diff, diff)  // x == m == Int32.min
  h = _mm512_mask_blend_epi32(both, h, _mm512_set1_epi32(Int32.max))
  // RoundingDivideByPOT(h, right).
  let mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one)
  let rem = _mm512_and_si512(h, mask)
  let half = _mm512_srai_epi32(mask, 1)
  let negative = _mm512_test_epi32_mask(h, intMin)
  let threshold = _mm512_mask_add_epi32(half, negative, half, one)
  // rem and threshold are in 0...2^31 - 1: rem > threshold <=> threshold - rem < 0.
  let q = _mm512_srav_epi32(h, right)
  let roundUp = _mm512_test_epi32_mask(_mm512_sub_epi32(threshold, rem), intMin)
  return _mm512_mask_add_epi32(q, roundUp, q, one)
}
#endif
