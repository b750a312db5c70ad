// aarch64 Add, max / average pooling, Mean, PReLU, Mul, the byte-table
// activations, the two-group channel shuffle and bilinear resize, sixteen
// channels (bytes) at a time, bit-exact with addReference,
// maxPool2DReference, averagePool2DReference, meanReference, preluReference,
// mulReference, byteTableReference, the Gather op's interleave loop and
// resizeBilinearReference; and TransposeConv (transposeConvReference), eight
// output channels at a time. None of them
// needs SDOT, so both builds (NEON and DotProd) compile the same code and
// the runtime calls the NEON module's copy on both paths.
#if arch(arm64)
import _CNNRuntimeShims

/// Loads `n` (< 16) bytes through a zeroed 16-byte stack copy.
@inline(__always)
func loadPartial(_ p: UnsafePointer<Int8>, _ n: Int, _ tmp: UnsafeMutablePointer<Int8>) -> int8x16_t {
  var i = 0
  while i < 16 { tmp[i] = i < n ? p[i] : 0; i += 1 }
  return cnnrt_ld_s8(tmp)
}

/// Stores the first `n` bytes of `v` (all 16 when n >= 16).
@inline(__always)
func storePartial(_ out: UnsafeMutablePointer<Int8>, _ v: int8x16_t, _ n: Int, _ tmp: UnsafeMutablePointer<Int8>) {
  if n >= 16 { cnnrt_st_s8(out, v); return }
  cnnrt_st_s8(tmp, v)
  var i = 0
  while i < n { out[i] = tmp[i]; i += 1 }
}

/// A shift of MultiplyByQuantizedMultiplier as cnnrt_requant_s32 takes it:
/// the left shift counts and the negated right shifts, in every lane.
@inline(__always)
func requantShifts(_ s: Int32) -> (int32x4_t, int32x4_t) {
  (vdupq_n_s32(s > 0 ? s : 0), vdupq_n_s32(s < 0 ? s : 0))
}

/// Runs `body` with a 16-byte stack scratch (no allocation).
@inline(__always)
func withScratch16(_ body: (UnsafeMutablePointer<Int8>) -> Void) {
  var s = (Int64(0), Int64(0))
  withUnsafeMutableBytes(of: &s) { body($0.baseAddress!.assumingMemoryBound(to: Int8.self)) }
}

// MARK: - Add

/// `count` elements of Add; input k advances by `stride_k` (1, or 0 for a
/// value broadcast along the run). Per element as addElement:
/// MBQM((x1 + off1) << left, m1, s1) + MBQM((x2 + off2) << left, m2, s2),
/// then MBQM(., mo, so) + output offset, clamped. |x + off| <= 255 and
/// left <= 20 in practice; the shifts wrap like the reference's &<<.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAddArm(_ a: UnsafePointer<cnnrt_add_args>, _ count: Int,
                        _ input1: UnsafePointer<Int8>, _ stride1: Int,
                        _ input2: UnsafePointer<Int8>, _ stride2: Int,
                        _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard count > 0 else { return }
  let off1 = vdupq_n_s16(Int16(truncatingIfNeeded: p.input1_offset))
  let off2 = vdupq_n_s16(Int16(truncatingIfNeeded: p.input2_offset))
  let left = vdupq_n_s32(p.left_shift)
  let (l1, r1) = requantShifts(p.input1_shift), (l2, r2) = requantShifts(p.input2_shift)
  let (lo, ro) = requantShifts(p.output_shift)
  let m1 = vdupq_n_s32(p.input1_multiplier), m2 = vdupq_n_s32(p.input2_multiplier)
  let mo = vdupq_n_s32(p.output_multiplier)
  binaryRowArm(count, input1, stride1, off1, input2, stride2, off2, output, p.output_offset, p.act_min,
               p.act_max) { x1, x2, high in
    let w1 = high ? cnnrt_widen_hi_s16(x1) : cnnrt_widen_lo_s16(x1)
    let w2 = high ? cnnrt_widen_hi_s16(x2) : cnnrt_widen_lo_s16(x2)
    let s1 = cnnrt_requant_s32(vshlq_s32(w1, left), m1, l1, r1)
    let s2 = cnnrt_requant_s32(vshlq_s32(w2, left), m2, l2, r2)
    return cnnrt_requant_s32(vaddq_s32(s1, s2), mo, lo, ro)
  }
}

/// The row walk of a two-input elementwise op (Add, Mul): 16 elements per
/// step, input k advancing by stride k (1, or 0 for one value repeated),
/// each widened to int16 plus its offset; `four(x1, x2, high)` gives the
/// int32 results of the low or high four lanes of the two int16 vectors,
/// which get the output offset, are clamped to [actMin, actMax] and stored
/// as int8. The tail (< 16) through zeroed copies.
@inline(__always)
func binaryRowArm(_ count: Int, _ input1: UnsafePointer<Int8>, _ stride1: Int, _ off1: int16x8_t,
                  _ input2: UnsafePointer<Int8>, _ stride2: Int, _ off2: int16x8_t,
                  _ output: UnsafeMutablePointer<Int8>, _ outputOffset: Int32, _ actMin: Int32, _ actMax: Int32,
                  _ four: (int16x8_t, int16x8_t, Bool) -> int32x4_t) {
  let offset = vdupq_n_s32(outputOffset)
  let actLo = vdupq_n_s8(Int8(truncatingIfNeeded: actMin)), actHi = vdupq_n_s8(Int8(truncatingIfNeeded: actMax))
  withScratch16 { tmp in
    let splat1 = vdupq_n_s8(input1[0]), splat2 = vdupq_n_s8(input2[0])
    var i = 0
    while i < count {
      let n = count - i
      let x1 = stride1 == 0 ? splat1 : (n >= 16 ? cnnrt_ld_s8(input1 + i) : loadPartial(input1 + i, n, tmp))
      let x2 = stride2 == 0 ? splat2 : (n >= 16 ? cnnrt_ld_s8(input2 + i) : loadPartial(input2 + i, n, tmp))
      let a1 = vaddq_s16(cnnrt_widen_lo_s8(x1), off1), b1 = vaddq_s16(cnnrt_widen_hi_s8(x1), off1)
      let a2 = vaddq_s16(cnnrt_widen_lo_s8(x2), off2), b2 = vaddq_s16(cnnrt_widen_hi_s8(x2), off2)
      let v = cnnrt_narrow16(four(a1, a2, false), four(a1, a2, true), four(b1, b2, false), four(b1, b2, true),
                             offset, actLo, actHi)
      storePartial(output + i, v, n, tmp)
      i += 16
    }
  }
}

// MARK: - Pooling

/// Max pooling: the byte maximum over the window's valid taps (from -128),
/// clamped to the activation range.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMaxPoolArm(_ a: UnsafePointer<cnnrt_pool_args>, _ input: UnsafePointer<Int8>,
                            _ output: UnsafeMutablePointer<Int8>) {
  poolArm(a, input, output, average: false)
}

/// Average pooling: per channel the sum over the window's valid taps in
/// int16 (the runtime allows at most 256 taps: |sum| <= 32,768), then
/// (sum ± count / 2) / count truncated (ties away from zero) per lane, clamped.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtAveragePoolArm(_ a: UnsafePointer<cnnrt_pool_args>, _ input: UnsafePointer<Int8>,
                                _ output: UnsafeMutablePointer<Int8>) {
  poolArm(a, input, output, average: true)
}

@inline(__always)
func poolArm(_ a: UnsafePointer<cnnrt_pool_args>, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>,
             average: Bool) {
  let p = a.pointee
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), channels = Int(p.channels)
  let outH = Int(p.out_h), outW = Int(p.out_w), fH = Int(p.filter_h), fW = Int(p.filter_w)
  let sH = Int(p.stride_h), sW = Int(p.stride_w), padT = Int(p.pad_top), padL = Int(p.pad_left)
  let actMin = p.act_min, actMax = p.act_max
  let actLo = vdupq_n_s8(Int8(truncatingIfNeeded: actMin)), actHi = vdupq_n_s8(Int8(truncatingIfNeeded: actMax))
  var sums = (Int64(0), Int64(0), Int64(0), Int64(0))
  withUnsafeMutableBytes(of: &sums) { sumsRaw in
    let lanes = sumsRaw.baseAddress!.assumingMemoryBound(to: Int16.self)
    withScratch16 { tmp in
      var b = 0
      while b < batches {
        var oy = 0
        while oy < outH {
          let y0 = oy * sH - padT
          let fy0 = y0 < 0 ? -y0 : 0
          let fy1 = max(fy0, min(fH, inH - y0))
          var ox = 0
          while ox < outW {
            let x0 = ox * sW - padL
            let fx0 = x0 < 0 ? -x0 : 0
            let fx1 = max(fx0, min(fW, inW - x0))
            let count = Int32((fy1 - fy0) * (fx1 - fx0))
            let out = output + ((b * outH + oy) * outW + ox) * channels
            var c = 0
            while c < channels {
              let n = channels - c
              var mx = vdupq_n_s8(-128)
              var sLo = vdupq_n_s16(0), sHi = vdupq_n_s16(0)
              var fy = fy0
              while fy < fy1 {
                var fx = fx0
                let row = input + ((b * inH + y0 + fy) * inW + x0) * channels + c
                while fx < fx1 {
                  let px = row + fx * channels
                  let v = n >= 16 ? cnnrt_ld_s8(px) : loadPartial(px, n, tmp)
                  if average {
                    sLo = cnnrt_addw_lo_s8(sLo, v); sHi = cnnrt_addw_hi_s8(sHi, v)
                  } else {
                    mx = vmaxq_s8(mx, v)
                  }
                  fx += 1
                }
                fy += 1
              }
              if average {
                cnnrt_st_s16(lanes, sLo); cnnrt_st_s16(lanes + 8, sHi)
                var i = 0
                while i < (n < 16 ? n : 16) {
                  var acc = Int32(lanes[i])
                  if count > 0 {
                    let half = count / 2
                    acc = acc > 0 ? (acc &+ half) / count : (acc &- half) / count
                  }
                  acc = acc < actMin ? actMin : (acc > actMax ? actMax : acc)
                  out[c + i] = Int8(truncatingIfNeeded: acc)
                  i += 1
                }
              } else {
                storePartial(out + c, vminq_s8(vmaxq_s8(mx, actLo), actHi), n, tmp)
              }
              c += 16
            }
            ox += 1
          }
          oy += 1
        }
        b += 1
      }
    }
  }
}

// MARK: - Mean

/// Mean of an [outer, reduced, inner] view over `reduced`: per (o, i) the
/// int32 sum (wrapping), minus input_zero_point * reduced, requantized with
/// one multiplier and shift, + output zero point, clamped to int8.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMeanArm(_ outer: Int, _ reduced: Int, _ inner: Int, _ zeroPointTimesCount: Int32,
                         _ multiplier: Int32, _ shift: Int32, _ outputZeroPoint: Int32,
                         _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>) {
  guard outer > 0, reduced > 0, inner > 0 else { return }
  let zp = vdupq_n_s32(zeroPointTimesCount), mult = vdupq_n_s32(multiplier)
  let left = vdupq_n_s32(shift > 0 ? shift : 0), negRight = vdupq_n_s32(shift < 0 ? shift : 0)
  let offset = vdupq_n_s32(outputZeroPoint)
  let lo = vdupq_n_s8(-128), hi = vdupq_n_s8(127)
  withScratch16 { tmp in
    var o = 0
    while o < outer {
      let base = input + o * reduced * inner
      var c = 0
      while c < inner {
        let n = inner - c
        var a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0
        var r = 0
        while r < reduced {
          let px = base + r * inner + c
          let v = n >= 16 ? cnnrt_ld_s8(px) : loadPartial(px, n, tmp)
          let l16 = cnnrt_widen_lo_s8(v), h16 = cnnrt_widen_hi_s8(v)
          a0 = cnnrt_addw_lo_s16(a0, l16); a1 = cnnrt_addw_hi_s16(a1, l16)
          a2 = cnnrt_addw_lo_s16(a2, h16); a3 = cnnrt_addw_hi_s16(a3, h16)
          r += 1
        }
        let q0 = cnnrt_requant_s32(vsubq_s32(a0, zp), mult, left, negRight)
        let q1 = cnnrt_requant_s32(vsubq_s32(a1, zp), mult, left, negRight)
        let q2 = cnnrt_requant_s32(vsubq_s32(a2, zp), mult, left, negRight)
        let q3 = cnnrt_requant_s32(vsubq_s32(a3, zp), mult, left, negRight)
        storePartial(output + o * inner + c, cnnrt_narrow16(q0, q1, q2, q3, offset, lo, hi), n, tmp)
        c += 16
      }
      o += 1
    }
  }
}

// MARK: - PReLU

/// PReLU of `count` elements, element i reading alpha[i mod alphaCount]
/// (`alpha` holds whole periods of the op's alpha), bit-exact with
/// preluReference: d = x − zp_in; d >= 0: MBQM(d, M_1, s_1), else
/// MBQM(d × (a − zp_a), M_2, s_2); + zp_out, saturated to int8. Both
/// branches run on four int32 lanes and the sign of d selects (|d| <= 255,
/// |d × (a − zp_a)| <= 255², cnnrt_requant_s32 for shifts in −31...31).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtPreluArm(_ input: UnsafePointer<Int8>, _ count: Int, _ alpha: UnsafePointer<Int8>, _ alphaCount: Int,
                          _ inputZeroPoint: Int32, _ alphaZeroPoint: Int32, _ outputZeroPoint: Int32,
                          _ identityMultiplier: Int32, _ identityShift: Int32, _ alphaMultiplier: Int32,
                          _ alphaShift: Int32, _ output: UnsafeMutablePointer<Int8>) {
  guard count > 0, alphaCount > 0 else { return }
  let zpIn = vdupq_n_s16(Int16(truncatingIfNeeded: inputZeroPoint))
  let zpA = vdupq_n_s16(Int16(truncatingIfNeeded: alphaZeroPoint))
  let (l1, r1) = requantShifts(identityShift), (l2, r2) = requantShifts(alphaShift)
  let m1 = vdupq_n_s32(identityMultiplier), m2 = vdupq_n_s32(alphaMultiplier)
  let offset = vdupq_n_s32(outputZeroPoint), zero = vdupq_n_s32(0)
  let actLo = vdupq_n_s8(-128), actHi = vdupq_n_s8(127)
  @inline(__always) func four(_ d: int16x8_t, _ a: int16x8_t, high: Bool) -> int32x4_t {
    let d32 = high ? cnnrt_widen_hi_s16(d) : cnnrt_widen_lo_s16(d)
    let a32 = high ? cnnrt_widen_hi_s16(a) : cnnrt_widen_lo_s16(a)
    let pos = cnnrt_requant_s32(d32, m1, l1, r1)
    let neg = cnnrt_requant_s32(vmulq_s32(d32, a32), m2, l2, r2)
    return vbslq_s32(vcltq_s32(d32, zero), neg, pos)
  }
  withScratch16 { tmp in
    var i = 0
    while i < count {
      let run = min(alphaCount, count - i)
      var j = 0
      while j < run {
        let n = run - j
        let x = n >= 16 ? cnnrt_ld_s8(input + (i + j)) : loadPartial(input + (i + j), n, tmp)
        let a = n >= 16 ? cnnrt_ld_s8(alpha + j) : loadPartial(alpha + j, n, tmp)
        let dLo = vsubq_s16(cnnrt_widen_lo_s8(x), zpIn), dHi = vsubq_s16(cnnrt_widen_hi_s8(x), zpIn)
        let aLo = vsubq_s16(cnnrt_widen_lo_s8(a), zpA), aHi = vsubq_s16(cnnrt_widen_hi_s8(a), zpA)
        let v = cnnrt_narrow16(four(dLo, aLo, high: false), four(dLo, aLo, high: true),
                               four(dHi, aHi, high: false), four(dHi, aHi, high: true), offset, actLo, actHi)
        storePartial(output + (i + j), v, n, tmp)
        j += 16
      }
      i += run
    }
  }
}

// MARK: - Mul

/// `count` elements of Mul; input k advances by `stride_k` (1, or 0 for a
/// value broadcast along the run). Per element as mulReference:
/// MBQM((x1 + off1) × (x2 + off2), M, shift) + output offset, clamped.
/// |x + off| <= 383 (offsets in −255...255, mulKernelArgs), so the offset
/// inputs are exact in int16 and their products (vmull_s16) in int32.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMulArm(_ a: UnsafePointer<cnnrt_mul_args>, _ count: Int,
                        _ input1: UnsafePointer<Int8>, _ stride1: Int,
                        _ input2: UnsafePointer<Int8>, _ stride2: Int,
                        _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard count > 0 else { return }
  let off1 = vdupq_n_s16(Int16(truncatingIfNeeded: p.input1_offset))
  let off2 = vdupq_n_s16(Int16(truncatingIfNeeded: p.input2_offset))
  let (left, right) = requantShifts(p.output_shift)
  let m = vdupq_n_s32(p.output_multiplier)
  binaryRowArm(count, input1, stride1, off1, input2, stride2, off2, output, p.output_offset, p.act_min,
               p.act_max) { x1, x2, high in
    let prod = high ? vmull_high_s16(x1, x2) : vmull_s16(vget_low_s16(x1), vget_low_s16(x2))
    return cnnrt_requant_s32(prod, m, left, right)
  }
}

// MARK: - Byte tables

/// out[i] = table[in[i] + 128] for `count` bytes, bit-exact with
/// byteTableReference (every byte-function activation). With u = in ^ 0x80
/// (= in + 128 as an unsigned byte), TBL looks u up in the table's first 64
/// bytes (0 past them) and three TBX look u − 64, u − 128 and u − 192 up in
/// the next three quarters (each leaves the lanes whose index is past its
/// 64 bytes, wrapped below 0 included, as they were): each lane gets exactly
/// one entry. 16 bytes per step; the tail through a zeroed copy.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtByteTableArm(_ table: UnsafePointer<Int8>, _ count: Int, _ input: UnsafePointer<Int8>,
                              _ output: UnsafeMutablePointer<Int8>) {
  guard count > 0 else { return }
  let t0 = cnnrt_ld4_s8(table), t1 = cnnrt_ld4_s8(table + 64)
  let t2 = cnnrt_ld4_s8(table + 128), t3 = cnnrt_ld4_s8(table + 192)
  let flip = vdupq_n_u8(0x80), q1 = vdupq_n_u8(64), q2 = vdupq_n_u8(128), q3 = vdupq_n_u8(192)
  @inline(__always) func lookup(_ x: int8x16_t) -> int8x16_t {
    let u = veorq_u8(vreinterpretq_u8_s8(x), flip)
    var r = cnnrt_tbl4_s8(t0, u)
    r = cnnrt_tbx4_s8(r, t1, vsubq_u8(u, q1))
    r = cnnrt_tbx4_s8(r, t2, vsubq_u8(u, q2))
    return cnnrt_tbx4_s8(r, t3, vsubq_u8(u, q3))
  }
  withScratch16 { tmp in
    var i = 0
    while i < count {
      let n = count - i
      let x = n >= 16 ? cnnrt_ld_s8(input + i) : loadPartial(input + i, n, tmp)
      storePartial(output + i, lookup(x), n, tmp)
      i += 16
    }
  }
}

// MARK: - Interleave

/// The interleave of two byte runs (ShuffleNet's two-group channel shuffle,
/// a Gather of channels), bit-exact with the Gather op's loop: per row of 2n
/// bytes, out[2j] = in[j] and out[2j + 1] = in[n + j]. 16 j per step: ZIP1
/// and ZIP2 of the two runs' 16 bytes are the step's 32 outputs in order.
/// When 16 does not divide n, the row's last step starts at n − 16 and
/// writes again some bytes the step before wrote, with the same values (the
/// output does not overlap the input). The caller passes n >= 16.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtInterleave2Arm(_ rows: Int, _ n: Int, _ input: UnsafePointer<Int8>,
                                _ output: UnsafeMutablePointer<Int8>) {
  guard n >= 16 else { return }
  var r = 0
  while r < rows {
    let a = input + r * 2 * n, b = a + n, out = output + r * 2 * n
    @inline(__always) func step(_ j: Int) {
      let va = cnnrt_ld_s8(a + j), vb = cnnrt_ld_s8(b + j)
      cnnrt_st_s8(out + 2 * j, vzip1q_s8(va, vb))
      cnnrt_st_s8(out + 2 * j + 16, vzip2q_s8(va, vb))
    }
    var j = 0
    while j + 16 <= n { step(j); j += 16 }
    if j < n { step(n - 16) }
    r += 1
  }
}

// MARK: - Bilinear resize

/// Bilinear resize of an NHWC int8 tensor [batches, inH, inW, channels] to
/// [batches, outH, outW, channels], bit-exact with resizeBilinearReference
/// (TFLM's integer ResizeBilinear). `rows` / `cols` hold one tap per output
/// row / column as three Int32: lower index, upper index, fraction (the
/// upper index's weight; the lower's is 1024 − fraction). The reference's
/// sum over the four neighbours with 20-bit weights wy·wx is regrouped
/// exactly as wx0·(p00·wy0 + p10·wy1) + wx1·(p01·wy0 + p11·wy1) (|inner| <=
/// 2^18, |s| < 2^29), the inner sums by SMULL/SMLAL with the scalar row
/// weights, the outer by MUL/MLA; rounding as the reference:
/// sign(s)·((|s| + 2^19) >> 20). The result is an int8 value (a blend of
/// int8 values), so the saturating narrows are exact. 16 channels per step;
/// the last (< 16) through zeroed copies.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtResizeBilinearArm(_ input: UnsafePointer<Int8>, _ batches: Int, _ inH: Int, _ inW: Int,
                                   _ channels: Int, _ rows: UnsafePointer<Int32>, _ cols: UnsafePointer<Int32>,
                                   _ outH: Int, _ outW: Int, _ output: UnsafeMutablePointer<Int8>) {
  guard batches > 0, inH > 0, inW > 0, channels > 0, outH > 0, outW > 0 else { return }
  let inRow = inW * channels
  let half = vdupq_n_s32(1 << 19), down = vdupq_n_s32(-20), zero = vdupq_n_s32(0)
  withScratch16 { tmp in
    var dst = output
    for b in 0..<batches {
      let batch = input + b * inH * inRow
      for y in 0..<outH {
        let row0 = batch + Int(rows[3 * y]) * inRow, row1 = batch + Int(rows[3 * y + 1]) * inRow
        let wy1 = Int16(truncatingIfNeeded: rows[3 * y + 2]), wy0 = Int16(truncatingIfNeeded: 1024 - rows[3 * y + 2])
        for x in 0..<outW {
          let lo = Int(cols[3 * x]) * channels, hi = Int(cols[3 * x + 1]) * channels
          let wx1 = cols[3 * x + 2], wx0 = 1024 - wx1
          @inline(__always) func four(_ a00: int16x4_t, _ a10: int16x4_t, _ a01: int16x4_t, _ a11: int16x4_t)
            -> int32x4_t {
            let left = vmlal_n_s16(vmull_n_s16(a00, wy0), a10, wy1)
            let right = vmlal_n_s16(vmull_n_s16(a01, wy0), a11, wy1)
            let s = vmlaq_n_s32(vmulq_n_s32(left, wx0), right, wx1)
            let q = vshlq_s32(vaddq_s32(vabsq_s32(s), half), down)
            return vbslq_s32(vcltq_s32(s, zero), vnegq_s32(q), q)
          }
          var c = 0
          while c < channels {
            let n = channels - c
            @inline(__always) func ld(_ p: UnsafePointer<Int8>) -> int8x16_t {
              n >= 16 ? cnnrt_ld_s8(p) : loadPartial(p, n, tmp)
            }
            let p00 = ld(row0 + (lo + c)), p10 = ld(row1 + (lo + c))
            let p01 = ld(row0 + (hi + c)), p11 = ld(row1 + (hi + c))
            let l00 = cnnrt_widen_lo_s8(p00), h00 = cnnrt_widen_hi_s8(p00)
            let l10 = cnnrt_widen_lo_s8(p10), h10 = cnnrt_widen_hi_s8(p10)
            let l01 = cnnrt_widen_lo_s8(p01), h01 = cnnrt_widen_hi_s8(p01)
            let l11 = cnnrt_widen_lo_s8(p11), h11 = cnnrt_widen_hi_s8(p11)
            let r0 = four(vget_low_s16(l00), vget_low_s16(l10), vget_low_s16(l01), vget_low_s16(l11))
            let r1 = four(vget_high_s16(l00), vget_high_s16(l10), vget_high_s16(l01), vget_high_s16(l11))
            let r2 = four(vget_low_s16(h00), vget_low_s16(h10), vget_low_s16(h01), vget_low_s16(h11))
            let r3 = four(vget_high_s16(h00), vget_high_s16(h10), vget_high_s16(h01), vget_high_s16(h11))
            let v = vcombine_s8(vqmovn_s16(vcombine_s16(vqmovn_s32(r0), vqmovn_s32(r1))),
                                vqmovn_s16(vcombine_s16(vqmovn_s32(r2), vqmovn_s32(r3))))
            storePartial(dst + c, v, n, tmp)
            c += 16
          }
          dst += channels
        }
      }
    }
  }
}

// MARK: - TransposeConv

/// Transposed convolution from a cnnrt_conv_args block, bit-exact with
/// transposeConvReference (TFLM's TRANSPOSE_CONV), gathered like it: output
/// pixel (oy, ox) sums the taps (ky, kx) with ky ≡ oy + pad_top (mod
/// stride_h) whose input row iy = (oy + pad_top − ky) / stride_h lies in
/// the input (columns alike). Weights packed at load as [oc_blocks][k_h]
/// [k_w][in_c][8 output channels] int8 (zero past out_c; c_groups = in_c);
/// acc_init the bias (or 0) per padded output channel. Each input x enters
/// as x + input_offset (exact in int16) and SMLAL multiplies it into 8
/// int32 accumulators; the sums wrap like the reference's and equal
/// Σ x·w + input_offset·Σ w + bias modulo 2^32. Requantization:
/// cnnrt_requant_s32, + output offset, clamp.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtTransposeConvArm(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                                  _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let wRaw = p.weights, let accInit = p.acc_init, let mult = p.multiplier, let shift = p.shift else { return }
  let weights = wRaw.assumingMemoryBound(to: Int8.self)
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), inC = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w), outC = Int(p.out_c)
  let kH = Int(p.k_h), kW = Int(p.k_w), sH = Int(p.stride_h), sW = Int(p.stride_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left), blocks = Int(p.oc_blocks)
  guard batches > 0, inH > 0, inW > 0, inC > 0, outH > 0, outW > 0, outC > 0, kH > 0, kW > 0, sH > 0, sW > 0,
        Int(p.c_groups) == inC, blocks == (outC + 7) / 8 else { return }
  let tapBytes = inC * 8, blockBytes = kH * kW * tapBytes
  let off = Int16(truncatingIfNeeded: p.input_offset)
  let offset = vdupq_n_s32(p.output_offset), zero = vdupq_n_s32(0)
  let actLo = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_min)), actHi = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_max))
  withScratch16 { tmp in
    var out = output
    for b in 0..<batches {
      let image = input + b * inH * inW * inC
      for oy in 0..<outH {
        let ty = oy + padTop
        let kyFirst = ((ty % sH) + sH) % sH, iyFirst = (ty - kyFirst) / sH
        // tx = ox + pad_left = ixFirst * sW + kxFirst, stepped along the row.
        var kxFirst = ((padLeft % sW) + sW) % sW, ixFirst = (padLeft - kxFirst) / sW
        for _ in 0..<outW {
          var blk = 0
          while blk < blocks {
            var lo = cnnrt_ld_s32(accInit + blk * 8), hi = cnnrt_ld_s32(accInit + blk * 8 + 4)
            var ky = kyFirst, iy = iyFirst
            while ky < kH && iy >= 0 {
              if iy < inH {
                var kx = kxFirst, ix = ixFirst
                while kx < kW && ix >= 0 {
                  if ix < inW {
                    let xp = image + (iy * inW + ix) * inC
                    let wt = weights + blk * blockBytes + (ky * kW + kx) * tapBytes
                    var c = 0
                    while c < inC {
                      let x = Int16(xp[c]) &+ off
                      let w = vmovl_s8(cnnrt_ld8_s8(wt + c * 8))
                      lo = vmlal_n_s16(lo, vget_low_s16(w), x)
                      hi = vmlal_high_n_s16(hi, w, x)
                      c += 1
                    }
                  }
                  kx += sW
                  ix -= 1
                }
              }
              ky += sH
              iy -= 1
            }
            @inline(__always) func requant(_ acc: int32x4_t, _ at: Int) -> int32x4_t {
              let s = cnnrt_ld_s32(shift + at)
              return cnnrt_requant_s32(acc, cnnrt_ld_s32(mult + at), vmaxq_s32(s, zero), vminq_s32(s, zero))
            }
            let v = cnnrt_narrow16(requant(lo, blk * 8), requant(hi, blk * 8 + 4), zero, zero, offset, actLo, actHi)
            storePartial(out + blk * 8, v, min(8, outC - blk * 8), tmp)
            blk += 1
          }
          out += outC
          kxFirst += 1
          if kxFirst == sW { kxFirst = 0; ixFirst += 1 }
        }
      }
    }
  }
}
#endif
