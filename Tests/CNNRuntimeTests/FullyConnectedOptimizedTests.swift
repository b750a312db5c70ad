// The optimised FullyConnected kernels (AVX2; also used on the AVX-512 path)
// against fullyConnectedReference, byte for byte, on seeded random shapes
// (depths around the 16-element step, unit counts around the 8-unit block)
// and parameters (per-channel multipliers/shifts, extreme offsets and
// inputs, with and without bias, clamps).

import Testing
@testable import CNNRuntime
import CNNTools

@Suite("Optimised kernels: fully connected")
struct FullyConnectedOptimizedTests {
  @Test("AVX2 fully connected equals fullyConnectedReference on random cases")
  func randomCases() {
    guard !optimisedPathsOnThisCPU().isEmpty else { return }
    var rng = SplitMix64(seed: 0xFC2)
    let depths = [1, 2, 15, 16, 17, 31, 32, 33, 64, 100, 250, 256]
    let unitCounts = [1, 2, 7, 8, 9, 15, 16, 17, 33]
    var taken = 0
    let cases = 600
    for c in 0..<cases {
      let depth = c < depths.count ? depths[c] : (rng.bool() ? depths[rng.int(0...depths.count - 1)] : rng.int(1...300))
      let units = c < unitCounts.count ? unitCounts[c] : (rng.bool() ? unitCounts[rng.int(0...unitCounts.count - 1)] : rng.int(1...40))
      let batches = rng.int(1...3)
      let extreme = c % 3 == 0
      func i8(_ n: Int) -> [Int8] {
        (0..<n).map { _ in extreme && rng.bool() ? (rng.bool() ? -128 : 127) : Int8(truncatingIfNeeded: rng.int(-128...127)) }
      }
      let input = i8(batches * depth), filter = i8(units * depth)
      let bias: [Int32]? = rng.int(0...3) == 0 ? nil : (0..<units).map { _ in
        rng.int(0...5) == 0 ? rng.int32() : Int32(rng.int(-100_000...100_000))
      }
      let mult: [Int32] = (0..<units).map { _ in
        switch rng.int(0...5) {
        case 0: return Int32.min
        case 1: return Int32.max
        case 2: return rng.int32()
        default: return Int32(rng.int(1 << 30...(1 << 31) - 1))
        }
      }
      let shift: [Int32] = (0..<units).map { _ in Int32(rng.bool() ? rng.int(-31...31) : rng.int(-14...(-5))) }
      func off() -> Int32 { extreme ? [-127, 128, 0, 1][rng.int(0...3)] : Int32(rng.int(-127...128)) }
      var lo = Int32(-128), hi = Int32(127)
      if rng.bool() { lo = Int32(rng.int(-128...127)); hi = Int32(rng.int(Int(lo)...127)) }
      let params = FullyConnectedParams(inputOffset: off(), filterOffset: rng.bool() ? 0 : off(),
                                        outputOffset: Int32(rng.int(-128...127)), activationMin: lo, activationMax: hi)
      let n = batches * units
      let hasBias = bias != nil
      let biasValues = bias ?? [0]
      mult.withUnsafeBufferPointer { mp in
        shift.withUnsafeBufferPointer { sp in
          biasValues.withUnsafeBufferPointer { bp in
            let rq = ChannelRequant(multiplier: mp.baseAddress!, shift: sp.baseAddress!)
            let biasPtr = hasBias ? bp.baseAddress : nil
            var want = [Int8](repeating: 0, count: n)
            fullyConnectedReference(params: params, requant: rq, batches: batches, depth: depth, units: units,
                                    input: input, filter: filter, bias: biasPtr, output: &want)
            for isa in optimisedPathsOnThisCPU() {
              var got = [Int8](repeating: 0x5A, count: n + 40)
              let ok = got.withUnsafeMutableBufferPointer { o in
                fullyConnectedOptimized(isa: isa, params: params, requant: rq, batches: batches, depth: depth,
                                        units: units, input: input, filter: filter, bias: biasPtr,
                                        output: o.baseAddress!)
              }
              #expect(ok, "case \(c): refused")
              guard ok else { continue }
              taken += 1
              #expect(Array(got[..<n]) == want,
                      "case \(c) ISA \(isa): batches \(batches) depth \(depth) units \(units) params \(params)")
              #expect(got[n...].allSatisfy { $0 == 0x5A }, "case \(c): wrote past the output")
            }
          }
        }
      }
    }
    #expect(taken >= cases)
  }
}
