// How much an SQNR figure depends on the particular evaluation samples: a
// percentile bootstrap over samples (`cnnrt eval`'s per-layer 95 % interval).
// Each resample draws as many samples as there are, with replacement, and
// takes 10·log10(Σ signal / Σ noise) over them; the interval is the 2.5th and
// 97.5th percentiles of those values. Seeded: the same sums give the same
// interval on every machine.

import Foundation

/// Signal and noise energy of one tensor, per evaluation sample.
public struct SQNRSamples: Sendable {
  public var signal: [Double] = []
  public var noise: [Double] = []

  public init() {}

  public mutating func append(signal s: Double, noise e: Double) { signal.append(s); noise.append(e) }

  /// 10·log10(Σ signal / Σ noise): +∞ when exact, −∞ when the signal is 0 and the noise is not.
  public var sqnr: Double { Self.sqnr(signal.reduce(0, +), noise.reduce(0, +)) }

  static func sqnr(_ s: Double, _ e: Double) -> Double {
    e == 0 ? .infinity : (s == 0 ? -.infinity : 10 * log10(s / e))
  }

  /// The percentile bootstrap interval of `sqnr` at `level` (0.95: the 2.5th
  /// and 97.5th percentiles) over `resamples` resamples of the samples.
  public func interval(level: Double = 0.95, resamples: Int = 1000, seed: UInt64 = 1) -> (lo: Double, hi: Double) {
    let n = signal.count
    guard n > 1, resamples > 0 else { return (sqnr, sqnr) }
    var rng = SplitMix64(seed: seed)
    var values = [Double](repeating: 0, count: resamples)
    for b in 0..<resamples {
      var s = 0.0, e = 0.0
      for _ in 0..<n {
        let k = Int(rng.next() % UInt64(n))
        s += signal[k]; e += noise[k]
      }
      values[b] = Self.sqnr(s, e)
    }
    values.sort()
    let tail = (1 - level) / 2
    func at(_ q: Double) -> Double { values[Swift.min(resamples - 1, Swift.max(0, Int((q * Double(resamples)).rounded(.down))))] }
    return (at(tail), at(1 - tail))
  }
}
