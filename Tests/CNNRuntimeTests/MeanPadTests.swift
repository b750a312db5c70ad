// MEAN (op 11) and PAD (op 12): the reference kernels against plain,
// independent formulas on seeded random shapes, golden vectors produced by
// TensorFlow Lite Micro itself, end-to-end models built with ModelBuilder and
// run through the C API, and the loader's / builder's rejections.
//
// The MEAN oracle here is written from TFLM's documented arithmetic
// (reference_ops::QuantizedMeanOrSum), not from the kernel: Int64 sums, the
// 1/n folded into the multiplier with Int64 division, and the exact-rational
// double-rounding MultiplyByQuantizedMultiplier in Int128.

import Foundation
import Testing
@testable import CNNRuntime
@testable import CNNTools

// MARK: - Independent MEAN oracle

/// TFLM QuantizeMultiplier on Double's significand/exponent (no runtime code):
/// real = q × 2^e with q in [0.5, 1), M = round-half-away(q × 2^31), fix-up at 2^31,
/// flush below 2^-31 to (0, 0).
func oracleQuantizeMultiplier(_ real: Double) -> (m: Int64, s: Int) {
  guard real > 0, real.isFinite else { return (0, 0) }
  let q = real.significand / 2
  var e = Int(real.exponent) + 1
  var m = Int64((q * 2_147_483_648).rounded(.toNearestOrAwayFromZero))
  if m == 1 << 31 { m /= 2; e += 1 }
  if e < -31 { return (0, 0) }
  return (m, e)
}

/// x × m × 2^(shift − 31) with TFLM's two roundings, exactly: first
/// round(x' × m / 2^31) ties up (x' = x × 2^left wrapped to 32 bits), then
/// round(· / 2^right) ties away from zero.
func oracleMBQM(_ x: Int32, _ m: Int64, _ shift: Int) -> Int64 {
  let left = max(shift, 0), right = max(-shift, 0)
  let v = Int128(Int32(truncatingIfNeeded: Int64(x) << left))
  var s = (v * Int128(m) + (Int128(1) << 30)) >> 31
  if s > Int128(Int32.max) { s = Int128(Int32.max) }
  if right > 0 {
    let half = Int128(1) << (right - 1)
    s = s >= 0 ? (s + half) >> right : -((-s + half) >> right)
  }
  return Int64(s)
}

/// The multiplier and shift of a mean over n elements (TFLM QuantizedMeanOrSum).
func oracleMeanRequant(inScale: Float, outScale: Float, n: Int) -> (m: Int64, s: Int) {
  let (m, s) = oracleQuantizeMultiplier(Double(inScale) / Double(outScale))
  let k = min(63 - UInt64(n).leadingZeroBitCount, 32, 31 + s)
  return ((m << k) / Int64(n), s - k)
}

/// One output of MEAN: the values of one (batch, channel) over H × W.
private func oracleMean(_ xs: [Int8], inScale: Float, inZP: Int32, outScale: Float, outZP: Int32) -> Int8 {
  let (m, s) = oracleMeanRequant(inScale: inScale, outScale: outScale, n: xs.count)
  let sum = xs.reduce(Int64(0)) { $0 + Int64($1) } - Int64(inZP) * Int64(xs.count)
  let v = oracleMBQM(Int32(truncatingIfNeeded: sum), m, s) + Int64(outZP)
  return Int8(min(max(v, -128), 127))
}

/// MEAN over H and W of an NHWC tensor, batch-major [N, C] result.
private func oracleMean(_ x: [Int8], shape: [Int], inScale: Float, inZP: Int32, outScale: Float, outZP: Int32) -> [Int8] {
  let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
  var out: [Int8] = []
  for b in 0..<n {
    for ch in 0..<c {
      var xs: [Int8] = []
      for y in 0..<h { for xx in 0..<w { xs.append(x[((b * h + y) * w + xx) * c + ch]) } }
      out.append(oracleMean(xs, inScale: inScale, inZP: inZP, outScale: outScale, outZP: outZP))
    }
  }
  return out
}

/// Plain zero-point / constant padding of H and W.
private func oraclePad(_ x: [Int8], shape: [Int], top: Int, left: Int, bottom: Int, right: Int, value: Int8) -> [Int8] {
  let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
  let oh = h + top + bottom, ow = w + left + right
  var out = [Int8](repeating: value, count: n * oh * ow * c)
  for b in 0..<n {
    for y in 0..<h {
      for xx in 0..<w {
        for ch in 0..<c { out[((b * oh + y + top) * ow + xx + left) * c + ch] = x[((b * h + y) * w + xx) * c + ch] }
      }
    }
  }
  return out
}

// MARK: - Kernel drivers

private func runMean(_ x: [Int8], shape: [Int], inScale: Float, inZP: Int32, outScale: Float, outZP: Int32) -> [Int8] {
  let p = prepareMean(inputScale: inScale, inputZeroPoint: inZP, outputScale: outScale, outputZeroPoint: outZP,
                      count: shape[1] * shape[2])
  var out = [Int8](repeating: 0x55, count: shape[0] * shape[3])
  x.withUnsafeBufferPointer { xp in
    out.withUnsafeMutableBufferPointer { op in
      meanReference(params: p, inputShape: Dims4(n: shape[0], h: shape[1], w: shape[2], c: shape[3]),
                    input: xp.baseAddress!, output: op.baseAddress!)
    }
  }
  return out
}

private func runPad(_ x: [Int8], shape: [Int], top: Int, left: Int, bottom: Int, right: Int, value: Int8,
                    sentinel: Int8 = 0x55) -> [Int8] {
  let os = Dims4(n: shape[0], h: shape[1] + top + bottom, w: shape[2] + left + right, c: shape[3])
  var out = [Int8](repeating: sentinel, count: os.count)
  x.withUnsafeBufferPointer { xp in
    out.withUnsafeMutableBufferPointer { op in
      padReference(params: PadParams(padTop: top, padLeft: left, padBottom: bottom, padRight: right, value: value),
                   inputShape: Dims4(n: shape[0], h: shape[1], w: shape[2], c: shape[3]), input: xp.baseAddress!,
                   outputShape: os, output: op.baseAddress!)
    }
  }
  return out
}

extension SplitMix64 {
  fileprivate mutating func int8(_ range: ClosedRange<Int> = -128...127) -> Int8 { Int8(int(range)) }
  /// Log-uniform in [lo, hi].
  fileprivate mutating func logBetween(_ lo: Double, _ hi: Double) -> Double {
    exp(log(lo) + (log(hi) - log(lo)) * unit())
  }
}

/// The inputs of the TFLM golden cases: a 31-bit LCG the generator script used too.
func lcgInputs(_ count: Int, seed: UInt64, zeroPoint: Int32, spread: Int?) -> [Int8] {
  var s = seed
  var out: [Int8] = []
  for _ in 0..<count {
    s = (s &* 1_103_515_245 &+ 12345) % (1 << 31)
    let r = Int(s >> 16)
    if let spread {
      out.append(Int8(max(-128, min(127, Int(zeroPoint) + r % (2 * spread + 1) - spread))))
    } else {
      out.append(Int8(r % 256 - 128))
    }
  }
  return out
}

private struct MeanGolden {
  var shape: [Int]
  var inScale: Float, inZeroPoint: Int32, outScale: Float, outZeroPoint: Int32
  var keepDims: Bool
  var seed: UInt64
  var spread: Int?
  var expected: [Int8]
}

/// Outputs of TFLM's MEAN (PyPI tflite-micro 0.dev20261023, the MEAN builtin
/// with axis [1, 2] in a one-op int8 model) on `lcgInputs`.
private let tflmMeanGoldens: [MeanGolden] = [
  MeanGolden(shape: [1, 49, 10, 4], inScale: 0.0235, inZeroPoint: -7, outScale: 0.0235, outZeroPoint: -7, keepDims: true,
             seed: 1, spread: nil, expected: [5, -1, -4, -8]),
  MeanGolden(shape: [2, 8, 8, 3], inScale: 0.05, inZeroPoint: -128, outScale: 0.2, outZeroPoint: -128, keepDims: true,
             seed: 2, spread: nil, expected: [-98, -96, -95, -96, -94, -96]),
  MeanGolden(shape: [1, 1, 1, 6], inScale: 0.1, inZeroPoint: 3, outScale: 0.3, outZeroPoint: 10, keepDims: false,
             seed: 3, spread: nil, expected: [-6, 32, 8, 6, 14, 27]),
  MeanGolden(shape: [4, 2, 2, 6], inScale: 0.02, inZeroPoint: 0, outScale: 0.02, outZeroPoint: 0, keepDims: false,
             seed: 4, spread: 2,
             expected: [1, 0, 1, 0, 0, -2, 1, 1, -1, 0, -1, 1, 0, -1, 1, 1, 0, 0, 0, 1, 0, 2, 1, -1]),
  MeanGolden(shape: [3, 5, 3, 2], inScale: 0.5, inZeroPoint: 12, outScale: 0.4, outZeroPoint: 0, keepDims: true,
             seed: 5, spread: nil, expected: [8, -51, -26, -23, -42, -20]),
  MeanGolden(shape: [1, 16, 16, 5], inScale: 0.01, inZeroPoint: -20, outScale: 1_300_000, outZeroPoint: 1, keepDims: true,
             seed: 6, spread: nil, expected: [1, 1, 1, 1, 1]),
  MeanGolden(shape: [2, 2, 2, 3], inScale: 0.125, inZeroPoint: 5, outScale: 0.125, outZeroPoint: 5, keepDims: false,
             seed: 7, spread: 1, expected: [5, 6, 6, 6, 6, 5]),
  MeanGolden(shape: [1, 3, 5, 2], inScale: 0.07, inZeroPoint: -3, outScale: 0.011, outZeroPoint: 17, keepDims: false,
             seed: 8, spread: 3, expected: [11, 15]),
  MeanGolden(shape: [1, 10, 49, 3], inScale: 0.003, inZeroPoint: -10, outScale: 0.0007, outZeroPoint: -60, keepDims: true,
             seed: 9, spread: nil, expected: [-1, -34, 6]),
]

// MARK: - MEAN kernel

@Suite struct MeanKernelTests {
  @Test func matchesTFLMGoldenVectors() {
    for g in tflmMeanGoldens {
      let x = lcgInputs(g.shape.reduce(1, *), seed: g.seed, zeroPoint: g.inZeroPoint, spread: g.spread)
      let got = runMean(x, shape: g.shape, inScale: g.inScale, inZP: g.inZeroPoint, outScale: g.outScale, outZP: g.outZeroPoint)
      #expect(got == g.expected, "shape \(g.shape)")
      #expect(oracleMean(x, shape: g.shape, inScale: g.inScale, inZP: g.inZeroPoint, outScale: g.outScale,
                         outZP: g.outZeroPoint) == g.expected, "oracle, shape \(g.shape)")
    }
  }

  /// Worked by hand and checked against TFLM: 2×2 windows, one non-zero tap.
  /// With equal quantization TFLM's multiplier for 1.0 is 2^30 with shift +1,
  /// and the folded 1/4 makes it (2^30, −1): double rounding sends 0.25 to 1
  /// but −0.25 to 0, and ties (±0.5) away from zero.
  @Test func tiesAndNegativeSumsFollowTFLMDoubleRounding() {
    let cases: [(Int8, Int8, Int8)] = [  // (tap, equal quantization, output scale halved)
      (1, 1, 1), (-1, 0, 0), (2, 1, 1), (-2, -1, -1), (3, 1, 2), (-3, -1, -1),
      (5, 2, 3), (-5, -1, -2), (6, 2, 3), (-6, -2, -3),
    ]
    for (tap, same, halved) in cases {
      let x: [Int8] = [tap, 0, 0, 0]
      #expect(runMean(x, shape: [1, 2, 2, 1], inScale: 0.5, inZP: 0, outScale: 0.5, outZP: 0) == [same], "tap \(tap)")
      #expect(runMean(x, shape: [1, 2, 2, 1], inScale: 0.5, inZP: 0, outScale: 0.25, outZP: 0) == [halved], "tap \(tap)")
    }
    #expect(runMean([Int8](repeating: -128, count: 4), shape: [1, 2, 2, 1], inScale: 0.5, inZP: 0, outScale: 0.25, outZP: 0) == [-128])
    #expect(runMean([Int8](repeating: 127, count: 4), shape: [1, 2, 2, 1], inScale: 0.5, inZP: 0, outScale: 0.25, outZP: 0) == [127])
  }

  @Test func matchesIndependentFormulaOnRandomShapes() {
    var rng = SplitMix64(seed: 0x4D45_414E)
    let spatial = [(49, 10), (10, 49), (8, 8), (1, 1), (7, 7), (5, 3), (3, 1), (16, 16), (2, 2), (1, 13), (64, 64)]
    for trial in 0..<400 {
      let (h, w) = spatial[rng.int(0...(spatial.count - 1))]
      let shape = [rng.int(1...3), h, w, rng.int(1...6)]
      let inScale = Float(rng.logBetween(1e-4, 1))
      let inZP = Int32(rng.int(-128...127))
      var outScale = inScale, outZP = inZP
      switch rng.int(0...2) {
      case 0: break                                                       // equal quantization
      case 1: outScale = Float(Double(inScale) / rng.logBetween(0.1, 10)); outZP = Int32(rng.int(-128...127))
      default: outScale = Float(Double(inScale) / rng.logBetween(0x1p-31, 0x1p12)); outZP = Int32(rng.int(-128...127))
      }
      let count = shape.reduce(1, *)
      let x: [Int8]
      switch rng.int(0...3) {
      case 0: x = (0..<count).map { _ in rng.int8() }
      case 1: x = (0..<count).map { _ in Int8(max(-128, min(127, Int(inZP) + rng.int(-2...2)))) }   // ties, small sums
      case 2: x = (0..<count).map { _ in rng.bool() ? -128 : 127 }
      default: x = (0..<count).map { _ in Int8(max(-128, min(127, Int(inZP) + rng.int(-40...8)))) }  // negative sums
      }
      let got = runMean(x, shape: shape, inScale: inScale, inZP: inZP, outScale: outScale, outZP: outZP)
      let want = oracleMean(x, shape: shape, inScale: inScale, inZP: inZP, outScale: outScale, outZP: outZP)
      #expect(got == want, "trial \(trial): shape \(shape), scales \(inScale) → \(outScale), zp \(inZP) → \(outZP)")
    }
  }

  /// The result is the real mean requantized, to within one step (TFLM's
  /// double rounding and truncated multiplier may add one).
  @Test func staysWithinOneStepOfTheRealMean() {
    var rng = SplitMix64(seed: 77)
    for _ in 0..<300 {
      let shape = [1, rng.int(1...12), rng.int(1...12), rng.int(1...4)]
      let inScale = Float(rng.logBetween(1e-3, 0.5)), outScale = Float(rng.logBetween(1e-3, 0.5))
      let inZP = Int32(rng.int(-128...127)), outZP = Int32(rng.int(-128...127))
      let x = (0..<shape.reduce(1, *)).map { _ in rng.int8() }
      let got = runMean(x, shape: shape, inScale: inScale, inZP: inZP, outScale: outScale, outZP: outZP)
      let n = shape[1] * shape[2], c = shape[3]
      for ch in 0..<c {
        var sum = 0.0
        for i in 0..<n { sum += Double(Int(x[i * c + ch]) - Int(inZP)) }
        let real = sum / Double(n) * Double(inScale) / Double(outScale) + Double(outZP)
        let exact = min(max(real.rounded(.toNearestOrAwayFromZero), -128), 127)
        #expect(abs(Double(got[ch]) - exact) <= 1, "real \(real), got \(got[ch])")
      }
    }
  }

  @Test func largeWindowsAreExact() {
    for (h, w) in [(49, 10), (128, 128), (1, 1)] {
      for v in [Int8(-128), 127, 0, -7] {
        let x = [Int8](repeating: v, count: h * w * 2)
        // Equal quantization: a constant input averages to itself.
        #expect(runMean(x, shape: [1, h, w, 2], inScale: 0.02, inZP: -3, outScale: 0.02, outZP: -3) == [v, v])
        // Halving the output scale doubles the distance from the zero point.
        let doubled = Int8(max(-128, min(127, 2 * (Int(v) + 3) - 3)))
        #expect(runMean(x, shape: [1, h, w, 2], inScale: 0.02, inZP: -3, outScale: 0.01, outZP: -3) == [doubled, doubled])
      }
    }
  }

  @Test func preparedMultiplierFoldsTheElementCount() {
    // n = 1: the plain input/output multiplier.
    let one = prepareMean(inputScale: 0.5, inputZeroPoint: 4, outputScale: 0.25, outputZeroPoint: 0, count: 1)
    let q = quantizeMultiplier(2.0)
    #expect(one.multiplier == q.multiplier && one.shift == q.shift && one.inputZeroPointTimesCount == 4)
    // Equal scales, n = 4: 2^30 with shift 1 becomes 2^30 with shift −1.
    let four = prepareMean(inputScale: 0.3, inputZeroPoint: -2, outputScale: 0.3, outputZeroPoint: 0, count: 4)
    #expect(four.multiplier == 1 << 30 && four.shift == -1 && four.inputZeroPointTimesCount == -8)
    // Tiny ratio: the extra shift is clamped to 31 + s, TFLM's precondition.
    var rng = SplitMix64(seed: 5)
    for _ in 0..<2000 {
      let inScale = Float(rng.logBetween(1e-5, 1))
      let outScale = Float(Double(inScale) / rng.logBetween(0x1p-31, 0x1p20))
      let n = rng.bool() ? rng.int(1...5000) : rng.int(1...Int(Int32.max))
      let p = prepareMean(inputScale: inScale, inputZeroPoint: 0, outputScale: outScale, outputZeroPoint: 0, count: n)
      let (m, s) = oracleMeanRequant(inScale: inScale, outScale: outScale, n: n)
      #expect(Int64(p.multiplier) == m && Int(p.shift) == s, "n \(n), scales \(inScale) → \(outScale)")
      #expect(p.shift >= -31)
    }
  }

  @Test func fullWidthDivisionMatchesUInt64() {
    var rng = SplitMix64(seed: 11)
    for _ in 0..<20000 {
      let d = UInt32(rng.int(1...Int(Int32.max)))
      let hi = UInt32(rng.next() % UInt64(d))
      let lo = UInt32(truncatingIfNeeded: rng.next())
      let want = ((UInt64(hi) << 32) | UInt64(lo)) / UInt64(d)
      #expect(UInt64(divideFullWidth(high: hi, low: lo, by: d)) == want)
    }
    #expect(divideFullWidth(high: 5, low: 0, by: 5) == 0)           // out of domain: 0, no trap
    #expect(divideFullWidth(high: 0, low: 9, by: 0) == 0)
    #expect(divideFullWidth(high: 0, low: 0xFFFF_FFFF, by: 0x7FFF_FFFF) == 2)
  }
}

// MARK: - PAD kernel

@Suite struct PadKernelTests {
  @Test func matchesPlainPadding() {
    var rng = SplitMix64(seed: 0x5041_44)
    for trial in 0..<300 {
      let shape = [rng.int(1...3), rng.int(1...9), rng.int(1...9), rng.int(1...5)]
      let (t, l, b, r) = (rng.int(0...4), rng.int(0...4), rng.int(0...4), rng.int(0...4))
      let value = rng.int8()
      let x = (0..<shape.reduce(1, *)).map { _ in rng.int8() }
      let want = oraclePad(x, shape: shape, top: t, left: l, bottom: b, right: r, value: value)
      // Two different sentinels: every output byte is written.
      #expect(runPad(x, shape: shape, top: t, left: l, bottom: b, right: r, value: value, sentinel: 0x55) == want,
              "trial \(trial)")
      #expect(runPad(x, shape: shape, top: t, left: l, bottom: b, right: r, value: value, sentinel: -0x56) == want,
              "trial \(trial)")
    }
  }

  @Test func zeroPadsCopyTheInput() {
    let x: [Int8] = (0..<24).map { Int8($0 - 12) }
    #expect(runPad(x, shape: [2, 3, 2, 2], top: 0, left: 0, bottom: 0, right: 0, value: 9) == x)
  }

  @Test func inconsistentShapesWriteNothing() {
    let x: [Int8] = [1, 2, 3, 4]
    var out = [Int8](repeating: 7, count: 16)
    x.withUnsafeBufferPointer { xp in
      out.withUnsafeMutableBufferPointer { op in
        // Output 4x4 but pads give 3x4; and a negative pad.
        padReference(params: PadParams(padTop: 1, padLeft: 1, padBottom: 0, padRight: 1, value: 0),
                     inputShape: Dims4(n: 1, h: 2, w: 2, c: 1), input: xp.baseAddress!,
                     outputShape: Dims4(n: 1, h: 4, w: 4, c: 1), output: op.baseAddress!)
        padReference(params: PadParams(padTop: -1, padLeft: 1, padBottom: 3, padRight: 1, value: 0),
                     inputShape: Dims4(n: 1, h: 2, w: 2, c: 1), input: xp.baseAddress!,
                     outputShape: Dims4(n: 1, h: 4, w: 4, c: 1), output: op.baseAddress!)
      }
    }
    #expect(out == [Int8](repeating: 7, count: 16))
  }
}

// MARK: - End to end (ModelBuilder → C API)

@Suite struct MeanPadModelTests {
  @Test func padThenMeanRunsLikeThePlainFormulas() throws {
    var rng = SplitMix64(seed: 21)
    for trial in 0..<12 {
      let shape = [rng.int(1...2), rng.int(1...9), rng.int(1...9), rng.int(1...5)]
      let (t, l, b, r) = (rng.int(0...3), rng.int(0...3), rng.int(0...3), rng.int(0...3))
      let inScale = Float(rng.logBetween(1e-3, 0.2)), inZP = Int32(rng.int(-128...127))
      let outScale = trial % 3 == 0 ? inScale : Float(rng.logBetween(1e-3, 0.2))
      let outZP = trial % 3 == 0 ? inZP : Int32(rng.int(-128...127))
      let keepDims = trial % 2 == 0
      let value: Int8? = trial % 4 == 1 ? rng.int8() : nil

      var bld = ModelBuilder()
      let x = try bld.addActivation(shape: shape, scale: inScale, zeroPoint: inZP, name: "x")
      let p = try bld.pad(x, top: t, left: l, bottom: b, right: r, value: value, name: "padded")
      let m = try bld.mean(p, keepDims: keepDims, outputScale: outScale, outputZeroPoint: outZP, name: "mean")
      try bld.markInput(x)
      try bld.markOutput(m)
      try bld.markOutput(p)
      let model = try RuntimeModel(bytes: try bld.serialize())

      #expect(model.ops.map(\.typeName) == ["Pad", "Mean"])
      let paddedShape = [shape[0], shape[1] + t + b, shape[2] + l + r, shape[3]]
      #expect(model.ops[0].outputShape == paddedShape)
      #expect(model.ops[1].outputShape == (keepDims ? [shape[0], 1, 1, shape[3]] : [shape[0], shape[3]]))

      let input = (0..<shape.reduce(1, *)).map { _ in rng.int8() }
      let padded = oraclePad(input, shape: shape, top: t, left: l, bottom: b, right: r,
                             value: value ?? Int8(inZP))
      #expect(try model.run(input: input, output: 1) == padded, "trial \(trial)")
      #expect(try model.run(input: input, output: 0) ==
              oracleMean(padded, shape: paddedShape, inScale: inScale, inZP: inZP, outScale: outScale, outZP: outZP),
              "trial \(trial)")
    }
  }

  @Test func builderWritesTheDocumentedRecords() throws {
    var bld = ModelBuilder()
    let x = try bld.addActivation(shape: [1, 4, 4, 3], scale: 0.1, zeroPoint: -2)
    let p = try bld.pad(x, top: 1, left: 2, bottom: 3, right: 4)
    let q = try bld.pad(x, top: 0, left: 1, bottom: 0, right: 0, value: -7)
    let m = try bld.mean(p, outputScale: 0.05, outputZeroPoint: 1)
    #expect(try bld.tensor(p).shape == [1, 8, 10, 3] && bld.tensor(p).zeroPoint == -2)
    #expect(try bld.tensor(m).shape == [1, 1, 1, 3])
    let rp = bld.ops[0].record, rq = bld.ops[1].record, rm = bld.ops[2].record
    #expect(rp.opCode == 12 && rp.padding == PaddingKind.explicit.rawValue && rp.extra == 0)
    #expect(rp.padTop == 1 && rp.padLeft == 2 && rp.padBottom == 3 && rp.padRight == 4)
    #expect(rq.extra == OpRecord.padConstantFlag | 0xF9)
    #expect(rm.opCode == 11 && rm.extra == 0 && rm.activation == 0)
    _ = q
  }

  @Test func builderRefusesWhatTheLoaderRefuses() throws {
    var bld = ModelBuilder()
    let x = try bld.addActivation(shape: [1, 4, 4, 3], scale: 0.1, zeroPoint: -2)
    let flat = try bld.addActivation(shape: [4, 3], scale: 0.1, zeroPoint: -2)
    func kind(_ body: () throws -> Void) -> String {
      do { try body(); return "ok" } catch let e as ModelBuilderError {
        return String(describing: e).components(separatedBy: ":").first ?? ""
      } catch { return "other" }
    }
    #expect(kind { _ = try bld.pad(x, top: -1, left: 0, bottom: 0, right: 0) } == "invalid op")
    #expect(kind { _ = try bld.pad(x, top: 70000, left: 0, bottom: 0, right: 0) } == "invalid op")
    #expect(kind { _ = try bld.pad(flat, top: 1, left: 0, bottom: 0, right: 0) } == "invalid shape")
    #expect(kind { _ = try bld.mean(flat, outputScale: 0.1, outputZeroPoint: 0) } == "invalid shape")
    #expect(kind { _ = try bld.mean(x, outputScale: 1e-15, outputZeroPoint: 0) } == "invalid quantization")
    #expect(kind { _ = try bld.mean(x, outputScale: 1e-11, outputZeroPoint: 0) } == "ok")  // 2^33.2 / 2^4: shift 30
    // Low level: wrong output shapes / quantization / options.
    let wrongMean = try bld.addActivation(shape: [1, 1, 3], scale: 0.1, zeroPoint: 0)
    #expect(kind { try bld.addOp(.mean, inputs: [x], output: wrongMean) } == "shape mismatch")
    let meanNC = try bld.addActivation(shape: [1, 3], scale: 0.3, zeroPoint: 5)
    #expect(kind { try bld.addOp(.mean, inputs: [x], output: meanNC, options: OpOptions(activation: .relu)) } == "invalid op")
    #expect(kind { try bld.addOp(.mean, inputs: [x], output: meanNC) } == "ok")
    let padOut = try bld.addActivation(shape: [1, 6, 6, 3], scale: 0.1, zeroPoint: 0)
    let pads = OpOptions(padding: .explicit(top: 1, left: 1, bottom: 1, right: 1))
    #expect(kind { try bld.addOp(.pad, inputs: [x], output: padOut, options: pads) } == "invalid quantization")
    #expect(kind { try bld.addOp(.pad, inputs: [x], output: padOut, options: OpOptions()) } == "invalid op")
    #expect(kind { try bld.addOp(.logistic, inputs: [x], output: padOut, options: OpOptions(padValue: 3)) } == "invalid op")
  }
}

// MARK: - Loader rejections

/// Serialized x [1,4,4,3] → pad(1,1,1,1) → p [1,6,6,3] → mean → m [1,1,1,3]:
/// tensors 0 x, 1 p, 2 m; ops 0 pad, 1 mean.
private func padMeanModel() throws -> [UInt8] {
  var b = ModelBuilder()
  let x = try b.addActivation(shape: [1, 4, 4, 3], scale: 0.05, zeroPoint: -4, name: "x")
  let p = try b.pad(x, top: 1, left: 1, bottom: 1, right: 1, name: "p")
  let m = try b.mean(p, outputScale: 0.04, outputZeroPoint: 2, name: "m")
  try b.markInput(x)
  try b.markOutput(m)
  return try b.serialize()
}




private let badOp = CNNStatus.badOp
private let shapeMismatch = CNNStatus.shapeMismatch


@Suite struct MeanPadLoaderTests {
  @Test func validModelLoads() throws {
    #expect(loadFailure(try padMeanModel()) == nil)
  }

  /// MEAN over other axes (GlobalAveragePooling1D's axis 1 of [N, T, C], the
  /// last axis, every axis of a rank-2 tensor) runs the H × W arithmetic on
  /// the [outer, reduced, inner] view: checked against the independent
  /// oracle on the same bytes laid out as [outer, reduced, 1, inner].
  @Test(arguments: [([2, 7, 5], [1], false), ([1, 6, 4], [1], true), ([3, 10], [1], false),
                    ([2, 3, 4, 5], [2, 3], true), ([4, 9], [0, 1], false), ([2, 3, 4, 5], [0, 1, 2], false)])
  func meanOverAnyAdjacentAxes(shape: [Int], axes: [Int], keepDims: Bool) throws {
    let outer = shape[..<axes.first!].reduce(1, *), reduced = axes.map { shape[$0] }.reduce(1, *)
    let inner = shape[(axes.last! + 1)...].reduce(1, *)
    var b = ModelBuilder()
    let x = try b.addActivation(shape: shape, scale: 0.07, zeroPoint: 5, name: "x")
    let m = try b.mean(x, axes: axes, keepDims: keepDims, outputScale: 0.03, outputZeroPoint: -9, name: "m")
    try b.markInput(x)
    try b.markOutput(m)
    let model = try RuntimeModel(bytes: try b.serialize())
    let input = lcgInputs(shape.reduce(1, *), seed: UInt64(shape.reduce(7, *)), zeroPoint: 5, spread: nil)
    let got = try model.run(inputs: [input])[0]
    let want = oracleMean(input, shape: [outer, reduced, 1, inner], inScale: 0.07, inZP: 5, outScale: 0.03, outZP: -9)
    #expect(got == want)
    var outShape = keepDims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
      : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    if outShape.isEmpty { outShape = [1] }  // every axis reduced: stored as [1]
    #expect(b.tensors[m.index].shape == outShape)
  }

  @Test func badMeanRecordsAreRejected() throws {
    let good = try padMeanModel()
    expectLoadFailure(op: 1, editOp(good, 1) { $0.activation = FusedActivation.relu.rawValue }, badOp, "fused activation")
    expectLoadFailure(op: 1, editOp(good, 1) { $0.extra = 1 }, badOp, "extra")
    expectLoadFailure(op: 1, editTensor(good, 2) { $0.dims = (1, 2, 1, 3, 0) }, shapeMismatch, "reduced axes set to 1 or removed")
    expectLoadFailure(op: 1, editTensor(good, 2) { $0.dims = (1, 1, 1, 2, 0) }, shapeMismatch, "reduced axes set to 1 or removed")
    expectLoadFailure(op: 1, editTensor(good, 2) { $0.rank = 3; $0.dims = (1, 1, 3, 0, 0) }, shapeMismatch, "reduced axes set to 1 or removed")
    expectLoadFailure(op: 1, editTensor(good, 2) { $0.rank = 2; $0.dims = (2, 3, 0, 0, 0) }, shapeMismatch, "reduced axes set to 1 or removed")
    // Axis masks: the flag without axes, an axis past the rank (bit 4, axis 4, is valid only
    // for rank 5), unknown bits; non-adjacent axes are valid and must match the output.
    let flag = OpRecord.meanAxesFlag
    expectLoadFailure(op: 1, editOp(good, 1) { $0.extra = flag }, badOp, "axis mask is empty")
    expectLoadFailure(op: 1, editOp(good, 1) { $0.extra = flag | 0b1_0000 }, badOp, "past the input's rank")
    expectLoadFailure(op: 1, editOp(good, 1) { $0.extra = flag | 0b10_0110 }, badOp, "extra")
    expectLoadFailure(op: 1, editOp(good, 1) { $0.extra = flag | 0b1010 }, shapeMismatch, "reduced axes")
    expectLoadFailure(op: 1, editOp(good, 1) { $0.extra = flag | 0b0101 }, shapeMismatch, "reduced axes")
    // A valid mask that does not match the output: axes [2, 3] give [1, 6, 1, 1], not [1, 1, 1, 3].
    expectLoadFailure(op: 1, editOp(good, 1) { $0.extra = flag | 0b1100 }, shapeMismatch, "reduced axes")
    // The explicit mask of axes [1, 2] is the same op as extra 0.
    #expect(loadFailure(editOp(good, 1) { $0.extra = flag | 0b0110 }) == nil)
    // Output scale so small that the rescale shift exceeds 31: 0.05 / 1e-15 ≈ 2^45.5, n = 36 → s' = 46 − 5.
    func withOutputScale(_ scale: Float) -> [UInt8] {
      patched(good) { base, h in
        let r = TensorRecord.read(from: base + Int(h.tensorTableOffset) + 2 * ModelFormat.tensorRecordSize)
        base.storeBytes(of: scale.bitPattern.littleEndian, toByteOffset: Int(r.scalesOffset), as: UInt32.self)
      }
    }
    expectLoadFailure(op: 1, withOutputScale(1e-15), badOp, "too large")
    #expect(loadFailure(withOutputScale(1e-12)) == nil)  // 2^35.5 / 2^5: shift 31, still accepted
    // A rank-2 input: x → reshape [16, 3] → logistic, the logistic record turned into a mean.
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4, 4, 3], scale: 0.05, zeroPoint: -4)
    let l = try b.logistic(try b.reshape(x, to: [16, 3]))
    try b.markInput(x)
    try b.markOutput(l)
    expectLoadFailure(op: 1, editOp(try b.serialize(), 1) { $0.opCode = OpCode.mean.rawValue }, shapeMismatch, "rank 4")
    // keep_dims false is fine.
    #expect(loadFailure(editTensor(good, 2) { $0.rank = 2; $0.dims = (1, 3, 0, 0, 0) }) == nil)
  }

  @Test func badPadRecordsAreRejected() throws {
    let good = try padMeanModel()
    expectLoadFailure(op: 0, editOp(good, 0) { $0.padTop = -1; $0.padBottom = 3 }, badOp, "pads must be 0 to 65536")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.padTop = Int32.max; $0.padBottom = Int32.min }, badOp, "pads must be 0 to 65536")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.padTop = 2 }, shapeMismatch, "input + pads")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.padding = PaddingKind.valid.rawValue }, badOp, "explicit")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.activation = FusedActivation.relu6.rawValue }, badOp, "fused activation")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.extra = 0x7F }, badOp, "extra")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.extra = 0x300 }, badOp, "extra")
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.zeroPoint = 0 }, badOp, "quantization must be equal")
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.dims = (1, 6, 6, 4, 0) }, shapeMismatch, "input + pads")
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.dims = (2, 6, 6, 3, 0) }, shapeMismatch, "keeps the batch")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.filterH = -1 }, badOp, "channel pads")
    // Channel pads that the output accounts for pass the pad checks (the next op, a mean, then sees 4 channels
    // where its output has 3, and is the one refused).
    let channelPadded = loadFailure(editTensor(editOp(good, 0) { $0.filterH = 1 }, 1) { $0.dims = (1, 6, 6, 4, 0) })
    #expect(channelPadded?.message.contains("op 1:") == true, "\(String(describing: channelPadded))")
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.rank = 3; $0.dims = (6, 6, 3, 0, 0) }, shapeMismatch, "rank 4")
    // A PADV2 fill value is accepted and used.
    let v2 = editOp(good, 0) { $0.extra = OpRecord.padConstantFlag | 0x80 }
    #expect(loadFailure(v2) == nil)
  }

  @Test func opCodesPastPadAreUnknown() throws {
    // (13... are taken by later op families; 999 is no op.)
    let e = loadFailure(editOp(try padMeanModel(), 1) { $0.opCode = 999 })
    #expect(e?.status == badOp && e?.message.contains("unknown op code") == true)
  }
}
