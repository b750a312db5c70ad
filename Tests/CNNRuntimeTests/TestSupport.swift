// Shared test utilities.

/// SplitMix64: small, fast, seedable; good enough to spread test inputs.
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func int32() -> Int32 { Int32(truncatingIfNeeded: next()) }
  mutating func int(in range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
  }
  mutating func int(_ range: ClosedRange<Int>) -> Int { int(in: range) }
  mutating func unit() -> Double { Double(next() >> 11) / 9_007_199_254_740_992.0 }
  mutating func bool() -> Bool { next() & 1 == 1 }
}
