// AVX-512 VNNI depthwise Conv2D kernel (variant 3), bit-exact with
// depthwiseConv2DReference, for every depth multiplier m and channel count,
// up to CNNRT_AVX512_DW_MAX_TAPS kernel taps (larger kernels keep the AVX2
// kernels, chosen at load by depthwiseConv2DPack).
//
// vpdpbusd sums 4 byte products into one dword lane, so a lane is one output
// channel and its 4 bytes are 4 taps of that channel. The taps (ky, kx) in
// raster order are grouped in quads (the last one completed with zero
// weights and zero bytes, not loaded). For one output pixel, 64 output channels and one quad, the 4
// taps' 64-byte input vectors v0...v3 are transposed within each 128-bit
// lane by vpunpck{l,h}bw (taps 0+1, 2+3) and vpunpck{l,h}wd: r_k, k = 0...3,
// holds in lane L, dword j, the 4 taps of channel 16L + 4k + j. r_k feeds
// accumulator k with the weights packed at load in that order:
//   weights [blocks of 64 channels][quads][k][16 dwords][4 taps] int8
// (the last block only its 16-byte lanes, ceil(channels / 16) of the 4, for
// each quad and k: read with a byte mask). acc_init, multiplier and shift are in the same lane order,
// [blocks][k][16] int32. After the taps, accumulator k is requantized (the
// Conv2D kernel's requantizeAVX512: MultiplyByQuantizedMultiplier, double
// rounding), offset, and vpackssdw (0+1, 2+3) then vpacksswb put the 64
// results back in channel order (the packs work per 128-bit lane, undoing the
// unpacks); the clamp to act_min...act_max (inside int8) after the
// saturating packs equals the clamp before them.
//
// vpdpbusd multiplies unsigned by signed bytes, so inputs enter as
// u = x + 128 (x XOR 0x80); acc_init = bias - (128 - off) * sum(w) over the
// channel's taps (load time), and a tap in the padding feeds u = 128 - off
// (x = -off, the input zero point) so that it adds exactly 0. All sums are
// exact modulo 2^32, as the reference's wrapping int32 accumulator.
//
// m > 1: output channel oc reads input channel oc / m. The 64 output
// channels of a block read at most 32 consecutive input channels from
// first = oc0 / m; those bytes are loaded (masked), sign-extended to words,
// placed by two vpermw with the block's index vectors (packed at load, the
// `gather` table) and narrowed back by vpacksswb, in the lane order of the
// packs, so that the result is the 64 output channels' inputs in order.
//
// Loop order: blocks of 64 channels outermost (their weights, acc_init and
// requantization vectors loaded once), then the output pixels.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtDepthwiseAVX512(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                                 _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  // chunk_w >= 1: the loader chose the band kernel (depth multiplier 1, rows
  // that fit, no Int32.min multiplier); 0: the per-tap kernel.
  if p.taps_per_row == 3 {
    depthwiseColumnsAVX512(a, input, output)
    return
  }
  if p.chunk_w >= 1 {
    guard p.variant == 3, p.depth_multiplier == 1, depthwiseBandFits(p) else { return }
    withStackScratch512(a, input, output) { depthwiseBandAVX512($0, $1, $2, $3) }
    return
  }
  depthwiseTapsAVX512(a, input, output)
}

/// Whether k_h band scratch rows fit the stack buffer.
@inline(__always)
func depthwiseBandFits(_ p: cnnrt_conv_args) -> Bool {
  let row = cnnrt_dw512_band_row_bytes(p.out_w, p.stride_w, p.k_w, p.dilation_w, p.in_c)
  return row > 0 && p.k_h > 0 && p.k_h <= 1 << 10 && p.k_h &* row <= Int64(CNNRT_AVX2_STACK_BYTES)
    && p.pad_left >= 0 && p.pad_top >= 0
}

/// The 64-byte input vectors of a quad's four taps, transposed within each
/// 128-bit lane (vpunpck{l,h}bw, then vpunpck{l,h}wd): vector k holds, in
/// lane L, dword j, the 4 taps of channel 16L + 4k + j (file comment).
@inline(__always)
func transposeTaps512(_ v0: __m512i, _ v1: __m512i, _ v2: __m512i, _ v3: __m512i)
  -> (__m512i, __m512i, __m512i, __m512i) {
  let lo01 = _mm512_unpacklo_epi8(v0, v1), hi01 = _mm512_unpackhi_epi8(v0, v1)
  let lo23 = _mm512_unpacklo_epi8(v2, v3), hi23 = _mm512_unpackhi_epi8(v2, v3)
  return (_mm512_unpacklo_epi16(lo01, lo23), _mm512_unpackhi_epi16(lo01, lo23),
          _mm512_unpacklo_epi16(hi01, hi23), _mm512_unpackhi_epi16(hi01, hi23))
}

/// Block `blk` (64 output channels) of the band and column kernels' packed
/// region: its weight vectors, accumulator starts and requantization.
struct DepthwiseBlock512 {
  /// The block's first (quad, k) weight vector.
  var weights: UnsafeRawPointer
  /// 16-byte lanes stored per (quad, k): 4, or the last block's ceil(channels / 16).
  var lanes: Int
  var mask: __mmask64
  /// acc_init's four vectors.
  var start: (__m512i, __m512i, __m512i, __m512i)

  @inline(__always)
  init(_ w: UnsafeRawPointer, _ accInit: UnsafePointer<Int32>, block blk: Int, quads: Int, channels C: Int,
       pixels: Int) {
    weights = w + blk &* quads &* 256
    lanes = pixels > 1 ? 4 : min(4, (C &- blk &* 64 &+ 15) / 16)
    mask = lanes == 4 ? ~0 : (1 &<< UInt64(16 &* lanes)) &- 1
    let at = UnsafeRawPointer(accInit) + blk &* 256
    start = (_mm512_loadu_si512(at), _mm512_loadu_si512(at + 64), _mm512_loadu_si512(at + 128),
             _mm512_loadu_si512(at + 192))
  }

  /// Quad q's weight vector for accumulator k.
  @inline(__always)
  func weight(_ q: Int, _ k: Int) -> __m512i {
    let at = weights + (q &* 4 &+ k) &* (16 &* lanes)
    return lanes == 4 ? _mm512_loadu_si512(at) : _mm512_maskz_loadu_epi8(mask, at)
  }

  /// Quad q's four weight vectors.
  @inline(__always)
  func quad(_ q: Int) -> (__m512i, __m512i, __m512i, __m512i) { (weight(q, 0), weight(q, 1), weight(q, 2), weight(q, 3)) }

  /// The requantization of the block whose per-channel values start at byte
  /// `at`: its four vectors of 16 lanes.
  @inline(__always)
  static func requant(_ p: cnnrt_conv_args, _ mult: UnsafePointer<Int32>, _ shift: UnsafePointer<Int32>, _ at: Int)
    -> (RequantLanes512, RequantLanes512, RequantLanes512, RequantLanes512) {
    @inline(__always) func rq(_ at: Int) -> RequantLanes512 {
      RequantLanes512(_mm512_loadu_si512(UnsafeRawPointer(mult) + at), _mm512_loadu_si512(UnsafeRawPointer(shift) + at),
                      offset: p.output_offset, actMin: p.act_min)
    }
    return (rq(at), rq(at &+ 64), rq(at &+ 128), rq(at &+ 192))
  }
}

/// Band kernel (depth multiplier 1): for each output row, its k_h input rows
/// are converted once to u = x + 128 in stack scratch rows, padding included
/// (u = 128 - input_offset), so that every tap is one unconditional 64-byte
/// load; with chunk_w = P > 1 (16 or 32 channels, stride_w 1) a vector holds
/// P adjacent output pixels (the weights, acc_init and requantization values
/// repeat in its lanes). Same arithmetic as the per-tap kernel below, the
/// requantization in RequantLanes512's form.
@inline(never)
func depthwiseBandAVX512(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                         _ output: UnsafeMutablePointer<Int8>, _ scratch: UnsafeMutableRawPointer) {
  let p = a.pointee
  guard let wRaw = p.weights, let accInit = p.acc_init, let multRaw = p.multiplier, let shiftRaw = p.shift,
        p.variant == 3, p.depth_multiplier == 1 else { return }
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), C = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w)
  let kH = Int(p.k_h), kW = Int(p.k_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w)
  let dilH = Int(p.dilation_h), dilW = Int(p.dilation_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let quads = Int(p.c_groups), blocks = Int(p.oc_blocks)
  let pixels = max(1, Int(p.chunk_w))
  let rowBytes = Int(cnnrt_dw512_band_row_bytes(p.out_w, p.stride_w, p.k_w, p.dilation_w, p.in_c))
  let taps = kH &* kW
  let fullQuads = taps / 4, lastTaps = taps % 4
  guard Int(p.out_c) == C, rowBytes > 0, kH &* rowBytes <= Int(CNNRT_AVX2_STACK_BYTES), taps >= 1,
        taps <= Int(CNNRT_AVX512_DW_MAX_TAPS), quads == (taps &+ 3) / 4, blocks == (C &+ 63) / 64,
        pixels == 1 || (strideW == 1 && blocks == 1 && pixels &* C <= 64) else { return }
  // Each tap's byte offset in the scratch rows from the window's top-left column.
  var offsets = SIMD64<Int>()
  withUnsafeMutableBytes(of: &offsets) { raw in
  let tapOffsets = raw.baseAddress!.assumingMemoryBound(to: Int.self)
  var t = 0
  while t < taps {
    tapOffsets[t] = (t / kW) &* rowBytes &+ (t % kW) &* dilW &* C
    t &+= 1
  }
  let padVec = _mm512_set1_epi8(CChar(bitPattern: UInt8(truncatingIfNeeded: 128 &- p.input_offset)))
  let flip = _mm512_set1_epi8(-128)
  let (vMin, vMax) = bounds512(p.act_min, p.act_max)
  let inCols = max(0, min(inW, rowBytes / C &- padLeft))
  let inStart = padLeft &* C, inEnd = (padLeft &+ inCols) &* C
  // With one block (64 channels or fewer, or the pixel-packed layouts) the
  // requantization is made once per call, not per output row.
  let oneBlock = blocks == 1 ? DepthwiseBlock512.requant(p, multRaw, shiftRaw, 0) : nil
  for b in 0..<batches {
    for oy in 0..<outH {
      for ky in 0..<kH {
        let iy = oy &* strideH &- padTop &+ ky &* dilH
        let src = iy >= 0 && iy < inH ? UnsafeRawPointer(input + (b &* inH &+ iy) &* inW &* C) : nil
        fillBandRow512(scratch + ky &* rowBytes, rowBytes, src, inStart, inEnd, padVec, flip)
      }
      let outRow = output + ((b &* outH &+ oy) &* outW) &* C
      var blk = 0
      while blk < blocks {
        let oc0 = blk &* 64
        let block = DepthwiseBlock512(wRaw, accInit, block: blk, quads: quads, channels: C, pixels: pixels)
        let wLanes = block.lanes
        let (i0, i1, i2, i3) = block.start
        let (q0, q1, q2, q3) = oneBlock ?? DepthwiseBlock512.requant(p, multRaw, shiftRaw, blk &* 256)
        @inline(__always) func weight(_ q: Int, _ k: Int) -> __m512i { block.weight(q, k) }
        @inline(__always) func addQuad(_ src: UnsafeRawPointer, _ q: Int, _ n: Int, _ a0: inout __m512i,
                                       _ a1: inout __m512i, _ a2: inout __m512i, _ a3: inout __m512i) {
          let z = _mm512_setzero_si512()
          let v0 = _mm512_loadu_si512(src + tapOffsets[4 &* q])
          let v1 = n > 1 ? _mm512_loadu_si512(src + tapOffsets[4 &* q &+ 1]) : z
          let v2 = n > 2 ? _mm512_loadu_si512(src + tapOffsets[4 &* q &+ 2]) : z
          let v3 = n > 3 ? _mm512_loadu_si512(src + tapOffsets[4 &* q &+ 3]) : z
          let r = transposeTaps512(v0, v1, v2, v3)
          a0 = _mm512_dpbusd_epi32(a0, r.0, weight(q, 0))
          a1 = _mm512_dpbusd_epi32(a1, r.1, weight(q, 1))
          a2 = _mm512_dpbusd_epi32(a2, r.2, weight(q, 2))
          a3 = _mm512_dpbusd_epi32(a3, r.3, weight(q, 3))
        }
        /// Packs the requantized vectors of the output vector at column ox,
        /// clamps them and stores its outputs.
        @inline(__always) func store(_ ox: Int, _ r0: __m512i, _ r1: __m512i, _ r2: __m512i, _ r3: __m512i) {
          let bytes = _mm512_packs_epi16(_mm512_packs_epi32(r0, r1), _mm512_packs_epi32(r2, r3))
          let v = _mm512_min_epi8(_mm512_max_epi8(bytes, vMin), vMax)
          let count = pixels > 1 ? min(pixels, outW &- ox) &* C : min(64, C &- oc0)
          let dst = UnsafeMutableRawPointer(outRow + (ox &* C &+ oc0))
          if count == 64 { _mm512_storeu_si512(dst, v) } else { _mm512_mask_storeu_epi8(dst, (1 &<< UInt64(count)) &- 1, v) }
        }
        var ox = 0
        // 3x3 with whole weight lanes: the loop below with its 12 weight
        // vectors loaded once per row and block, the tap addresses from
        // three row pointers, and the requantization form fixed for the
        // loop (one loop per form, so that none of them branches on it).
        if kH == 3 && kW == 3 && wLanes == 4 && q0.form == q1.form && q1.form == q2.form && q2.form == q3.form {
          let (w00, w01, w02, w03) = block.quad(0)
          let (w10, w11, w12, w13) = block.quad(1)
          let (w20, w21, w22, w23) = block.quad(2)
          let dx = dilW &* C, dy = rowBytes  // one scratch row per kernel row
          @inline(__always) func rows(_ form: Int, _ start: Int) -> Int {
            var ox = start
            while ox < outW {
              let t0 = UnsafeRawPointer(scratch) + (ox &* strideW &* C &+ oc0)
              let t1 = t0 + dy, t2 = t1 + dy
              @inline(__always) func ld(_ p: UnsafeRawPointer) -> __m512i { _mm512_loadu_si512(p) }
              let z = _mm512_setzero_si512()
              // Raster order: quad 0 = (0,0) (0,1) (0,2) (1,0), quad 1 = (1,1)
              // (1,2) (2,0) (2,1), quad 2 = (2,2).
              let r0 = transposeTaps512(ld(t0), ld(t0 + dx), ld(t0 + 2 &* dx), ld(t1))
              let r1 = transposeTaps512(ld(t1 + dx), ld(t1 + 2 &* dx), ld(t2), ld(t2 + dx))
              let r2 = transposeTaps512(ld(t2 + 2 &* dx), z, z, z)
              var a0 = _mm512_dpbusd_epi32(i0, r0.0, w00), a1 = _mm512_dpbusd_epi32(i1, r0.1, w01)
              var a2 = _mm512_dpbusd_epi32(i2, r0.2, w02), a3 = _mm512_dpbusd_epi32(i3, r0.3, w03)
              a0 = _mm512_dpbusd_epi32(a0, r1.0, w10); a1 = _mm512_dpbusd_epi32(a1, r1.1, w11)
              a2 = _mm512_dpbusd_epi32(a2, r1.2, w12); a3 = _mm512_dpbusd_epi32(a3, r1.3, w13)
              a0 = _mm512_dpbusd_epi32(a0, r2.0, w20); a1 = _mm512_dpbusd_epi32(a1, r2.1, w21)
              a2 = _mm512_dpbusd_epi32(a2, r2.2, w22); a3 = _mm512_dpbusd_epi32(a3, r2.3, w23)
              store(ox, q0.apply(a0, form: form), q1.apply(a1, form: form), q2.apply(a2, form: form),
                    q3.apply(a3, form: form))
              ox &+= pixels
            }
            return ox
          }
          switch q0.form {
          case 2: ox = rows(2, ox)
          case 1: ox = rows(1, ox)
          default: ox = rows(0, ox)
          }
        }
        while ox < outW {
          let src = UnsafeRawPointer(scratch) + (ox &* strideW &* C &+ oc0)
          var a0 = i0, a1 = i1, a2 = i2, a3 = i3
          var q = 0
          while q < fullQuads {
            addQuad(src, q, 4, &a0, &a1, &a2, &a3)
            q &+= 1
          }
          if lastTaps > 0 { addQuad(src, fullQuads, lastTaps, &a0, &a1, &a2, &a3) }
          store(ox, q0.apply(a0), q1.apply(a1), q2.apply(a2), q3.apply(a3))
          ox &+= pixels
        }
        blk &+= 1
      }
    }
  }
  }
}

/// Column kernel (taps_per_row 3: 3x3 taps, stride_h 1 or 2, dilation_h 1,
/// depth multiplier 1). Quad q of the packed weights is kernel row q, its
/// dword (w(q,0), w(q,1), w(q,2), 0). For one 64-byte column group (64
/// channels of an output pixel, or chunk_w = P adjacent pixels of 16 or 32
/// channels) the kernel walks down a band of output rows: each input row is
/// loaded once as the group's three horizontal taps, transposed once into
/// four vectors T_k (lane L, dword j: the three taps of byte 16L + 4k + j,
/// and a fourth byte that meets a zero weight), and added to every output
/// row that reads it, as its kernel row 0, 1 or 2. With stride_h 1 an input
/// row serves three output rows, and two sets of four accumulators (output
/// rows of even and of odd offset in the band) hold the rows in progress;
/// with stride_h 2 the even input rows serve two output rows, the odd ones
/// one, and one set does. Per 64 outputs, stride_h 1: three loads and eight
/// unpacks, where the band kernel's 3x3 loop makes nine loads and 24
/// unpacks. Taps in the padding (bytes outside the input's columns, rows
/// outside its rows) read u = 128 - input_offset, as in the other kernels,
/// so that they add exactly 0; a group at the left or right edge loads its
/// taps under byte masks fixed for the whole walk.
@inline(never)
func depthwiseColumnsAVX512(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                            _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let wRaw = p.weights, let accInit = p.acc_init, let multRaw = p.multiplier, let shiftRaw = p.shift,
        p.variant == 3, p.taps_per_row == 3, p.depth_multiplier == 1 else { return }
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), C = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w), dilW = Int(p.dilation_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let blocks = Int(p.oc_blocks), pixels = max(1, Int(p.chunk_w))
  guard Int(p.out_c) == C, C >= 1, p.k_h == 3, p.k_w == 3, strideH == 1 || strideH == 2, p.dilation_h == 1,
        p.c_groups == 3,
        blocks == (C &+ 63) / 64, strideW >= 1, dilW >= 1, padTop >= 0, padLeft >= 0, batches >= 0,
        inH >= 1, inW >= 1, outH >= 1, outW >= 1,
        pixels == 1 || (strideW == 1 && blocks == 1 && pixels &* C == 64) else { return }
  let flip = _mm512_set1_epi8(-128)
  let padX = splatByte512(0 &- p.input_offset)          // x = -off: adds 0
  let padT = _mm512_xor_si512(padX, flip)              // its u in every byte
  let (vMin, vMax) = bounds512(p.act_min, p.act_max)
  let rowStride = inW &* C
  var blk = 0
  while blk < blocks {
    let oc0 = blk &* 64
    let block = DepthwiseBlock512(wRaw, accInit, block: blk, quads: 3, channels: C, pixels: pixels)
    let (w00, w01, w02, w03) = block.quad(0)
    let (w10, w11, w12, w13) = block.quad(1)
    let (w20, w21, w22, w23) = block.quad(2)
    let (i0, i1, i2, i3) = block.start
    let (q0, q1, q2, q3) = DepthwiseBlock512.requant(p, multRaw, shiftRaw, blk &* 256)
    let sameForm = q0.form == q1.form && q1.form == q2.form && q2.form == q3.form
    // Bytes of the group that are outputs: the block's channels, or P pixels' all.
    let channelBytes = pixels > 1 ? 64 : min(64, C &- oc0)
    for b in 0..<batches {
      let inImage = UnsafeRawPointer(input) + b &* inH &* rowStride
      let outImage = output + b &* outH &* outW &* C
      var band = 0
      while band < outH {
      let y0 = band, y1 = min(outH, band &+ columnBandRows)
      var column = 0
      while column < outW {
        let ox = column
        let count = pixels > 1 ? min(pixels, outW &- ox) &* C : channelBytes
        let storeMask: __mmask64 = count >= 64 ? ~0 : (1 &<< UInt64(count)) &- 1
        // Tap kx's first input column and its bytes' mask: byte j is pixel
        // ix + j / C (P > 1) or the block's channel j (P = 1).
        @inline(__always) func tap(_ kx: Int) -> (mask: UInt64, start: Int) {
          let ix = ox &* strideW &- padLeft &+ kx &* dilW
          var mask: UInt64 = 0
          if pixels > 1 {
            var j = 0
            while j < pixels {
              if ix &+ j >= 0 && ix &+ j < inW { mask |= ((1 &<< UInt64(C)) &- 1) &<< UInt64(j &* C) }
              j &+= 1
            }
          } else if ix >= 0 && ix < inW {
            mask = channelBytes == 64 ? ~0 : (1 &<< UInt64(channelBytes)) &- 1
          }
          return (mask, ix &* C &+ oc0)
        }
        let tap0 = tap(0), tap1 = tap(1), tap2 = tap(2)
        let masks = (tap0.mask, tap1.mask, tap2.mask), starts = (tap0.start, tap1.start, tap2.start)
        let interior = masks.0 == ~0 && masks.1 == ~0 && masks.2 == ~0
        let outColumn = outImage + (ox &* C &+ oc0)
        /// The walk down the image; `form` the requantization's (-1: each
        /// vector its own), `masked` whether some tap byte is padding.
        @inline(__always) func walk(_ form: Int, _ masked: Bool) {
          @inline(__always) func load(_ row: UnsafeRawPointer, _ start: Int, _ mask: UInt64) -> __m512i {
            if !masked { return _mm512_xor_si512(_mm512_loadu_si512(row + start), flip) }
            let k = __mmask64(mask)
            return _mm512_xor_si512(_mm512_mask_blend_epi8(k, padX, _mm512_maskz_loadu_epi8(k, row + start)), flip)
          }
          @inline(__always) func apply(_ q: RequantLanes512, _ acc: __m512i) -> __m512i {
            form < 0 ? q.apply(acc) : q.apply(acc, form: form)
          }
          /// Input row s - padTop's four vectors T (padding: u_pad in every byte).
          @inline(__always) func rowT(_ s: Int) -> (__m512i, __m512i, __m512i, __m512i) {
            let iy = s &- padTop
            guard iy >= 0 && iy < inH else { return (padT, padT, padT, padT) }
            let row = inImage + iy &* rowStride
            let v2 = load(row, starts.2, masks.2)
            return transposeTaps512(load(row, starts.0, masks.0), load(row, starts.1, masks.1), v2, v2)
          }
          /// Adds T as kernel row 2 of output row oy, requantizes and stores it.
          @inline(__always) func finish(_ oy: Int, _ t: (__m512i, __m512i, __m512i, __m512i),
                                        _ c0: __m512i, _ c1: __m512i, _ c2: __m512i, _ c3: __m512i) {
            let r0 = apply(q0, _mm512_dpbusd_epi32(c0, t.0, w20)), r1 = apply(q1, _mm512_dpbusd_epi32(c1, t.1, w21))
            let r2 = apply(q2, _mm512_dpbusd_epi32(c2, t.2, w22)), r3 = apply(q3, _mm512_dpbusd_epi32(c3, t.3, w23))
            let bytes = _mm512_packs_epi16(_mm512_packs_epi32(r0, r1), _mm512_packs_epi32(r2, r3))
            let v = _mm512_min_epi8(_mm512_max_epi8(bytes, vMin), vMax)
            let dst = UnsafeMutableRawPointer(outColumn + oy &* outW &* C)
            if count >= 64 { _mm512_storeu_si512(dst, v) } else { _mm512_mask_storeu_epi8(dst, storeMask, v) }
          }
          if strideH == 2 {
            // Input row 2k - padTop is kernel row 0 of output row k and row 2
            // of k - 1; row 2k + 1 - padTop is row 1 of k: one accumulator set.
            var c0 = i0, c1 = i1, c2 = i2, c3 = i3
            var k = y0
            while k <= y1 {
              let t = rowT(2 &* k)
              if k > y0 { finish(k &- 1, t, c0, c1, c2, c3) }
              if k == y1 { break }
              c0 = _mm512_dpbusd_epi32(i0, t.0, w00); c1 = _mm512_dpbusd_epi32(i1, t.1, w01)
              c2 = _mm512_dpbusd_epi32(i2, t.2, w02); c3 = _mm512_dpbusd_epi32(i3, t.3, w03)
              let u = rowT(2 &* k &+ 1)
              c0 = _mm512_dpbusd_epi32(c0, u.0, w10); c1 = _mm512_dpbusd_epi32(c1, u.1, w11)
              c2 = _mm512_dpbusd_epi32(c2, u.2, w12); c3 = _mm512_dpbusd_epi32(c3, u.3, w13)
              k &+= 1
            }
            return
          }
          /// Step s (stride_h 1): input row s - padTop is kernel row 2 of
          /// output row s - 2 (in `cur`, then stored), row 1 of s - 1
          /// (`prev`) and row 0 of s (`cur` again, started from acc_init),
          /// for the output rows of the band, y0 ..< y1.
          @inline(__always) func step(_ s: Int, _ c0: inout __m512i, _ c1: inout __m512i, _ c2: inout __m512i,
                                      _ c3: inout __m512i, _ p0: inout __m512i, _ p1: inout __m512i,
                                      _ p2: inout __m512i, _ p3: inout __m512i) {
            let t = rowT(s)
            if s &- 2 >= y0 { finish(s &- 2, t, c0, c1, c2, c3) }
            if s &- 1 >= y0 && s <= y1 {
              p0 = _mm512_dpbusd_epi32(p0, t.0, w10); p1 = _mm512_dpbusd_epi32(p1, t.1, w11)
              p2 = _mm512_dpbusd_epi32(p2, t.2, w12); p3 = _mm512_dpbusd_epi32(p3, t.3, w13)
            }
            if s < y1 {
              c0 = _mm512_dpbusd_epi32(i0, t.0, w00); c1 = _mm512_dpbusd_epi32(i1, t.1, w01)
              c2 = _mm512_dpbusd_epi32(i2, t.2, w02); c3 = _mm512_dpbusd_epi32(i3, t.3, w03)
            }
          }
          var e0 = i0, e1 = i1, e2 = i2, e3 = i3  // output rows y0, y0 + 2, ...
          var o0 = i0, o1 = i1, o2 = i2, o3 = i3  // y0 + 1, y0 + 3, ...
          var s = y0
          while true {
            step(s, &e0, &e1, &e2, &e3, &o0, &o1, &o2, &o3)
            s &+= 1
            if s > y1 &+ 1 { break }
            step(s, &o0, &o1, &o2, &o3, &e0, &e1, &e2, &e3)
            s &+= 1
            if s > y1 &+ 1 { break }
          }
        }
        let form = sameForm ? q0.form : -1
        switch (form, interior) {
        case (2, true): walk(2, false)
        case (1, true): walk(1, false)
        case (0, true): walk(0, false)
        case (_, true): walk(-1, false)
        case (2, false): walk(2, true)
        case (1, false): walk(1, true)
        case (0, false): walk(0, true)
        default: walk(-1, true)
        }
        column &+= pixels
      }
      band = y1
      }
    }
    blk &+= 1
  }
}

/// Output rows per band of the column kernel: each column group walks down
/// one band, then the next group; the next band starts over (re-reading its
/// first two input rows), so that a walk's rows stay few (cache and TLB).
let columnBandRows = 16

/// Per-tap kernel: any depth multiplier and geometry (see the file comment).
@inline(never)
func depthwiseTapsAVX512(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                         _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let wRaw = p.weights, let accInit = p.acc_init, let multRaw = p.multiplier, let shiftRaw = p.shift,
        p.variant == 3 else { return }
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), inC = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w), C = Int(p.out_c)
  let kH = Int(p.k_h), kW = Int(p.k_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w)
  let dilH = Int(p.dilation_h), dilW = Int(p.dilation_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let m = Int(p.depth_multiplier), quads = Int(p.c_groups), blocks = Int(p.oc_blocks)
  let taps = kH &* kW
  let fullQuads = taps / 4, lastTaps = taps % 4  // taps of the last, partial quad (0: none)
  guard m >= 1, C == inC &* m, taps >= 1, taps <= Int(CNNRT_AVX512_DW_MAX_TAPS), quads == (taps &+ 3) / 4,
        blocks == (C &+ 63) / 64 else { return }
  let gatherTable: UnsafeRawPointer? = m > 1 ? p.rq_table.map { UnsafeRawPointer($0) } : nil
  guard m == 1 || gatherTable != nil else { return }
  // The input byte offset of each tap from the window's top-left pixel
  // (64 Ints), then 64 pad bytes: the input zero point x = -off, read by
  // the taps in the padding instead of the input (no branch per tap).
  var scratch = (SIMD64<Int>(), SIMD64<Int8>(repeating: Int8(truncatingIfNeeded: 0 &- p.input_offset)))
  withUnsafeMutableBytes(of: &scratch) { raw in
  let tapOffsets = raw.baseAddress!.assumingMemoryBound(to: Int.self)
  let padBytes = UnsafeRawPointer(raw.baseAddress! + MemoryLayout<SIMD64<Int>>.stride)
  var t = 0
  while t < taps {
    tapOffsets[t] = ((t / kW) &* dilH &* inW &+ (t % kW) &* dilW) &* inC
    t &+= 1
  }
  let rowBits: UInt64 = kW >= 64 ? ~0 : (1 &<< UInt64(kW)) &- 1  // one kernel row's taps
  let flip = _mm512_set1_epi8(-128)
  let outOffset = _mm512_set1_epi32(p.output_offset)
  let (vMin, vMax) = bounds512(p.act_min, p.act_max)
  let wBlockBytes = quads &* 256

  var blk = 0
  while blk < blocks {
    let oc0 = blk &* 64
    let n = min(64, C &- oc0)                       // channels of this block
    let full = n == 64
    let outMask: __mmask64 = full ? ~0 : (1 &<< UInt64(n)) &- 1
    let wLanes = (n &+ 15) / 16  // the block's 16-byte lanes of packed weights
    let wMask: __mmask64 = wLanes == 4 ? ~0 : (1 &<< UInt64(16 &* wLanes)) &- 1
    // Input bytes a tap reads for this block (m = 1: the block's channels).
    let first = oc0 / m
    let inMask: __mmask64 = m == 1 ? outMask : (1 &<< UInt64(min(32, inC &- first))) &- 1
    let gA = gatherTable.map { _mm512_loadu_si512($0 + blk &* 128) } ?? _mm512_setzero_si512()
    let gB = gatherTable.map { _mm512_loadu_si512($0 + (blk &* 128 &+ 64)) } ?? _mm512_setzero_si512()
    let perChannel = blk &* 256  // byte offset of the block's 64 int32 in acc_init, multiplier, shift
    let accBase = UnsafeRawPointer(accInit) + perChannel
    let i0 = _mm512_loadu_si512(accBase), i1 = _mm512_loadu_si512(accBase + 64)
    let i2 = _mm512_loadu_si512(accBase + 128), i3 = _mm512_loadu_si512(accBase + 192)
    // The requantization's per-lane values, derived once per block.
    let q0 = requant512(multRaw, shiftRaw, perChannel), q1 = requant512(multRaw, shiftRaw, perChannel &+ 64)
    let q2 = requant512(multRaw, shiftRaw, perChannel &+ 128), q3 = requant512(multRaw, shiftRaw, perChannel &+ 192)
    let wBlock = wRaw + blk &* wBlockBytes
    let kStride = 16 &* wLanes  // bytes per (quad, k) vector: the last block stores only its lanes
    let inBase = UnsafeRawPointer(input) + first

    /// Tap t's 64 input bytes at `px` (the window's top-left pixel, may be
    /// outside the input) as u = x + 128; the pad bytes when the tap is in
    /// the padding (`valid` bit t clear). `gather`: m > 1; `whole`: m = 1 and 64
    /// channels (constants in each copy of the pixel loop).
    @inline(__always) func tapVector(_ t: Int, _ valid: UInt64, _ px: Int, _ gather: Bool, _ whole: Bool) -> __m512i {
      let src = (valid &>> UInt64(t)) & 1 != 0 ? inBase + (px &+ tapOffsets[t]) : padBytes
      let x: __m512i
      if !gather {
        x = whole ? _mm512_loadu_si512(src) : _mm512_maskz_loadu_epi8(inMask, src)
      } else {
        let words = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(_mm512_maskz_loadu_epi8(inMask, src)))
        x = _mm512_packs_epi16(_mm512_permutexvar_epi16(gA, words), _mm512_permutexvar_epi16(gB, words))
      }
      return _mm512_xor_si512(x, flip)
    }
    @inline(__always) func weight(_ q: Int, _ k: Int, _ whole: Bool) -> __m512i {
      let at: Int = (q &* 4 &+ k) &* kStride
      let src = wBlock + at
      return whole || full ? _mm512_loadu_si512(src) : _mm512_maskz_loadu_epi8(wMask, src)
    }

    /// Adds the first n taps of quad q to the 4 accumulators (the others,
    /// past the last tap, have zero weights: zero bytes, no load).
    @inline(__always) func addQuad(_ q: Int, _ n: Int, _ valid: UInt64, _ px: Int, _ gather: Bool, _ whole: Bool,
                                   _ a0: inout __m512i, _ a1: inout __m512i, _ a2: inout __m512i,
                                   _ a3: inout __m512i) {
      let z = _mm512_setzero_si512()
      let v0 = tapVector(4 &* q, valid, px, gather, whole)
      let v1 = n > 1 ? tapVector(4 &* q &+ 1, valid, px, gather, whole) : z
      let v2 = n > 2 ? tapVector(4 &* q &+ 2, valid, px, gather, whole) : z
      let v3 = n > 3 ? tapVector(4 &* q &+ 3, valid, px, gather, whole) : z
      let r = transposeTaps512(v0, v1, v2, v3)
      a0 = _mm512_dpbusd_epi32(a0, r.0, weight(q, 0, whole))
      a1 = _mm512_dpbusd_epi32(a1, r.1, weight(q, 1, whole))
      a2 = _mm512_dpbusd_epi32(a2, r.2, weight(q, 2, whole))
      a3 = _mm512_dpbusd_epi32(a3, r.3, weight(q, 3, whole))
    }

    /// The block's output pixels; called with constant flags, so that each
    /// case gets its own copy without the tests in the tap loop.
    @inline(__always) func pixels(_ gather: Bool, _ whole: Bool) {
    for b in 0..<batches {
      for oy in 0..<outH {
        let iy0 = oy &* strideH &- padTop
        // Taps whose row is inside the input.
        var rowValid: UInt64 = 0
        var ky = 0
        while ky < kH {
          let iy = iy0 &+ ky &* dilH
          if iy >= 0 && iy < inH { rowValid |= rowBits &<< UInt64(ky &* kW) }
          ky &+= 1
        }
        let rowPx = ((b &* inH &+ iy0) &* inW) &* inC
        let outRow: Int = (b &* outH &+ oy) &* outW &* C &+ oc0
        var outPtr = output + outRow
        for ox in 0..<outW {
          let ix0 = ox &* strideW &- padLeft
          var valid = rowValid
          if ix0 < 0 || ix0 &+ (kW &- 1) &* dilW >= inW {
            var colValid: UInt64 = 0
            var kx = 0
            while kx < kW {
              let ix = ix0 &+ kx &* dilW
              if ix >= 0 && ix < inW { colValid |= 1 &<< UInt64(kx) }
              kx &+= 1
            }
            var rows: UInt64 = 0
            ky = 0
            while ky < kH { rows |= colValid &<< UInt64(ky &* kW); ky &+= 1 }
            valid &= rows
          }
          let px = rowPx &+ ix0 &* inC
          var a0 = i0, a1 = i1, a2 = i2, a3 = i3
          var q = 0
          while q < fullQuads {
            addQuad(q, 4, valid, px, gather, whole, &a0, &a1, &a2, &a3)
            q &+= 1
          }
          if lastTaps > 0 { addQuad(fullQuads, lastTaps, valid, px, gather, whole, &a0, &a1, &a2, &a3) }
          let r0 = _mm512_add_epi32(q0.apply(a0), outOffset), r1 = _mm512_add_epi32(q1.apply(a1), outOffset)
          let r2 = _mm512_add_epi32(q2.apply(a2), outOffset), r3 = _mm512_add_epi32(q3.apply(a3), outOffset)
          let bytes = _mm512_packs_epi16(_mm512_packs_epi32(r0, r1), _mm512_packs_epi32(r2, r3))
          let v = _mm512_min_epi8(_mm512_max_epi8(bytes, vMin), vMax)
          if whole || full { _mm512_storeu_si512(outPtr, v) } else { _mm512_mask_storeu_epi8(outPtr, outMask, v) }
          outPtr += C
        }
      }
    }
    }
    if m > 1 { pixels(true, false) } else if full { pixels(false, true) } else { pixels(false, false) }
    blk &+= 1
  }
  }
}

/// The requantization values of 16 lanes whose multipliers and shifts are
/// at byte offset `at` of the lane-ordered arrays.
@inline(__always)
func requant512(_ mult: UnsafePointer<Int32>, _ shift: UnsafePointer<Int32>, _ at: Int) -> Requant512 {
  Requant512(_mm512_loadu_si512(UnsafeRawPointer(mult) + at), _mm512_loadu_si512(UnsafeRawPointer(shift) + at))
}
#endif
