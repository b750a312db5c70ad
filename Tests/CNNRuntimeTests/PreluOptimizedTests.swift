// The PReLU kernel of every optimised path this CPU runs against
// preluReference, byte for byte, on seeded random shapes, alpha broadcasts
// and quantizations, and the alpha period the loader derives.
import Testing
@testable import CNNRuntime
import CNNTools
import Foundation

@Suite struct PreluOptimizedTests {
  @Test func alphaPeriods() {
    let out = Dims4(n: 2, h: 5, w: 7, c: 16)
    #expect(preluAlphaPeriod(Dims4(n: 1, h: 1, w: 1, c: 1), out) == 1)
    #expect(preluAlphaPeriod(Dims4(n: 1, h: 1, w: 1, c: 16), out) == 16)
    #expect(preluAlphaPeriod(Dims4(n: 1, h: 1, w: 7, c: 16), out) == 7 * 16)
    #expect(preluAlphaPeriod(Dims4(n: 1, h: 5, w: 7, c: 16), out) == 5 * 7 * 16)
    #expect(preluAlphaPeriod(Dims4(n: 2, h: 5, w: 7, c: 16), out) == 2 * 5 * 7 * 16)
    // Not periodic along the flat tensor: the reference runs them.
    #expect(preluAlphaPeriod(Dims4(n: 1, h: 5, w: 1, c: 1), out) == nil)
    #expect(preluAlphaPeriod(Dims4(n: 1, h: 1, w: 7, c: 1), out) == nil)
    #expect(preluAlphaPeriod(Dims4(n: 1, h: 5, w: 1, c: 16), out) == nil)
    #expect(preluRunCount(period: 16) == 512 && preluRunCount(period: 17) == 527 && preluRunCount(period: 511) == 511 * 2)
  }

  /// Shapes whose element count is and is not a multiple of the 32-element
  /// step and of the run; alpha as a scalar, per channel, per column and
  /// channel, per pixel and channel; zero points at their ends; multipliers
  /// of scale ratios from 1/1000 to 30 (left shifts included), and some
  /// outside the folded requantization's domain.
  @Test func kernelEqualsTheReference() {
    let paths = optimisedPathsOnThisCPU()
    if paths.isEmpty { print("PreluOptimizedTests: no optimised path on this CPU; nothing to compare"); return }
    var rng = SplitMix64(seed: 0x9E1A)
    let channels = [1, 3, 8, 16, 17, 32, 64, 100, 600]
    var failures = 0
    for index in 0..<240 where failures < 5 {
      let shape = Dims4(n: rng.int(1...2), h: rng.int(1...9), w: rng.int(1...13), c: channels[rng.int(0...channels.count - 1)])
      let alphaShape: Dims4
      switch index % 4 {
      case 0: alphaShape = Dims4(n: 1, h: 1, w: 1, c: 1)
      case 1: alphaShape = Dims4(n: 1, h: 1, w: 1, c: shape.c)
      case 2: alphaShape = Dims4(n: 1, h: 1, w: shape.w, c: shape.c)
      default: alphaShape = Dims4(n: 1, h: shape.h, w: shape.w, c: shape.c)
      }
      let extreme = index % 5 == 0
      func zp() -> Int32 { extreme ? (rng.bool() ? -128 : 127) : Int32(rng.int(-128...127)) }
      func ratio() -> Double { exp(rng.unit() * log(30_000.0)) / 1000 }
      // Every sixth case outside the folded requantization's domain (a left
      // shift that takes 255 past 2^30, or a right shift past 30): the uniform form.
      let unfolded = index % 6 == 5
      let (m1, s1) = quantizeMultiplier(unfolded && rng.bool() ? Double(1 << rng.int(22...28)) * (1 + rng.unit()) : ratio())
      let (m2, s2) = quantizeMultiplier(unfolded ? 2.4e-10 * (1 + 0.9 * rng.unit()) : ratio() * 0.01)  // shift -31
      let params = PreluParams(inputZeroPoint: zp(), alphaZeroPoint: zp(), outputZeroPoint: zp(),
                               identityMultiplier: m1, identityShift: s1, alphaMultiplier: m2, alphaShift: s2)
      if unfolded { #expect(s2 == -31 && m2 > 0, "alpha multiplier \(m2) shift \(s2)") }
      let input = (0..<shape.count).map { _ in Int8(truncatingIfNeeded: rng.int(-128...127)) }
      let alpha = (0..<alphaShape.count).map { _ in Int8(truncatingIfNeeded: rng.int(-128...127)) }
      var want = [Int8](repeating: 0, count: shape.count)
      preluReference(params: params, shape: shape, input: input, alphaShape: alphaShape, alpha: alpha, output: &want)
      guard let period = preluAlphaPeriod(alphaShape, shape) else {
        Issue.record("no period for alpha \(alphaShape) over \(shape)"); continue
      }
      let runCount = period >= preluShortPeriod ? period : preluRunCount(period: period)
      var run = [Int8](repeating: 0, count: runCount)
      alpha.withUnsafeBufferPointer { a in
        run.withUnsafeMutableBufferPointer { preluFillRun($0.baseAddress!, runCount: runCount, alpha: a.baseAddress!, period: period) }
      }
      for isa in paths {
        var got = [Int8](repeating: 0x5A, count: shape.count + 32)
        let ran = preluOptimized(isa: isa, params: params, count: shape.count, input: input, run: run,
                                 runCount: runCount, output: &got)
        #expect(ran, "\(KernelISA.name(isa)) has no PReLU kernel")
        #expect(got[shape.count...].allSatisfy { $0 == 0x5A }, "\(KernelISA.name(isa)) wrote past the output")
        let differing = (0..<want.count).filter { got[$0] != want[$0] }
        if let first = differing.first {
          failures += 1
          Issue.record("\(KernelISA.name(isa)), \(shape) alpha \(alphaShape) \(params): \(differing.count) of \(want.count) bytes differ, first at \(first): \(got[first]) vs reference \(want[first])")
        }
      }
    }
  }
}
