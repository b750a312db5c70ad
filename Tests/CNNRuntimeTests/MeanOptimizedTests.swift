// The optimised Mean kernel (AVX2; also on the AVX-512 path) against
// meanReference, byte for byte, on seeded random [outer, reduced, inner]
// views: channel counts around the 32-lane step (tails of 1...31), reduced
// counts across the kernel's 256-row int16 blocks, parameters from
// prepareMean (as at model load) and raw ones with every shift in -31...31,
// extreme inputs (all -128 or 127: the int16 block sums at their limits).

import Foundation
import Testing
@testable import CNNRuntime
import CNNTools

private func logUniform(_ rng: inout SplitMix64, _ lo: Double, _ hi: Double) -> Double {
  exp(log(lo) + (log(hi) - log(lo)) * rng.unit())
}

@Suite("Optimised kernels: mean")
struct MeanOptimizedTests {
  private func check(_ p: MeanParams, outer: Int, reduced: Int, inner: Int, _ x: [Int8], _ label: String) -> Bool {
    var want = [Int8](repeating: 0, count: outer * inner)
    meanReference(params: p, outer: outer, reduced: reduced, inner: inner, input: x, output: &want)
    var taken = false
    for isa in optimisedPathsOnThisCPU() {
      var got = [Int8](repeating: 0x5A, count: outer * inner + 40)
      let ok = meanOptimized(isa: isa, params: p, outer: outer, reduced: reduced, inner: inner, input: x, output: &got)
      guard ok else { continue }
      taken = true
      #expect(Array(got[..<(outer * inner)]) == want, "\(label) ISA \(isa) params \(p)")
      #expect(got[(outer * inner)...].allSatisfy { $0 == 0x5A }, "\(label) ISA \(isa): wrote past the output")
    }
    return taken
  }

  private func inputs(_ rng: inout SplitMix64, _ n: Int, zp: Int32) -> [Int8] {
    switch rng.int(0...4) {
    case 0: return [Int8](repeating: -128, count: n)
    case 1: return [Int8](repeating: 127, count: n)
    case 2: return (0..<n).map { _ in rng.bool() ? -128 : 127 }
    case 3: return (0..<n).map { _ in Int8(max(-128, min(127, Int(zp) + rng.int(-2...2)))) }
    default: return rng.int8s(n)
    }
  }

  @Test("AVX2 mean equals meanReference on random shapes and prepareMean parameters")
  func randomPrepared() {
    guard !optimisedPathsOnThisCPU().isEmpty else { return }
    var rng = SplitMix64(seed: 0x3EA2)
    let inners = [1, 2, 7, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 256, 1280]
    let reduceds = [1, 2, 3, 7, 16, 49, 64, 255, 256, 257, 300, 512, 513, 1000]
    var taken = 0
    for c in 0..<600 {
      let inner = inners[rng.int(0...inners.count - 1)]
      let reduced = reduceds[rng.int(0...reduceds.count - 1)]
      let outer = inner * reduced > 100_000 ? 1 : rng.int(1...3)
      let inScale = Float(logUniform(&rng, 1e-4, 1))
      let inZP = Int32(rng.int(-128...127))
      let outScale = rng.bool() ? inScale : Float(Double(inScale) / logUniform(&rng, 0.05, 20))
      let outZP = Int32(rng.int(-128...127))
      let p = prepareMean(inputScale: inScale, inputZeroPoint: inZP, outputScale: outScale, outputZeroPoint: outZP,
                          count: reduced)
      let x = inputs(&rng, outer * reduced * inner, zp: inZP)
      if check(p, outer: outer, reduced: reduced, inner: inner, x, "case \(c) [\(outer), \(reduced), \(inner)]") {
        taken += 1
      }
    }
    #expect(taken == 600, "optimised path took \(taken) of 600")
  }

  @Test("AVX2 mean equals meanReference on raw multipliers and every shift")
  func randomRaw() {
    guard !optimisedPathsOnThisCPU().isEmpty else { return }
    var rng = SplitMix64(seed: 0x3EA3)
    for c in 0..<400 {
      let inner = rng.int(1...70), reduced = rng.int(1...600), outer = rng.int(1...2)
      let m: Int32 = [Int32.max, 0, 1 << 30, Int32(rng.int(1 << 30...(1 << 31) - 1))][rng.int(0...3)]
      let p = MeanParams(inputZeroPointTimesCount: rng.bool() ? rng.int32() : Int32(rng.int(-128...127) * reduced),
                         outputZeroPoint: Int32(rng.int(-128...127)), multiplier: m, shift: Int32(c % 63 - 31))
      let x = inputs(&rng, outer * reduced * inner, zp: 0)
      #expect(check(p, outer: outer, reduced: reduced, inner: inner, x, "raw case \(c) [\(outer), \(reduced), \(inner)]"))
    }
  }
}
