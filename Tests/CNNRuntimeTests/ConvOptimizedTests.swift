// The optimised Conv2D and depthwise kernels against conv2DReference /
// depthwiseConv2DReference, byte for byte, on seeded random shapes (odd and
// even input channels, output channels around the 8-lane blocks, depthwise
// channel counts off the 16-lane blocks and depth multipliers 1...4, kernels
// 1...5, strides, dilations, padding, 1x1 pointwise layers that run as one
// row, widths larger than one scratch chunk) and parameters (per-channel
// multipliers and shifts including left shifts, offsets, clamps, with and
// without bias), on every optimised path this CPU runs.

import Testing
@testable import CNNRuntime
import CNNTools

private struct ConvCase {
  var inputShape: Dims4, filterShape: Dims4, outputShape: Dims4
  var params: ConvParams
  var input: [Int8], filter: [Int8], bias: [Int32]?
  var mult: [Int32], shift: [Int32]
}

/// `wide`: a depthwise layer of 96-960 channels (the late layers of MobileNets
/// and EfficientNets), 3x3 or 5x5, whose scratch rows hold a few pixels at most.
/// `threeWide`: a Conv2D of k_w = 3, stride_w = 1, dilation_w = 1 and an
/// output row of 1-48 pixels (the AVX-512 band kernel's 3-wide tiles), every
/// other one 3x3 with stride and dilation 1 (its two-row tile).
/// `wideIn`: a Conv2D of 160-1280 input channels, 1x1 or 3x3, on a map of
/// 1-4 pixels a side (where the AVX2 row-scratch kernel's chunks would average
/// less than 2.5 pixels, the per-tap kernel takes it).
/// `tall`: a depthwise layer on an image of 30-80 rows and up to 160
/// columns (the AVX2 row-scratch kernel walks it in strips whose scratch rows
/// are kept from one output row to the next and copied back to the start of
/// its buffer every few rows).
private func randomConvCase(_ rng: inout SplitMix64, depthwise: Bool, index: Int, wide wideC: Bool = false,
                            threeWide: Bool = false, tall: Bool = false, wideIn: Bool = false) -> ConvCase {
  let inCs = [1, 2, 3, 4, 5, 8, 15, 16, 17, 24, 32, 64]
  let dwCs = [8, 16, 24, 32, 48, 64]
  // Depthwise channel tails (C mod 16 != 0) and depth multipliers.
  let dwTailCs = [1, 2, 3, 5, 7, 9, 13, 15, 17, 20, 31, 33, 40]
  let outCs = [1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 64]
  let dwTail = depthwise && index % 2 == 1
  let wideCs = [96, 144, 200, 240, 256, 384, 512, 576, 672, 960]
  let wideInCs = [160, 192, 200, 384, 512, 768, 960, 1024, 1280]
  let inC = wideIn ? wideInCs[rng.int(0...wideInCs.count - 1)]
    : wideC ? wideCs[rng.int(0...wideCs.count - 1)]
    : depthwise ? (dwTail ? dwTailCs[rng.int(0...dwTailCs.count - 1)] : dwCs[rng.int(0...dwCs.count - 1)])
    : inCs[rng.int(0...inCs.count - 1)]
  let multiplier = wideC ? (inC <= 256 && index % 3 == 2 ? 2 : 1) : dwTail && inC <= 20 ? rng.int(1...4) : 1
  let outC = depthwise ? inC * multiplier : outCs[rng.int(0...outCs.count - 1)]
  let pointwise = !depthwise && !threeWide && index % 5 == 0
  // Half the 3-wide cases 3x3 with stride and dilation 1 (the two-row tile).
  let square3 = threeWide && index % 2 == 0
  let kH = pointwise ? 1 : square3 ? 3 : wideC ? (rng.bool() ? 3 : 5) : wideIn ? (rng.bool() ? 1 : 3) : rng.int(1...5)
  let kW = threeWide ? 3 : pointwise ? 1 : wideC || wideIn ? kH : rng.int(1...5)
  let strideH = pointwise || square3 ? 1 : rng.int(1...3), strideW = pointwise || threeWide ? 1 : rng.int(1...3)
  let dilH = pointwise || square3 || rng.int(0...3) != 0 ? 1 : 2
  let dilW = pointwise || threeWide || rng.int(0...3) != 0 ? 1 : 2
  // Mostly small images; some wide ones so that a row takes several scratch chunks.
  let wide = index % 7 == 0
  let h = tall ? rng.int(30...80) : wideC ? rng.int(1...6) : wideIn ? rng.int(1...4) : rng.int(1...12)
  let w = tall ? rng.int(4...160) : wideC ? rng.int(1...40) : wideIn ? rng.int(1...4) : threeWide ? rng.int(1...48)
    : wide ? rng.int(100...300) : rng.int(1...20)
  let effH = dilH * (kH - 1) + 1, effW = dilW * (kW - 1) + 1
  let padTop = pointwise ? 0 : rng.int(0...effH - 1), padLeft = pointwise ? 0 : rng.int(0...effW - 1)
  let outH = max(1, (h + 2 * padTop - effH) / strideH + 1), outW = max(1, (w + 2 * padLeft - effW) / strideW + 1)
  let batches = rng.int(1...2)
  let extreme = index % 4 == 0
  func i8(_ n: Int, min lo: Int = -128) -> [Int8] {
    (0..<n).map { _ in extreme && rng.bool() ? (rng.bool() ? Int8(lo) : 127) : Int8(truncatingIfNeeded: rng.int(lo...127)) }
  }
  let inputShape = Dims4(n: batches, h: h, w: w, c: inC)
  let filterShape = depthwise ? Dims4(n: 1, h: kH, w: kW, c: outC) : Dims4(n: outC, h: kH, w: kW, c: inC)
  let outputShape = Dims4(n: batches, h: outH, w: outW, c: outC)
  let bias: [Int32]? = rng.int(0...3) == 0 ? nil : (0..<outC).map { _ in Int32(rng.int(-200_000...200_000)) }
  let mult: [Int32] = (0..<outC).map { _ in
    rng.int(0...9) == 0 ? Int32.max : Int32(rng.int(1 << 30...(1 << 31) - 1))
  }
  // Every third case as a fused ReLU gives it: right shifts only and
  // act_min = the output offset (the AVX-512 requantization's ReLU form).
  let reluCase = index % 3 == 1
  let shift: [Int32] = (0..<outC).map { _ in
    let s = Int32(rng.int(0...4) == 0 ? rng.int(0...3) : rng.int(-14...(-1)))
    return reluCase && s >= 0 ? -1 - 5 * s : s
  }
  var lo = Int32(rng.int(-128...127)), hi = Int32(rng.int(-128...127))
  if rng.int(0...2) == 0 { lo = -128; hi = 127 }
  if lo > hi { swap(&lo, &hi) }
  let inputOffset = Int32(rng.int(-127...128)), outputOffset = Int32(rng.int(-128...127))
  if reluCase { lo = outputOffset; hi = max(hi, lo) }
  let params = ConvParams(inputOffset: inputOffset, outputOffset: outputOffset,
                          strideH: strideH, strideW: strideW, dilationH: dilH, dilationW: dilW,
                          padTop: padTop, padLeft: padLeft, depthMultiplier: multiplier,
                          activationMin: lo, activationMax: hi)
  return ConvCase(inputShape: inputShape, filterShape: filterShape, outputShape: outputShape, params: params,
                  input: i8(inputShape.count), filter: i8(filterShape.count, min: -127), bias: bias,
                  mult: mult, shift: shift)
}

private func describe(_ c: ConvCase) -> String {
  let p = c.params
  return "in \(c.inputShape) filter \(c.filterShape) out \(c.outputShape) multiplier \(p.depthMultiplier) stride \(p.strideH)x\(p.strideW) "
    + "dilation \(p.dilationH)x\(p.dilationW) pad \(p.padTop),\(p.padLeft) bias \(c.bias != nil)"
}

private func checkCase(_ c: ConvCase, depthwise: Bool) -> Bool {
  var want = [Int8](repeating: 0, count: c.outputShape.count)
  var allSame = true
  c.mult.withUnsafeBufferPointer { mp in
    c.shift.withUnsafeBufferPointer { sp in
      (c.bias ?? []).withUnsafeBufferPointer { bp in
        c.filter.withUnsafeBufferPointer { fp in
          let rq = ChannelRequant(multiplier: mp.baseAddress!, shift: sp.baseAddress!)
          let bias = c.bias == nil ? nil : bp.baseAddress
          if depthwise {
            depthwiseConv2DReference(params: c.params, requant: rq, inputShape: c.inputShape, input: c.input,
                                     filterShape: c.filterShape, filter: fp.baseAddress!, bias: bias,
                                     outputShape: c.outputShape, output: &want)
          } else {
            conv2DReference(params: c.params, requant: rq, inputShape: c.inputShape, input: c.input,
                            filterShape: c.filterShape, filter: fp.baseAddress!, bias: bias,
                            outputShape: c.outputShape, output: &want)
          }
          for isa in optimisedPathsOnThisCPU() {
            let bytes = depthwise
              ? depthwiseConv2DPackedBytes(isa: isa, filterShape: c.filterShape, inputChannels: c.inputShape.c,
                                           dilationW: c.params.dilationW)
              : conv2DPackedBytes(isa: isa, filterShape: c.filterShape, inputChannels: c.inputShape.c,
                                  dilationW: c.params.dilationW)
            // Depthwise: the per-tap kernel takes multiplier 1 and whole blocks of 8 channels,
            // the row-scratch kernel every shape whose scratch rows of one output pixel fit.
            let dwHeld = !depthwise || (c.params.depthMultiplier == 1 && c.filterShape.c % 8 == 0)
              || depthwiseRowsChunk(kH: c.filterShape.h, kW: c.filterShape.w, stride: (c.filterShape.c + 15) & ~15,
                                    multiplier: c.params.depthMultiplier, strideW: 1, dilationW: c.params.dilationW,
                                    outW: 1) != nil
            #expect(bytes > 0 || !dwHeld, "ISA \(isa) has no kernel for \(describe(c))")
            if bytes == 0 { continue }
            let region = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            defer { region.deallocate() }
            let packed = depthwise
              ? depthwiseConv2DPack(isa: isa, params: c.params, requant: rq, inputShape: c.inputShape,
                                    filterShape: c.filterShape, filter: fp.baseAddress!, bias: bias,
                                    outputShape: c.outputShape, region: region, regionBytes: bytes)
              : conv2DPack(isa: isa, params: c.params, requant: rq, inputShape: c.inputShape,
                           filterShape: c.filterShape, filter: fp.baseAddress!, bias: bias,
                           outputShape: c.outputShape, region: region, regionBytes: bytes)
            #expect(packed, "ISA \(isa) refused to pack \(describe(c))")
            if !packed { continue }
            // Guard bytes after the output catch writes past its end.
            var got = [Int8](repeating: 0x5A, count: c.outputShape.count + 64)
            if depthwise {
              depthwiseConv2DPacked(isa: isa, region: region, input: c.input, output: &got)
            } else {
              conv2DPacked(isa: isa, region: region, input: c.input, output: &got)
            }
            #expect(got[c.outputShape.count...].allSatisfy { $0 == 0x5A }, "ISA \(isa) wrote past the output: \(describe(c))")
            let differing = (0..<want.count).filter { got[$0] != want[$0] }
            if let first = differing.first {
              allSame = false
              Issue.record("ISA \(isa), \(describe(c)): \(differing.count) of \(want.count) bytes differ, first at \(first): \(got[first]) vs reference \(want[first])")
            }
          }
        }
      }
    }
  }
  return allSame
}

@Suite("Optimised kernels: convolution")
struct ConvOptimizedTests {
  /// `count` seeded random Conv2D (or depthwise) cases on every optimised
  /// path, stopping after 5 that differ.
  private func checkRandomConvs(seed: UInt64, count: Int, depthwise: Bool = false, threeWide: Bool = false,
                                wide: Bool = false, tall: Bool = false, wideIn: Bool = false) {
    guard !optimisedPathsOnThisCPU().isEmpty else { return }
    var rng = SplitMix64(seed: seed)
    var failures = 0
    for i in 0..<count where failures < 5 {
      let c = randomConvCase(&rng, depthwise: depthwise, index: i, wide: wide, threeWide: threeWide, tall: tall,
                             wideIn: wideIn)
      if !checkCase(c, depthwise: depthwise) { failures += 1 }
    }
  }

  @Test("AVX2 Conv2D equals conv2DReference on random shapes and parameters")
  func randomConv() { checkRandomConvs(seed: 0xC0417, count: 400) }

  @Test("AVX2 and AVX-512 Conv2D of 3-wide stride-1 kernels (the AVX-512 3-wide tiles) equal conv2DReference")
  func threeWideConv() { checkRandomConvs(seed: 0x3A1DE, count: 200, threeWide: true) }

  @Test("AVX2 Conv2D of 160-1280 input channels on small maps (the per-tap kernel where row-scratch chunks would be short) equals the reference")
  func wideInputConv() {
    // The row-scratch plan is refused where a row's chunks average less
    // than 2.5 output pixels: a 1x1 convolution on one pixel, of 1,024
    // channels over 16 pixels as one row (a scratch of one pixel), of 512
    // over 4 pixels (chunks of 3 and 1); taken for 512 over 64 pixels
    // (21 chunks of 3 and one of 1) and 64 channels over 256.
    func plan(inC: Int, k: Int, side: Int) -> AVX2RowsPlan? {
      let p = ConvParams(inputOffset: 0, outputOffset: 0, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
                         padTop: 0, padLeft: 0, depthMultiplier: 1, activationMin: -128, activationMax: 127)
      let filter = [Int8](repeating: 1, count: 8 * k * k * inC), mult = [Int32](repeating: 1 << 30, count: 8)
      let shift = [Int32](repeating: -8, count: 8)
      return mult.withUnsafeBufferPointer { m in shift.withUnsafeBufferPointer { s in
        avx2RowsPlan(params: p, inputShape: Dims4(n: 1, h: side, w: side, c: inC),
                     outputShape: Dims4(n: 1, h: side - k + 1, w: side - k + 1, c: 8), kH: k, kW: k, inC: inC,
                     requant: ChannelRequant(multiplier: m.baseAddress!, shift: s.baseAddress!), channels: 8,
                     filter: filter, bias: nil)
      } }
    }
    #expect(plan(inC: 1280, k: 1, side: 1) == nil)
    #expect(plan(inC: 48, k: 1, side: 1) == nil)
    #expect(plan(inC: 1024, k: 1, side: 4) == nil)
    #expect(plan(inC: 512, k: 1, side: 2) == nil)
    #expect(plan(inC: 512, k: 1, side: 8)?.chunkW == 3)
    #expect(plan(inC: 64, k: 1, side: 16)?.chunkW == 31)
    checkRandomConvs(seed: 0x1DE1, count: 60, wideIn: true)
  }

  @Test("AVX2 depthwise Conv2D equals depthwiseConv2DReference on random shapes and parameters")
  func randomDepthwise() { checkRandomConvs(seed: 0xD3E7, count: 300, depthwise: true) }

  @Test("AVX2 depthwise Conv2D on tall images (strips whose scratch rows are kept and copied back) equals the reference")
  func tallDepthwise() { checkRandomConvs(seed: 0x7A11, count: 24, depthwise: true, tall: true) }

  @Test("AVX2 depthwise Conv2D of 96-960 channels equals the reference; the row-scratch kernel takes 3x3 ones up to 672")
  func wideDepthwise() {
    // The row-scratch kernel's scratch rows share its 32 KiB stack buffer with
    // the widened weights: 256 channels with 3x3 taps get 15-pixel chunks (the
    // fixed 4 KiB scratch before held not one pixel, and such layers ran the
    // per-tap kernel at a fifth of the speed).
    #expect(depthwiseRowsChunk(kH: 3, kW: 3, stride: 256, multiplier: 1, strideW: 1, dilationW: 1, outW: 28) == 15)
    #expect(depthwiseRowsChunk(kH: 3, kW: 3, stride: 512, multiplier: 1, strideW: 1, dilationW: 1, outW: 14) == 5)
    #expect(depthwiseRowsChunk(kH: 3, kW: 3, stride: 672, multiplier: 1, strideW: 1, dilationW: 1, outW: 14) == 2)
    #expect(depthwiseRowsChunk(kH: 5, kW: 5, stride: 576, multiplier: 1, strideW: 1, dilationW: 1, outW: 14) == nil)
    #expect(depthwiseRowsChunk(kH: 3, kW: 3, stride: 960, multiplier: 1, strideW: 1, dilationW: 1, outW: 7) == nil)
    checkRandomConvs(seed: 0x31DE, count: 48, depthwise: true, wide: true)
  }

  /// Packs one depthwise op for the AVX-512 path (packing runs on any CPU)
  /// and returns its argument block and packed weight bytes.
  private func packAVX512Depthwise(k: Int, channels C: Int, strideH: Int, strideW: Int, dilationH: Int = 1,
                                   minMultiplier: Bool = false)
    -> (args: cnnrt_conv_args, weights: [Int8], filter: [Int8]) {
    var rng = SplitMix64(seed: UInt64(k * 1000 + C))
    let filter = (0..<(k * k * C)).map { _ in Int8(truncatingIfNeeded: rng.next() % 255) &- 127 }
    let mult = (0..<C).map { c in minMultiplier && c == C - 1 ? Int32.min : Int32(1 << 30) }
    let shift = [Int32](repeating: -3, count: C)
    let inputShape = Dims4(n: 1, h: 12, w: 12, c: C), filterShape = Dims4(n: 1, h: k, w: k, c: C)
    let outputShape = Dims4(n: 1, h: (12 - (k - 1) * dilationH - 1) / strideH + 1, w: (12 - k) / strideW + 1, c: C)
    let params = ConvParams(inputOffset: 5, outputOffset: -3, strideH: strideH, strideW: strideW,
                            dilationH: dilationH, dilationW: 1, padTop: 0, padLeft: 0, depthMultiplier: 1,
                            activationMin: -128, activationMax: 127)
    let bytes = depthwiseConv2DPackedBytes(isa: KernelISA.avx512, filterShape: filterShape, inputChannels: C)
    let region = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    defer { region.deallocate() }
    var args = cnnrt_conv_args()
    var weights: [Int8] = []
    mult.withUnsafeBufferPointer { mp in
      shift.withUnsafeBufferPointer { sp in
        filter.withUnsafeBufferPointer { fp in
          let ok = depthwiseConv2DPack(isa: KernelISA.avx512,
                                       params: params, requant: ChannelRequant(multiplier: mp.baseAddress!,
                                                                               shift: sp.baseAddress!),
                                       inputShape: inputShape, filterShape: filterShape, filter: fp.baseAddress!,
                                       bias: nil, outputShape: outputShape, region: region, regionBytes: bytes)
          #expect(ok)
          args = region.load(as: cnnrt_conv_args.self)
          let w = args.weights!.assumingMemoryBound(to: Int8.self)
          weights = (0..<(Int(args.c_groups) * 256 * Int(args.oc_blocks))).map { w[$0] }
        }
      }
    }
    return (args, weights, filter)
  }

  @Test("AVX-512 depthwise packing: 3x3 ops with stride_h 1 or 2 take the column kernel, kernel rows as quads")
  func avx512DepthwiseColumnLayout() {
    // 64 channels, 3x3, stride 1: the column kernel (taps_per_row 3), one
    // pixel per group; quad q = kernel row q, slot 3 a zero weight. Byte
    // (q, k, dword d, slot t) holds channel 16 (d / 4) + 4k + d % 4.
    for strideH in [1, 2] {
      let (a, w, f) = packAVX512Depthwise(k: 3, channels: 64, strideH: strideH, strideW: 1)
      #expect(a.variant == 3 && a.taps_per_row == 3 && a.chunk_w == 1 && a.c_groups == 3)
      var bad = 0
      for q in 0..<3 { for k in 0..<4 { for d in 0..<16 { for t in 0..<4 {
        let c = 16 * (d / 4) + 4 * k + d % 4
        let want: Int8 = t < 3 ? f[(q * 3 + t) * 64 + c] : 0
        if w[((q * 4 + k) * 16 + d) * 4 + t] != want { bad += 1 }
      } } } }
      #expect(bad == 0, "stride_h \(strideH): \(bad) weight bytes not in the column layout")
    }
    // 32 and 16 channels at stride_w 1: 2 and 4 pixels per group; stride_w 2: one.
    #expect(packAVX512Depthwise(k: 3, channels: 32, strideH: 1, strideW: 1).args.chunk_w == 2)
    #expect(packAVX512Depthwise(k: 3, channels: 16, strideH: 1, strideW: 1).args.chunk_w == 4)
    #expect(packAVX512Depthwise(k: 3, channels: 32, strideH: 1, strideW: 2).args.chunk_w == 1)
    // Not the column kernel: 5x5 (band kernel, raster quads), a vertical
    // dilation, and an Int32.min multiplier (per-tap kernel).
    let five = packAVX512Depthwise(k: 5, channels: 64, strideH: 1, strideW: 1)
    #expect(five.args.taps_per_row == 0 && five.args.chunk_w == 1 && five.args.c_groups == 7)
    var bad = 0
    for q in 0..<7 { for t in 0..<4 {
      let tap = 4 * q + t
      if five.weights[(q * 4 * 16) * 4 + t] != (tap < 25 ? five.filter[tap * 64] : 0) { bad += 1 }
    } }
    #expect(bad == 0, "5x5: \(bad) channel-0 weight bytes not in raster order")
    #expect(packAVX512Depthwise(k: 3, channels: 64, strideH: 1, strideW: 1, dilationH: 2).args.taps_per_row == 0)
    let minM = packAVX512Depthwise(k: 3, channels: 64, strideH: 1, strideW: 1, minMultiplier: true).args
    #expect(minM.taps_per_row == 0 && minM.chunk_w == 0)
  }
}

@Suite("Optimised kernels: pooling")
struct PoolOptimizedTests {
  @Test("AVX2 average pooling equals averagePool2DReference on random shapes and parameters")
  func randomAveragePool() {
    checkRandomPools(average: true, seed: 0xA7E9, channelCounts: [1, 3, 7, 8, 9, 16, 31, 32, 33, 40, 64, 100])
  }

  /// Global average pools of windows just under and over 2^16 taps (the
  /// AVX2 kernel divides in float32 up to 2^16 taps, lane by lane beyond),
  /// on inputs of all -128 and all 127 (the largest sums) and random ones.
  @Test("AVX2 average pooling of windows around 2^16 taps equals the reference")
  func averagePoolOfLargeWindows() {
    let paths = optimisedPathsOnThisCPU()
    guard !paths.isEmpty else { return }
    var rng = SplitMix64(seed: 0x6A11)
    for (h, w) in [(256, 256), (257, 256)] {
      for fill in [Int8(-128), 127, 0] {
        let inputShape = Dims4(n: 1, h: h, w: w, c: 9), outputShape = Dims4(n: 1, h: 1, w: 1, c: 9)
        let input: [Int8] = (0..<inputShape.count).map { _ in fill != 0 ? fill : Int8(truncatingIfNeeded: rng.int(-128...127)) }
        let params = PoolParams(strideH: 1, strideW: 1, filterH: h, filterW: w, padTop: 0, padLeft: 0,
                                activationMin: -128, activationMax: 127)
        var want = [Int8](repeating: 0, count: 9)
        averagePool2DReference(params: params, inputShape: inputShape, input: input, outputShape: outputShape, output: &want)
        for isa in paths {
          var got = [Int8](repeating: 0x5A, count: 9)
          averagePool2DOptimized(isa: isa, params: params, inputShape: inputShape, input: input,
                                 outputShape: outputShape, output: &got)
          #expect(got == want, "ISA \(isa): \(h)x\(w) window, fill \(fill)")
        }
      }
    }
  }

  /// Channel counts below, at and past each vector width (8, 16, 32 on
  /// AVX2), where the last vector overlaps the one before it; 24 and 58
  /// are ShuffleNet's.
  @Test("AVX2 max pooling equals maxPool2DReference on random shapes and parameters")
  func randomMaxPool() {
    checkRandomPools(average: false, seed: 0x3A91,
                     channelCounts: [1, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 58, 64, 65, 100])
  }

  /// 400 random pools (every fourth global) on every optimised path of this
  /// CPU against the reference; the output buffer has 32 guard bytes after it.
  private func checkRandomPools(average: Bool, seed: UInt64, channelCounts: [Int]) {
    let paths = optimisedPathsOnThisCPU()
    guard !paths.isEmpty else { return }
    var rng = SplitMix64(seed: seed)
    for i in 0..<400 {
      let channels = channelCounts[rng.int(0...channelCounts.count - 1)]
      let h = rng.int(1...30), w = rng.int(1...30), batches = rng.int(1...2)
      let global = i % 4 == 0
      let fH = global ? h : rng.int(1...min(h, 6)), fW = global ? w : rng.int(1...min(w, 6))
      let sH = global ? 1 : rng.int(1...3), sW = global ? 1 : rng.int(1...3)
      let padTop = global ? 0 : rng.int(0...fH - 1), padLeft = global ? 0 : rng.int(0...fW - 1)
      let outH = max(1, (h + 2 * padTop - fH) / sH + 1), outW = max(1, (w + 2 * padLeft - fW) / sW + 1)
      var lo = Int32(rng.int(-128...127)), hi = Int32(rng.int(-128...127))
      if rng.bool() { lo = -128; hi = 127 }
      if lo > hi { swap(&lo, &hi) }
      let params = PoolParams(strideH: sH, strideW: sW, filterH: fH, filterW: fW, padTop: padTop, padLeft: padLeft,
                              activationMin: lo, activationMax: hi)
      let inputShape = Dims4(n: batches, h: h, w: w, c: channels)
      let outputShape = Dims4(n: batches, h: outH, w: outW, c: channels)
      let extreme = i % 3 == 0
      let input: [Int8] = (0..<inputShape.count).map { _ in
        extreme ? (rng.bool() ? -128 : 127) : Int8(truncatingIfNeeded: rng.int(-128...127))
      }
      var want = [Int8](repeating: 0, count: outputShape.count)
      if average {
        averagePool2DReference(params: params, inputShape: inputShape, input: input, outputShape: outputShape, output: &want)
      } else {
        maxPool2DReference(params: params, inputShape: inputShape, input: input, outputShape: outputShape, output: &want)
      }
      for isa in paths {
        var got = [Int8](repeating: 0x5A, count: outputShape.count + 32)
        if average {
          averagePool2DOptimized(isa: isa, params: params, inputShape: inputShape, input: input,
                                 outputShape: outputShape, output: &got)
        } else {
          let ran = maxPool2DOptimized(isa: isa, params: params, inputShape: inputShape, input: input,
                                       outputShape: outputShape, output: &got)
          #expect(ran, "ISA \(isa): no max pool kernel ran")
        }
        #expect(Array(got[..<want.count]) == want, "ISA \(isa): in \(inputShape) filter \(fH)x\(fW) stride \(sH)x\(sW) pad \(padTop),\(padLeft)")
        #expect(got[want.count...].allSatisfy { $0 == 0x5A }, "ISA \(isa) wrote past the output")
      }
    }
  }
}
