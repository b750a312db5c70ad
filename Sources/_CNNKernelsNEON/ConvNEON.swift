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

/// The accumulators of 16 output channels of one output pixel.
struct PixelAcc {
  #if CNNRT_DOTPROD
  var a0, a1, a2, a3: int32x4_t
  #else
  // b_j = [oc 4j: c01, c23; oc 4j+1: c01, c23], c_j likewise for oc 4j+2, 4j+3.
  var b0, b1, b2, b3, c0, c1, c2, c3: int32x4_t
  #endif

  @inline(__always) init() {
    let z = vdupq_n_s32(0)
    #if CNNRT_DOTPROD
    a0 = z; a1 = z; a2 = z; a3 = z
    #else
    b0 = z; b1 = z; b2 = z; b3 = z; c0 = z; c1 = z; c2 = z; c3 = z
    #endif
  }

  /// + 16 oc x 4 c weights (w0...w3, 4 oc each) times the 4 input bytes in x.
  @inline(__always) mutating func mac(_ w0: int8x16_t, _ w1: int8x16_t, _ w2: int8x16_t, _ w3: int8x16_t,
                                      _ x: int8x16_t) {
    #if CNNRT_DOTPROD
    a0 = cnnrt_sdot(a0, w0, x); a1 = cnnrt_sdot(a1, w1, x)
    a2 = cnnrt_sdot(a2, w2, x); a3 = cnnrt_sdot(a3, w3, x)
    #else
    b0 = cnnrt_padal_s16(b0, cnnrt_mull_lo_s8(w0, x)); c0 = cnnrt_padal_s16(c0, cnnrt_mull_hi_s8(w0, x))
    b1 = cnnrt_padal_s16(b1, cnnrt_mull_lo_s8(w1, x)); c1 = cnnrt_padal_s16(c1, cnnrt_mull_hi_s8(w1, x))
    b2 = cnnrt_padal_s16(b2, cnnrt_mull_lo_s8(w2, x)); c2 = cnnrt_padal_s16(c2, cnnrt_mull_hi_s8(w2, x))
    b3 = cnnrt_padal_s16(b3, cnnrt_mull_lo_s8(w3, x)); c3 = cnnrt_padal_s16(c3, cnnrt_mull_hi_s8(w3, x))
    #endif
  }

  /// + the packed weights at `wp` (64 bytes) times x.
  @inline(__always) mutating func mac(_ wp: UnsafePointer<Int8>, _ x: int8x16_t) {
    mac(cnnrt_ld_s8(wp), cnnrt_ld_s8(wp + 16), cnnrt_ld_s8(wp + 32), cnnrt_ld_s8(wp + 48), x)
  }

  /// Requantizes (initial values at `initial`, channels `base`...) and stores `count` bytes.
  @inline(__always) func store(_ p: cnnrt_arm_conv_args, _ initial: UnsafePointer<Int32>, _ base: Int,
                               _ out: UnsafeMutablePointer<Int8>, _ count: Int,
                               _ offset: int32x4_t, _ lo: int8x16_t, _ hi: int8x16_t) {
    let i0 = cnnrt_ld_s32(initial), i1 = cnnrt_ld_s32(initial + 4)
    let i2 = cnnrt_ld_s32(initial + 8), i3 = cnnrt_ld_s32(initial + 12)
    #if CNNRT_DOTPROD
    storeBlock16(p, base, vaddq_s32(i0, a0), vaddq_s32(i1, a1), vaddq_s32(i2, a2), vaddq_s32(i3, a3),
                 out, count, offset, lo, hi)
    #else
    storeBlock16(p, base, vaddq_s32(i0, cnnrt_padd_s32(b0, c0)), vaddq_s32(i1, cnnrt_padd_s32(b1, c1)),
                 vaddq_s32(i2, cnnrt_padd_s32(b2, c2)), vaddq_s32(i3, cnnrt_padd_s32(b3, c3)),
                 out, count, offset, lo, hi)
    #endif
  }
}

/// The shapes and window of an argument block as Ints: batches, input H, W,
/// C, output H, W, C, kernel H, W, strides, dilations, top and left padding.
@inline(__always)
func convGeometry(_ p: cnnrt_arm_conv_args)
  -> (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) {
  (Int(p.batches), Int(p.in_h), Int(p.in_w), Int(p.in_c), Int(p.out_h), Int(p.out_w), Int(p.out_c),
   Int(p.k_h), Int(p.k_w), Int(p.stride_h), Int(p.stride_w), Int(p.dilation_h), Int(p.dilation_w),
   Int(p.pad_top), Int(p.pad_left))
}

/// The last 1-3 channels of a pixel as one 4-byte group, padded with the
/// zero-point bytes in `zpWord` (their weights are 0).
@inline(__always)
func tailGroup(_ px: UnsafePointer<Int8>, _ tailC: Int, _ zpWord: UInt32) -> int8x16_t {
  var word = zpWord
  var k = 0
  while k < tailC {
    let byte = UInt32(UInt8(bitPattern: px[k]))
    word = (word & ~(UInt32(0xFF) &<< (8 &* UInt32(k)))) | byte &<< (8 &* UInt32(k))
    k &+= 1
  }
  return cnnrt_dup32_s8(Int32(bitPattern: word))
}

/// Output pixels computed together where every tap of all of them lies
/// inside the input row (the interior): each weight load then serves them all.
#if CNNRT_DOTPROD
let interiorPixels = 4
#else
let interiorPixels = 2
#endif

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtConv2DArm(_ a: UnsafePointer<cnnrt_arm_conv_args>, _ input: UnsafePointer<Int8>,
                           _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let weights = p.weights, let accInit = p.acc_init else { return }
  let (batches, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, padT, padL) = convGeometry(p)
  let cGroups = Int(p.c_groups), blocks = Int(p.oc_blocks)
  let fullGroups = inC / 4, tailC = inC - fullGroups * 4
  let offset = vdupq_n_s32(p.output_offset)
  let lo = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_min)), hi = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_max))
  // The input zero point in every byte: what a tap outside the input reads.
  let zp = UInt32(UInt8(truncatingIfNeeded: 0 &- p.input_offset))
  let zpWord = zp | zp &<< 8 | zp &<< 16 | zp &<< 24
  let zpVec = cnnrt_dup32_s8(Int32(bitPattern: zpWord))
  // Row layout (row_groups > 0): a kernel row's kW * inC bytes are contiguous
  // in the input (dilation_w 1) and packed as one run of groups of 4.
  let rowGroups = Int(p.row_groups)
  let groupsPerRow = rowGroups > 0 ? rowGroups : kW &* cGroups
  let blockBytes = kH &* groupsPerRow &* 64
  let pxStride = sW &* inC
  let inputBytes = batches &* inH &* inW &* inC
  var b = 0
  while b < batches {
    var oy = 0
    while oy < outH {
      let y0 = oy &* sH &- padT
      var ox = 0
      while ox < outW {
        let x0 = ox &* sW &- padL
        let out = output + ((b &* outH &+ oy) &* outW &+ ox) &* outC
        // Interior: `interiorPixels` pixels whose taps all lie inside the row.
        var group = outW &- ox >= interiorPixels && x0 >= 0
          && x0 &+ (interiorPixels &- 1) &* sW &+ (kW &- 1) &* dW < inW
        if group && rowGroups > 0 {
          // The row runs read whole groups of 4: up to 3 bytes past a row's
          // end, which must stay inside the input tensor.
          let lastRow = min(y0 &+ (kH &- 1) &* dH, inH &- 1)
          let last = ((b &* inH &+ lastRow) &* inW &+ x0) &* inC &+ (interiorPixels &- 1) &* pxStride &+ 4 &* rowGroups
          group = last <= inputBytes
        }
        var blk = 0
        while blk < blocks {
          var wp = weights + blk &* blockBytes
          let initial = accInit + blk &* 16
          let n = outC &- blk &* 16
          if group {
            var q0 = PixelAcc(), q1 = PixelAcc()
            #if CNNRT_DOTPROD
            var q2 = PixelAcc(), q3 = PixelAcc()
            #endif
            var ky = 0
            while ky < kH {
              let iy = y0 &+ ky &* dH
              if iy < 0 || iy >= inH {
                var t = 0
                while t < groupsPerRow {
                  let w0 = cnnrt_ld_s8(wp), w1 = cnnrt_ld_s8(wp + 16), w2 = cnnrt_ld_s8(wp + 32), w3 = cnnrt_ld_s8(wp + 48)
                  q0.mac(w0, w1, w2, w3, zpVec); q1.mac(w0, w1, w2, w3, zpVec)
                  #if CNNRT_DOTPROD
                  q2.mac(w0, w1, w2, w3, zpVec); q3.mac(w0, w1, w2, w3, zpVec)
                  #endif
                  wp += 64
                  t &+= 1
                }
              } else if rowGroups > 0 {
                var px = input + ((b &* inH &+ iy) &* inW &+ x0) &* inC
                var g = 0
                while g < rowGroups {
                  let w0 = cnnrt_ld_s8(wp), w1 = cnnrt_ld_s8(wp + 16), w2 = cnnrt_ld_s8(wp + 32), w3 = cnnrt_ld_s8(wp + 48)
                  q0.mac(w0, w1, w2, w3, cnnrt_dup4_s8(px))
                  q1.mac(w0, w1, w2, w3, cnnrt_dup4_s8(px + pxStride))
                  #if CNNRT_DOTPROD
                  q2.mac(w0, w1, w2, w3, cnnrt_dup4_s8(px + 2 &* pxStride))
                  q3.mac(w0, w1, w2, w3, cnnrt_dup4_s8(px + 3 &* pxStride))
                  #endif
                  px += 4
                  wp += 64
                  g &+= 1
                }
              } else {
                let row = input + ((b &* inH &+ iy) &* inW &+ x0) &* inC
                var kx = 0
                while kx < kW {
                  var px = row + kx &* dW &* inC
                  var g = 0
                  while g < fullGroups {
                    let w0 = cnnrt_ld_s8(wp), w1 = cnnrt_ld_s8(wp + 16), w2 = cnnrt_ld_s8(wp + 32), w3 = cnnrt_ld_s8(wp + 48)
                    q0.mac(w0, w1, w2, w3, cnnrt_dup4_s8(px))
                    q1.mac(w0, w1, w2, w3, cnnrt_dup4_s8(px + pxStride))
                    #if CNNRT_DOTPROD
                    q2.mac(w0, w1, w2, w3, cnnrt_dup4_s8(px + 2 &* pxStride))
                    q3.mac(w0, w1, w2, w3, cnnrt_dup4_s8(px + 3 &* pxStride))
                    #endif
                    px += 4
                    wp += 64
                    g &+= 1
                  }
                  if tailC > 0 {
                    let w0 = cnnrt_ld_s8(wp), w1 = cnnrt_ld_s8(wp + 16), w2 = cnnrt_ld_s8(wp + 32), w3 = cnnrt_ld_s8(wp + 48)
                    q0.mac(w0, w1, w2, w3, tailGroup(px, tailC, zpWord))
                    q1.mac(w0, w1, w2, w3, tailGroup(px + pxStride, tailC, zpWord))
                    #if CNNRT_DOTPROD
                    q2.mac(w0, w1, w2, w3, tailGroup(px + 2 &* pxStride, tailC, zpWord))
                    q3.mac(w0, w1, w2, w3, tailGroup(px + 3 &* pxStride, tailC, zpWord))
                    #endif
                    wp += 64
                  }
                  kx &+= 1
                }
              }
              ky &+= 1
            }
            q0.store(p, initial, blk &* 16, out + blk &* 16, n, offset, lo, hi)
            q1.store(p, initial, blk &* 16, out + outC + blk &* 16, n, offset, lo, hi)
            #if CNNRT_DOTPROD
            q2.store(p, initial, blk &* 16, out + 2 &* outC + blk &* 16, n, offset, lo, hi)
            q3.store(p, initial, blk &* 16, out + 3 &* outC + blk &* 16, n, offset, lo, hi)
            #endif
          } else {
            // One pixel, any tap possibly outside the input (fed the zero point).
            var q = PixelAcc()
            var ky = 0
            while ky < kH && rowGroups > 0 {
              // Row layout: each group's 4 bytes gathered, zero points outside.
              let iy = y0 &+ ky &* dH
              var g = 0
              while g < rowGroups {
                var word = zpWord
                if iy >= 0 && iy < inH {
                  var e = 0
                  while e < 4 {
                    let k = 4 &* g &+ e, kx = k / inC, ix = x0 &+ kx
                    if kx < kW && ix >= 0 && ix < inW {
                      let byte = UInt32(UInt8(bitPattern: input[((b &* inH &+ iy) &* inW &+ ix) &* inC &+ k &- kx &* inC]))
                      word = (word & ~(UInt32(0xFF) &<< (8 &* UInt32(e)))) | byte &<< (8 &* UInt32(e))
                    }
                    e &+= 1
                  }
                }
                q.mac(wp, cnnrt_dup32_s8(Int32(bitPattern: word)))
                wp += 64
                g &+= 1
              }
              ky &+= 1
            }
            while ky < kH {
              let iy = y0 &+ ky &* dH
              var kx = 0
              while kx < kW {
                let ix = x0 &+ kx &* dW
                if iy < 0 || iy >= inH || ix < 0 || ix >= inW {
                  var g = 0
                  while g < cGroups { q.mac(wp, zpVec); wp += 64; g &+= 1 }
                } else {
                  var px = input + ((b &* inH &+ iy) &* inW &+ ix) &* inC
                  var g = 0
                  while g < fullGroups { q.mac(wp, cnnrt_dup4_s8(px)); px += 4; wp += 64; g &+= 1 }
                  if tailC > 0 { q.mac(wp, tailGroup(px, tailC, zpWord)); wp += 64 }
                }
                kx &+= 1
              }
              ky &+= 1
            }
            q.store(p, initial, blk &* 16, out + blk &* 16, n, offset, lo, hi)
          }
          blk &+= 1
        }
        ox &+= group ? interiorPixels : 1
      }
      oy &+= 1
    }
    b &+= 1
  }
}

/// Depthwise: 16 output channels at a time. As in Conv2D the raw int8
/// inputs are multiplied (SMULL/SMULL2: exact int16 products) and widened
/// into int32 (SADDW/SADDW2); the input offset is in the initial value
/// (bias + input_offset * sum of the channel's taps, from the load) and a
/// tap outside the input reads the input zero point. The same code on both
/// builds (SDOT sums across channels, which depthwise does not). Interior
/// pixels (every tap inside) skip the bounds checks; a depth multiplier
/// m > 1 (output channel o reads input channel o / m) and the last partial
/// block go through a 16-byte stack gather.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtDepthwiseArm(_ a: UnsafePointer<cnnrt_arm_conv_args>, _ input: UnsafePointer<Int8>,
                              _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let weights = p.weights, let accInit = p.acc_init else { return }
  let (batches, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, padT, padL) = convGeometry(p)
  let blocks = Int(p.oc_blocks), mult = Int(p.depth_multiplier)
  let paddedC = blocks &* 16
  let offset = vdupq_n_s32(p.output_offset)
  let zp = Int8(truncatingIfNeeded: 0 &- p.input_offset)
  let zpVec = vdupq_n_s8(zp)
  let lo = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_min)), hi = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_max))
  let tapStep = dW &* inC
  var gather = (Int64(0), Int64(0))
  withUnsafeMutableBytes(of: &gather) { g in
    let tmp = g.baseAddress!.assumingMemoryBound(to: Int8.self)
    var b = 0
    while b < batches {
      var oy = 0
      while oy < outH {
        let y0 = oy &* sH &- padT
        let rowsInside = y0 >= 0 && y0 &+ (kH &- 1) &* dH < inH
        var ox = 0
        while ox < outW {
          let x0 = ox &* sW &- padL
          let interior = rowsInside && x0 >= 0 && x0 &+ (kW &- 1) &* dW < inW
          let out = output + ((b &* outH &+ oy) &* outW &+ ox) &* outC
          var blk = 0
          while blk < blocks {
            let c0 = blk &* 16
            let n = outC &- c0 < 16 ? outC &- c0 : 16
            let z = vdupq_n_s32(0)
            var s0 = z, s1 = z, s2 = z, s3 = z
            var wp = weights + c0
            let direct = mult == 1 && n == 16
            if direct && interior {
              let first: Int = ((b &* inH &+ y0) &* inW &+ x0) &* inC &+ c0
              var row = input + first
              var ky = 0
              while ky < kH {
                var px = row
                var kx = 0
                while kx < kW {
                  let x = cnnrt_ld_s8(px), w = cnnrt_ld_s8(wp)
                  let pl = cnnrt_mull_lo_s8(w, x), ph = cnnrt_mull_hi_s8(w, x)
                  s0 = cnnrt_addw_lo_s16(s0, pl); s1 = cnnrt_addw_hi_s16(s1, pl)
                  s2 = cnnrt_addw_lo_s16(s2, ph); s3 = cnnrt_addw_hi_s16(s3, ph)
                  px += tapStep
                  wp += paddedC
                  kx &+= 1
                }
                row += dH &* inW &* inC
                ky &+= 1
              }
            } else {
              var ky = 0
              while ky < kH {
                let iy = y0 &+ ky &* dH
                var kx = 0
                while kx < kW {
                  let ix = x0 &+ kx &* dW
                  let x: int8x16_t
                  if iy < 0 || iy >= inH || ix < 0 || ix >= inW {
                    x = zpVec
                  } else {
                    let px = input + ((b &* inH &+ iy) &* inW &+ ix) &* inC
                    if direct {
                      x = cnnrt_ld_s8(px + c0)
                    } else {
                      var j = 0
                      while j < 16 { tmp[j] = j < n ? px[(c0 &+ j) / mult] : zp; j &+= 1 }
                      x = cnnrt_ld_s8(tmp)
                    }
                  }
                  let w = cnnrt_ld_s8(wp)
                  let pl = cnnrt_mull_lo_s8(w, x), ph = cnnrt_mull_hi_s8(w, x)
                  s0 = cnnrt_addw_lo_s16(s0, pl); s1 = cnnrt_addw_hi_s16(s1, pl)
                  s2 = cnnrt_addw_lo_s16(s2, ph); s3 = cnnrt_addw_hi_s16(s3, ph)
                  wp += paddedC
                  kx &+= 1
                }
                ky &+= 1
              }
            }
            let initial = accInit + c0
            storeBlock16(p, c0, vaddq_s32(s0, cnnrt_ld_s32(initial)), vaddq_s32(s1, cnnrt_ld_s32(initial + 4)),
                         vaddq_s32(s2, cnnrt_ld_s32(initial + 8)), vaddq_s32(s3, cnnrt_ld_s32(initial + 12)),
                         out + c0, n, offset, lo, hi)
            blk &+= 1
          }
          ox &+= 1
        }
        oy &+= 1
      }
      b &+= 1
    }
  }
}
#endif
