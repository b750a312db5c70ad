// SplitMix64 (Steele, Lea, Flood 2014): the reproducible random source of
// the tools/simd checks (AVX512EmulationCheck.swift, AVX512KernelDiff.swift).
struct SplitMix64 {
  var s: UInt64
  mutating func next() -> UInt64 {
    s &+= 0x9E37_79B9_7F4A_7C15
    var z = s
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
