// TransposeConv: the gathered reference against a direct scatter written
// from the definition, and the loader's refusals. (Bit-exactness with TFLM:
// the tconv_* golden cases in Tests/Golden/tflm.)
@testable import CNNRuntime
import CNNTools
import Testing

/// x [1,H,W,Cin] → transposeConv(filter [Cout,KH,KW,Cin], bias) → y.
private func tconvModel(h: Int, w: Int, cin: Int, cout: Int, k: (Int, Int), stride: (Int, Int), padding: Padding,
                        outputSize: (Int, Int)? = nil, seed: UInt64) throws -> (bytes: [UInt8], filter: [Int8], bias: [Int32]) {
  var rng = SplitMix64(seed: seed)
  var b = ModelBuilder()
  let x = try b.addActivation(shape: [1, h, w, cin], scale: 0.05, zeroPoint: 3, name: "x")
  let filter = (0..<(cout * k.0 * k.1 * cin)).map { _ in Int8(truncatingIfNeeded: Int(rng.next() % 255) - 127) }
  let scales = (0..<cout).map { Float($0 + 1) * 0.004 }
  let f = try b.addConstant(filter, shape: [cout, k.0, k.1, cin], scales: scales, axis: 0, name: "f")
  let bias = (0..<cout).map { _ in Int32(truncatingIfNeeded: Int(rng.next() % 2001) - 1000) }
  let bi = try b.addConstant(bias, name: "b")
  let y = try b.transposeConv(x, filter: f, bias: bi, stride: stride, padding: padding, outputSize: outputSize,
                              outputScale: 0.08, outputZeroPoint: -5, name: "y")
  try b.markInput(x)
  try b.markOutput(y)
  return (try b.serialize(), filter, bias)
}

@Suite struct TransposeConvTests {
  /// The definition: every input pixel scattered through the filter into an
  /// int32 buffer of the output's size (TFLM's order), then requantized.
  @Test(arguments: [(4, 3, 3, 5, 3, 2, Padding.same), (3, 3, 2, 4, 2, 2, .valid), (5, 4, 3, 2, 3, 1, .same),
                    (2, 3, 4, 3, 3, 3, .same)])
  func gatherEqualsScatter(h: Int, w: Int, cin: Int, cout: Int, k: Int, s: Int, padding: Padding) throws {
    try checkScatter(h: h, w: w, cin: cin, cout: cout, k: k, s: s, padding: padding, outputSize: nil)
  }

  /// Explicit pads (ONNX ConvTranspose's pads; the output size adds
  /// output_padding rows and columns past the last input's reach).
  @Test(arguments: [(4, 3, 3, 5, 3, 2, 1, 1, 1, 1, 8, 6), (3, 4, 2, 3, 3, 2, 1, 0, 1, 2, 6, 7),
                    (5, 4, 3, 2, 4, 2, 1, 1, 1, 1, 10, 8), (3, 3, 2, 2, 3, 1, 2, 0, 1, 2, 2, 3)])
  func explicitPadsGatherEqualsScatter(h: Int, w: Int, cin: Int, cout: Int, k: Int, s: Int,
                                       top: Int, left: Int, bottom: Int, right: Int, oh: Int, ow: Int) throws {
    try checkScatter(h: h, w: w, cin: cin, cout: cout, k: k, s: s,
                     padding: .explicit(top: top, left: left, bottom: bottom, right: right), outputSize: (oh, ow))
  }

  private func checkScatter(h: Int, w: Int, cin: Int, cout: Int, k: Int, s: Int, padding: Padding,
                            outputSize: (Int, Int)?) throws {
    let (bytes, filter, bias) = try tconvModel(h: h, w: w, cin: cin, cout: cout, k: (k, k), stride: (s, s),
                                               padding: padding, outputSize: outputSize,
                                               seed: UInt64(h * 100 + cin * 10 + k))
    let model = try RuntimeModel(bytes: bytes)
    let x = (0..<(h * w * cin)).map { Int8(truncatingIfNeeded: $0 * 37 - 100) }
    let got = try model.run(inputs: [x])[0]
    let o = model.outputs[0]
    let (oh, ow) = (o.shape[1], o.shape[2])
    // TFLM's padding: of the forward convolution from the output size.
    func pad(_ out: Int, _ k: Int, vertical: Bool) -> Int {
      if case .explicit(let t, let l, _, _) = padding { return vertical ? t : l }
      return padding == .valid ? 0 : max(((out + s - 1) / s - 1) * s + k - out, 0) / 2
    }
    var acc = [Int32](repeating: 0, count: oh * ow * cout)
    for iy in 0..<h { for ix in 0..<w { for ky in 0..<k { for kx in 0..<k {
      let oy = iy * s - pad(oh, k, vertical: true) + ky, ox = ix * s - pad(ow, k, vertical: false) + kx
      guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
      for oc in 0..<cout { for ic in 0..<cin {
        acc[(oy * ow + ox) * cout + oc] += (Int32(x[(iy * w + ix) * cin + ic]) - 3) * Int32(filter[((oc * k + ky) * k + kx) * cin + ic])
      } }
    } } } }
    var want: [Int8] = []
    for (i, a) in acc.enumerated() {
      let oc = i % cout
      let (m, sh) = convRequant(inputScale: 0.05, filterScale: Float(oc + 1) * 0.004, outputScale: 0.08)
      want.append(requantizeToInt8(a + bias[oc], multiplier: m, shift: sh, outputOffset: -5,
                                   activationMin: -128, activationMax: 127))
    }
    #expect(got == want)
  }

  @Test func loaderRefusesBadRecords() throws {
    let good = try tconvModel(h: 4, w: 4, cin: 3, cout: 5, k: (3, 3), stride: (2, 2), padding: .same, seed: 1).bytes
    #expect(loadFailure(good) == nil)
    func edited(_ edit: (inout OpRecord) -> Void) -> [UInt8] { editOp(good, 0, edit) }
    func expectRefused(_ bytes: [UInt8], _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
      let e = loadFailure(bytes)
      #expect(e != nil && e!.message.contains("TransposeConv") && e!.message.contains(text),
              "\(e?.description ?? "loaded")", sourceLocation: sourceLocation)
    }
    expectRefused(edited { $0.dilationH = 2 }, "dilation")
    // Explicit pads of 0 on this SAME model: the 8×8 output's forward convolution gives 3×3.
    expectRefused(edited { $0.padding = PaddingKind.explicit.rawValue }, "forward convolution")
    expectRefused(edited { $0.padding = PaddingKind.explicit.rawValue; $0.padTop = 3 }, "pads")
    expectRefused(edited { $0.padding = PaddingKind.explicit.rawValue; $0.padRight = -1 }, "pads")
    // Stride 3: the 8×8 output's forward convolution gives 3×3, not the 4×4 input.
    expectRefused(edited { $0.strideH = 3; $0.strideW = 3 }, "forward convolution")
    expectRefused(edited { $0.padding = PaddingKind.valid.rawValue }, "forward convolution")
    // A larger valid output (SAME, stride 2: 7 gives ceil(7/2) = 4) loads.
    #expect(loadFailure(try tconvModel(h: 4, w: 4, cin: 3, cout: 5, k: (3, 3), stride: (2, 2), padding: .same,
                                       outputSize: (7, 8), seed: 1).bytes) == nil)
    // The builder refuses sizes the loader refuses.
    #expect(throws: ModelBuilderError.self) {
      _ = try tconvModel(h: 4, w: 4, cin: 3, cout: 5, k: (3, 3), stride: (2, 2), padding: .same, outputSize: (9, 8), seed: 1)
    }
  }
}

/// The packed kernel of every optimised path this CPU runs (the AVX2 kernel
/// on the AVX2 and AVX-512 paths) against transposeConvReference, byte for
/// byte, on seeded random shapes: kernels 1...5 with strides 1...3 (taps
/// that overlap, that tile the output exactly, and k < s, where some output
/// rows get no tap and hold only the bias), pads 0 to k − 1 and output sizes
/// past the last input's reach, input channels odd and even around the
/// 16-input vector steps, output channels around the blocks of 8 and the
/// passes of 32, 1 or 2 images, per-channel multipliers with left and right
/// shifts, offsets at their ends, clamps, with and without bias. Guard bytes
/// after the output catch a write past its end.
@Suite struct TransposeConvOptimizedTests {
  @Test func packedKernelEqualsTheReference() {
    let paths = optimisedPathsOnThisCPU()
    if paths.isEmpty { print("TransposeConvOptimizedTests: no optimised path on this CPU; nothing to compare"); return }
    var rng = SplitMix64(seed: 0x7C0)
    let inCs = [1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 48]
    let outCs = [1, 3, 7, 8, 9, 16, 17, 24, 31, 32, 33, 40, 64, 65]
    var failures = 0
    for index in 0..<300 where failures < 5 {
      let kH = rng.int(1...5), kW = rng.int(1...5), sH = rng.int(1...3), sW = rng.int(1...3)
      let inC = inCs[rng.int(0...inCs.count - 1)], outC = outCs[rng.int(0...outCs.count - 1)]
      let h = rng.int(1...9), w = rng.int(1...12), batches = rng.int(1...2)
      let padTop = rng.int(0...kH - 1), padLeft = rng.int(0...kW - 1)
      // The forward convolution's input size, plus 0-2 rows and columns past the last input's reach.
      let outH = max(1, (h - 1) * sH + kH - 2 * padTop + rng.int(0...2))
      let outW = max(1, (w - 1) * sW + kW - 2 * padLeft + rng.int(0...2))
      let extreme = index % 4 == 0
      func i8(_ n: Int, min lo: Int) -> [Int8] {
        (0..<n).map { _ in extreme && rng.bool() ? (rng.bool() ? Int8(lo) : 127) : Int8(truncatingIfNeeded: rng.int(lo...127)) }
      }
      let inputShape = Dims4(n: batches, h: h, w: w, c: inC), filterShape = Dims4(n: outC, h: kH, w: kW, c: inC)
      let outputShape = Dims4(n: batches, h: outH, w: outW, c: outC)
      let input = i8(inputShape.count, min: -128), filter = i8(filterShape.count, min: -127)
      let bias: [Int32]? = rng.int(0...3) == 0 ? nil : (0..<outC).map { _ in Int32(rng.int(-200_000...200_000)) }
      let mult: [Int32] = (0..<outC).map { _ in rng.int(0...9) == 0 ? Int32.max : Int32(rng.int(1 << 30...(1 << 31) - 1)) }
      let shift: [Int32] = (0..<outC).map { _ in Int32(rng.int(0...4) == 0 ? rng.int(0...3) : rng.int(-14...(-1))) }
      var lo = Int32(rng.int(-128...127)), hi = Int32(rng.int(-128...127))
      if rng.int(0...2) == 0 { lo = -128; hi = 127 }
      if lo > hi { swap(&lo, &hi) }
      let inputOffset = extreme ? (rng.bool() ? -127 : 128) : Int32(rng.int(-127...128))
      let params = TransposeConvParams(inputOffset: inputOffset, outputOffset: Int32(rng.int(-128...127)),
                                       strideH: sH, strideW: sW, padTop: padTop, padLeft: padLeft,
                                       activationMin: lo, activationMax: hi)
      let describe = "in \(inputShape) filter \(filterShape) out \(outputShape) stride \(sH)x\(sW) pad \(padTop),\(padLeft) bias \(bias != nil)"
      var want = [Int8](repeating: 0, count: outputShape.count)
      mult.withUnsafeBufferPointer { mp in shift.withUnsafeBufferPointer { sp in
        (bias ?? []).withUnsafeBufferPointer { bp in filter.withUnsafeBufferPointer { fp in
          let rq = ChannelRequant(multiplier: mp.baseAddress!, shift: sp.baseAddress!)
          let b = bias == nil ? nil : bp.baseAddress
          transposeConvReference(params: params, requant: rq, inputShape: inputShape, input: input,
                                 filterShape: filterShape, filter: fp.baseAddress!, bias: b,
                                 outputShape: outputShape, output: &want)
          for isa in paths {
            let bytes = transposeConvPackedSize(isa: isa, filterShape: filterShape, inputChannels: inC).bytes
            #expect(bytes > 0, "\(KernelISA.name(isa)) has no kernel for \(describe)")
            if bytes == 0 { continue }
            let region = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            defer { region.deallocate() }
            let packed = transposeConvPack(isa: isa, params: params, requant: rq, inputShape: inputShape,
                                           filterShape: filterShape, filter: fp.baseAddress!, bias: b,
                                           outputShape: outputShape, region: region, regionBytes: bytes)
            #expect(packed, "\(KernelISA.name(isa)) refused to pack \(describe)")
            if !packed { continue }
            var got = [Int8](repeating: 0x5A, count: outputShape.count + 64)
            transposeConvPacked(isa: isa, region: region, input: input, output: &got)
            #expect(got[outputShape.count...].allSatisfy { $0 == 0x5A }, "\(KernelISA.name(isa)) wrote past the output: \(describe)")
            let differing = (0..<want.count).filter { got[$0] != want[$0] }
            if let first = differing.first {
              failures += 1
              Issue.record("\(KernelISA.name(isa)), \(describe): \(differing.count) of \(want.count) bytes differ, first at \(first): \(got[first]) vs reference \(want[first])")
            }
          }
        } }
      } }
    }
  }
}
