// The bootstrap interval `cnnrt eval` gives each layer's SQNR (SQNRSamples).
import Foundation
import Testing

@testable import CNNTools

/// `n` samples whose per-sample SQNR scatters around 30 dB.
private func scattered(_ n: Int, seed: UInt64) -> SQNRSamples {
  var rng = SplitMix64(seed: seed)
  var out = SQNRSamples()
  for _ in 0..<n {
    let s = 1 + Double(rng.next() % 1000) / 1000
    let e = s * 1e-3 * (0.2 + 1.6 * Double(rng.next() % 1000) / 1000)
    out.append(signal: s, noise: e)
  }
  return out
}

@Suite struct SQNRIntervalTests {
  @Test func theIntervalHoldsThePointEstimateAndNarrowsWithMoreSamples() {
    let few = scattered(20, seed: 1), many = scattered(500, seed: 1)
    for x in [few, many] {
      let (lo, hi) = x.interval()
      #expect(lo <= x.sqnr && x.sqnr <= hi && lo < hi, "\(lo) \(x.sqnr) \(hi)")
      #expect(abs(x.sqnr - 30) < 1.5)
    }
    let wFew = few.interval().hi - few.interval().lo, wMany = many.interval().hi - many.interval().lo
    // The width falls roughly as 1/√n: √(500/20) = 5.
    #expect(wMany < wFew / 3, "width 20 samples \(wFew) dB, 500 samples \(wMany) dB")
    // A wider level gives a wider interval; the same seed the same interval.
    #expect(many.interval(level: 0.99).lo <= many.interval().lo && many.interval(level: 0.99).hi >= many.interval().hi)
    #expect(many.interval() == many.interval())
  }

  @Test func degenerateCases() {
    var one = SQNRSamples()
    one.append(signal: 4, noise: 0.004)
    #expect(abs(one.interval().lo - 30) < 1e-9 && one.interval().lo == one.interval().hi)
    var same = SQNRSamples()
    for _ in 0..<10 { same.append(signal: 1, noise: 0.01) }
    #expect(abs(same.interval().lo - 20) < 1e-9 && abs(same.interval().hi - 20) < 1e-9)
    var exact = SQNRSamples()
    for _ in 0..<5 { exact.append(signal: 1, noise: 0) }
    #expect(exact.sqnr == .infinity && exact.interval().lo == .infinity)
  }
}
