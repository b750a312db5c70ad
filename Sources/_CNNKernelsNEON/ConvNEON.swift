// aarch64 Conv2D and depthwise Conv2D kernels, bit-exact with
// conv2DReference / depthwiseConv2DReference. Compiled twice from this
// source (Makefile): _CNNKernelsNEON (Armv8.0 Advanced SIMD) and
// _CNNKernelsDotProd (Armv8.2 SDOT, -D CNNRT_DOTPROD). The runtime calls the
// module the CPU supports (cnnrt_cpu.h, getauxval(AT_HWCAP)).
//
// Conv2D, per output pixel and block of 16 output channels: for every tap
// and group of 4 input channels, the 4 input bytes are repeated across the
// vector and multiplied with 16 x 4 packed weights (cnnrt_arm_conv_args):
//   dotprod: 4 SDOT (16 MACs each) into 4 int32x4 accumulators;
//   neon:    SMULL/SMULL2 (exact int16 products, |w * x| <= 16384) and
//            SADALP (pairwise add into int32) into 8 accumulators, folded
//            with one ADDP per 4 channels at the end.
// The raw int8 inputs enter the products; the input offset is folded into
// the accumulator's initial value (bias + offset * sum of the filter) at
// load, and a tap outside the input is fed the input zero point
// (x + offset = 0), so every tap contributes exactly as in the reference.
// Int32 sums wrap like the reference's (addition modulo 2^32 is
// associative). Requantization: cnnrt_requant_s32 (MultiplyByQuantizedMultiplier).
#if arch(arm64)
import _CNNRuntimeShims

/// Requantizes 16 accumulators (channels `base`...`base + 15` of the padded
/// arrays) and stores the first `count` int8 results at `out`.
@inline(__always)
func storeBlock16(_ p: cnnrt_arm_conv_args, _ base: Int, _ a0: int32x4_t, _ a1: int32x4_t, _ a2: int32x4_t,
                  _ a3: int32x4_t, _ out: UnsafeMutablePointer<Int8>, _ count: Int,
                  _ offset: int32x4_t, _ lo: int8x16_t, _ hi: int8x16_t) {
  let m = p.multiplier!.advanced(by: base), l = p.left_shift!.advanced(by: base)
  let r = p.neg_right_shift!.advanced(by: base)
  let q0 = cnnrt_requant_s32(a0, cnnrt_ld_s32(m), cnnrt_ld_s32(l), cnnrt_ld_s32(r))
  let q1 = cnnrt_requant_s32(a1, cnnrt_ld_s32(m + 4), cnnrt_ld_s32(l + 4), cnnrt_ld_s32(r + 4))
  let q2 = cnnrt_requant_s32(a2, cnnrt_ld_s32(m + 8), cnnrt_ld_s32(l + 8), cnnrt_ld_s32(r + 8))
  let q3 = cnnrt_requant_s32(a3, cnnrt_ld_s32(m + 12), cnnrt_ld_s32(l + 12), cnnrt_ld_s32(r + 12))
  let v = cnnrt_narrow16(q0, q1, q2, q3, offset, lo, hi)
  if count >= 16 {
    cnnrt_st_s8(out, v)
  } else {
    var tmp = (Int64(0), Int64(0))
    withUnsafeMutableBytes(of: &tmp) { t in
      let tp = t.baseAddress!.assumingMemoryBound(to: Int8.self)
      cnnrt_st_s8(tp, v)
      var i = 0
      while i < count { out[i] = tp[i]; i += 1 }
    }
  }
}

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtConv2DArm(_ a: UnsafePointer<cnnrt_arm_conv_args>, _ input: UnsafePointer<Int8>,
                           _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let weights = p.weights, let accInit = p.acc_init else { return }
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), inC = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w), outC = Int(p.out_c)
  let kH = Int(p.k_h), kW = Int(p.k_w), sH = Int(p.stride_h), sW = Int(p.stride_w)
  let dH = Int(p.dilation_h), dW = Int(p.dilation_w), padT = Int(p.pad_top), padL = Int(p.pad_left)
  let cGroups = Int(p.c_groups), blocks = Int(p.oc_blocks)
  let fullGroups = inC / 4, tailC = inC - fullGroups * 4
  let offset = vdupq_n_s32(p.output_offset)
  let lo = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_min)), hi = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_max))
  // The input zero point in every byte: what a tap outside the input reads.
  let zp = UInt32(UInt8(truncatingIfNeeded: 0 &- p.input_offset))
  let zpWord = Int32(bitPattern: zp | zp << 8 | zp << 16 | zp << 24)
  let zpVec = cnnrt_dup32_s8(zpWord)
  let blockBytes = kH * kW * cGroups * 64
  var b = 0
  while b < batches {
    var oy = 0
    while oy < outH {
      var ox = 0
      while ox < outW {
        let out = output + ((b * outH + oy) * outW + ox) * outC
        var blk = 0
        while blk < blocks {
          let wBlock = weights + blk * blockBytes
          let acc0 = accInit + blk * 16
          var a0 = cnnrt_ld_s32(acc0), a1 = cnnrt_ld_s32(acc0 + 4)
          var a2 = cnnrt_ld_s32(acc0 + 8), a3 = cnnrt_ld_s32(acc0 + 12)
          #if !CNNRT_DOTPROD
          let zero = vdupq_n_s32(0)
          var b0 = zero, b1 = zero, b2 = zero, b3 = zero
          var c0 = zero, c1 = zero, c2 = zero, c3 = zero
          #endif
          var wp = wBlock
          var ky = 0
          while ky < kH {
            let iy = oy * sH - padT + ky * dH
            var kx = 0
            while kx < kW {
              let ix = ox * sW - padL + kx * dW
              let inside = iy >= 0 && iy < inH && ix >= 0 && ix < inW
              let px = input + (inside ? ((b * inH + iy) * inW + ix) * inC : 0)
              var g = 0
              while g < cGroups {
                let x: int8x16_t
                if !inside {
                  x = zpVec
                } else if g < fullGroups {
                  x = cnnrt_dup4_s8(px + 4 * g)
                } else {
                  // The last 1-3 channels, padded with zero points (their weights are 0).
                  var word = zp | zp << 8 | zp << 16 | zp << 24
                  var k = 0
                  while k < tailC {
                    let byte = UInt32(UInt8(bitPattern: px[4 * fullGroups + k]))
                    word = (word & ~(UInt32(0xFF) << (8 * UInt32(k)))) | byte << (8 * UInt32(k))
                    k += 1
                  }
                  x = cnnrt_dup32_s8(Int32(bitPattern: word))
                }
                let w0 = cnnrt_ld_s8(wp), w1 = cnnrt_ld_s8(wp + 16), w2 = cnnrt_ld_s8(wp + 32), w3 = cnnrt_ld_s8(wp + 48)
                #if CNNRT_DOTPROD
                a0 = cnnrt_sdot(a0, w0, x); a1 = cnnrt_sdot(a1, w1, x)
                a2 = cnnrt_sdot(a2, w2, x); a3 = cnnrt_sdot(a3, w3, x)
                #else
                b0 = cnnrt_padal_s16(b0, cnnrt_mull_lo_s8(w0, x)); c0 = cnnrt_padal_s16(c0, cnnrt_mull_hi_s8(w0, x))
                b1 = cnnrt_padal_s16(b1, cnnrt_mull_lo_s8(w1, x)); c1 = cnnrt_padal_s16(c1, cnnrt_mull_hi_s8(w1, x))
                b2 = cnnrt_padal_s16(b2, cnnrt_mull_lo_s8(w2, x)); c2 = cnnrt_padal_s16(c2, cnnrt_mull_hi_s8(w2, x))
                b3 = cnnrt_padal_s16(b3, cnnrt_mull_lo_s8(w3, x)); c3 = cnnrt_padal_s16(c3, cnnrt_mull_hi_s8(w3, x))
                #endif
                wp += 64
                g += 1
              }
              kx += 1
            }
            ky += 1
          }
          #if !CNNRT_DOTPROD
          // b_j = [oc 4j: c01, c23; oc 4j+1: c01, c23], c_j likewise for 4j+2, 4j+3.
          a0 = vaddq_s32(a0, cnnrt_padd_s32(b0, c0)); a1 = vaddq_s32(a1, cnnrt_padd_s32(b1, c1))
          a2 = vaddq_s32(a2, cnnrt_padd_s32(b2, c2)); a3 = vaddq_s32(a3, cnnrt_padd_s32(b3, c3))
          #endif
          storeBlock16(p, blk * 16, a0, a1, a2, a3, out + blk * 16, outC - blk * 16, offset, lo, hi)
          blk += 1
        }
        ox += 1
      }
      oy += 1
    }
    b += 1
  }
}

/// Depthwise: 16 output channels at a time; each tap's (x + input offset)
/// as int16 times the int16 weight, accumulated with SMLAL into int32 (the
/// same on both builds: SDOT sums across channels, which depthwise does
/// not). Taps outside the input are skipped (they contribute 0 in the
/// reference). Depth multiplier m > 1: output channel o reads input channel
/// o / m, gathered into a 16-byte stack vector.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtDepthwiseArm(_ a: UnsafePointer<cnnrt_arm_conv_args>, _ input: UnsafePointer<Int8>,
                              _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let weights = p.weights, let accInit = p.acc_init else { return }
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), inC = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w), outC = Int(p.out_c)
  let kH = Int(p.k_h), kW = Int(p.k_w), sH = Int(p.stride_h), sW = Int(p.stride_w)
  let dH = Int(p.dilation_h), dW = Int(p.dilation_w), padT = Int(p.pad_top), padL = Int(p.pad_left)
  let blocks = Int(p.oc_blocks), mult = Int(p.depth_multiplier)
  let paddedC = blocks * 16
  let offset = vdupq_n_s32(p.output_offset)
  let inOff = vdupq_n_s16(Int16(truncatingIfNeeded: p.input_offset))
  let lo = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_min)), hi = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_max))
  var gather = (Int64(0), Int64(0))
  withUnsafeMutableBytes(of: &gather) { g in
    let tmp = g.baseAddress!.assumingMemoryBound(to: Int8.self)
    var b = 0
    while b < batches {
      var oy = 0
      while oy < outH {
        var ox = 0
        while ox < outW {
          let out = output + ((b * outH + oy) * outW + ox) * outC
          var blk = 0
          while blk < blocks {
            let c0 = blk * 16
            let n = outC - c0 < 16 ? outC - c0 : 16
            let acc0 = accInit + c0
            var a0 = cnnrt_ld_s32(acc0), a1 = cnnrt_ld_s32(acc0 + 4)
            var a2 = cnnrt_ld_s32(acc0 + 8), a3 = cnnrt_ld_s32(acc0 + 12)
            var ky = 0
            while ky < kH {
              let iy = oy * sH - padT + ky * dH
              if iy >= 0 && iy < inH {
                var kx = 0
                while kx < kW {
                  let ix = ox * sW - padL + kx * dW
                  if ix >= 0 && ix < inW {
                    let px = input + ((b * inH + iy) * inW + ix) * inC
                    let x: int8x16_t
                    if mult == 1 && n == 16 {
                      x = cnnrt_ld_s8(px + c0)
                    } else {
                      var j = 0
                      while j < 16 { tmp[j] = j < n ? px[(c0 + j) / mult] : 0; j += 1 }
                      x = cnnrt_ld_s8(tmp)
                    }
                    let w = cnnrt_ld_s8(weights + (ky * kW + kx) * paddedC + c0)
                    let xl = vaddq_s16(cnnrt_widen_lo_s8(x), inOff), xh = vaddq_s16(cnnrt_widen_hi_s8(x), inOff)
                    let wl = cnnrt_widen_lo_s8(w), wh = cnnrt_widen_hi_s8(w)
                    a0 = cnnrt_mlal_lo_s16(a0, xl, wl); a1 = cnnrt_mlal_hi_s16(a1, xl, wl)
                    a2 = cnnrt_mlal_lo_s16(a2, xh, wh); a3 = cnnrt_mlal_hi_s16(a3, xh, wh)
                  }
                  kx += 1
                }
              }
              ky += 1
            }
            storeBlock16(p, c0, a0, a1, a2, a3, out + c0, n, offset, lo, hi)
            blk += 1
          }
          ox += 1
        }
        oy += 1
      }
      b += 1
    }
  }
}
#endif
