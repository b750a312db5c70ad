// Shared test utilities: SplitMix64 (from CNNTools) plus the draws the tests use.
import CNNTools

extension SplitMix64 {
  mutating func int32() -> Int32 { Int32(truncatingIfNeeded: next()) }
  mutating func int(in range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
  }
  mutating func int(_ range: ClosedRange<Int>) -> Int { int(in: range) }
  mutating func unit() -> Double { Double(next() >> 11) / 9_007_199_254_740_992.0 }
  mutating func bool() -> Bool { next() & 1 == 1 }
}
