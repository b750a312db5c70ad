// The optimised same-shape Add kernels (AVX2; also used on the AVX-512 path)
// against addReference, byte for byte, on seeded random parameters: scales
// through prepareAdd (as at model load), and raw parameter blocks with
// extreme multipliers/shifts/offsets (Int32.min * Int32.min saturation,
// wrap-around), lengths around the 32-element step, extreme inputs.

import Foundation
import Testing
@testable import CNNRuntime
import CNNTools

@Suite("Optimised kernels: add")
struct AddOptimizedTests {
  private static let lengths = [0, 1, 7, 8, 31, 32, 33, 63, 64, 65, 95, 97, 255, 1000, 1023]

  private func inputs(_ rng: inout SplitMix64, _ n: Int) -> [Int8] {
    let mode = rng.int(0...3)
    return (0..<n).map { _ in
      switch mode {
      case 0: return Int8(truncatingIfNeeded: rng.int(-128...127))
      case 1: return rng.bool() ? -128 : 127
      case 2: return [Int8(-128), 127, 0, -1, 1][rng.int(0...4)]
      default: return rng.int(0...3) == 0 ? (rng.bool() ? -128 : 127) : Int8(truncatingIfNeeded: rng.int(-128...127))
      }
    }
  }

  /// Runs reference and every optimised path on the same data; returns the
  /// number of paths that took the parameters.
  @discardableResult
  private func check(_ p: AddParams, n: Int, _ rng: inout SplitMix64, _ label: String) -> Int {
    let a = inputs(&rng, n), b = inputs(&rng, n)
    var want = [Int8](repeating: 0, count: n)
    if n > 0 { addReference(params: p, count: n, input1: a, input2: b, output: &want) }
    var taken = 0
    for isa in optimisedPathsOnThisCPU() {
      let guardBytes = 40
      var got = [Int8](repeating: 0x5A, count: n + guardBytes)
      let ok = a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          got.withUnsafeMutableBufferPointer { po in
            addOptimized(isa: isa, params: p, count: n,
                         input1: pa.baseAddress ?? UnsafePointer(bitPattern: 16)!,
                         input2: pb.baseAddress ?? UnsafePointer(bitPattern: 16)!,
                         output: po.baseAddress!)
          }
        }
      }
      guard ok else { continue }
      taken += 1
      #expect(Array(got[..<n]) == want, "\(label) ISA \(isa) n=\(n) params \(p)")
      #expect(got[n...].allSatisfy { $0 == 0x5A }, "\(label) ISA \(isa): wrote past the output")
    }
    return taken
  }

  @Test("AVX2 add equals addReference on random prepareAdd parameters")
  func randomPreparedParams() {
    guard !optimisedPathsOnThisCPU().isEmpty else { return }
    var rng = SplitMix64(seed: 0xADD2)
    var taken = 0
    let cases = 2000
    for c in 0..<cases {
      func scale(_ lo: Double, _ hi: Double) -> Float { Float(pow(10, lo + (hi - lo) * rng.unit())) }
      let wide = c % 10 == 0
      let s1 = wide ? scale(-6, 2) : scale(-3, 0), s2 = wide ? scale(-6, 2) : scale(-3, 0)
      let so = wide ? scale(-8, 2) : scale(-3, 0)
      let extremeZP = c % 4 == 0
      func zp() -> Int32 { extremeZP ? (rng.bool() ? -128 : 127) : Int32(rng.int(-128...127)) }
      let z1 = zp(), z2 = zp(), zo = zp()
      var lo = Int32(-128), hi = Int32(127)
      if rng.bool() {
        lo = Int32(rng.int(-128...127)); hi = Int32(rng.int(Int(lo)...127))
      }
      let p = prepareAdd(input1Scale: s1, input1ZeroPoint: z1, input2Scale: s2, input2ZeroPoint: z2,
                         outputScale: so, outputZeroPoint: zo, activationMin: lo, activationMax: hi)
      let n = c < Self.lengths.count ? Self.lengths[c] : rng.int(0...300)
      if check(p, n: n, &rng, "case \(c) scales \(s1) \(s2) \(so)") > 0 { taken += 1 }
    }
    // Nearly every prepared parameter set is in the kernels' range.
    #expect(taken > cases * 9 / 10, "optimised path took \(taken) of \(cases)")
  }

  @Test("AVX2 add equals addReference on raw extreme parameters")
  func randomRawParams() {
    guard !optimisedPathsOnThisCPU().isEmpty else { return }
    var rng = SplitMix64(seed: 0xADD3)
    func mult() -> Int32 {
      switch rng.int(0...4) {
      case 0: return Int32.min
      case 1: return Int32.max
      case 2: return Int32(rng.int(1 << 30...(1 << 31) - 1))
      default: return rng.int32()
      }
    }
    func offset() -> Int32 {
      switch rng.int(0...3) {
      case 0: return [-128, 127, 128, -127, 0, 1, -1][rng.int(0...6)]
      case 1: return rng.int32()
      default: return Int32(rng.int(-255...255))
      }
    }
    var taken = 0
    for c in 0..<3000 {
      var lo = Int32(-128), hi = Int32(127)
      if rng.bool() { lo = Int32(rng.int(-128...127)); hi = Int32(rng.int(Int(lo)...127)) }
      var p = AddParams(
        input1Offset: offset(), input2Offset: offset(), outputOffset: offset(),
        leftShift: Int32(rng.int(0...31)),
        input1Multiplier: mult(), input1Shift: Int32(rng.int(-31...31)),
        input2Multiplier: mult(), input2Shift: Int32(rng.int(-31...31)),
        outputMultiplier: mult(), outputShift: Int32(rng.int(-31...31)),
        activationMin: lo, activationMax: hi)
      if c % 7 == 0 {
        // (x + offset) << 31 = Int32.min for odd x + offset, times Int32.min:
        // the saturating case of the high multiply.
        p.leftShift = 31; p.input1Multiplier = Int32.min; p.input2Multiplier = Int32.min
        p.input1Offset = Int32(rng.int(-128...127)); p.input2Offset = Int32(rng.int(-128...127))
      }
      let n = c < Self.lengths.count ? Self.lengths[c] : rng.int(0...200)
      taken += check(p, n: n, &rng, "raw case \(c)") > 0 ? 1 : 0
    }
    #expect(taken == 3000)
  }

  @Test("AVX2 broadcast add equals addBroadcastReference on CNN broadcast shapes")
  func randomBroadcast() {
    guard !optimisedPathsOnThisCPU().isEmpty else { return }
    var rng = SplitMix64(seed: 0xADD4)
    // Up to 100 channels, and rows past the 512 terms the AVX2 repeated-row
    // kernel holds at once (chunks of 512) or whose repeat is not a multiple of 32.
    let channels = [1, 2, 3, 5, 7, 8, 13, 16, 22, 31, 32, 33, 63, 64, 65, 100, 255, 513, 600]
    var taken = 0
    let cases = 700
    for c in 0..<cases {
      let n = rng.int(1...2), h = rng.int(1...9), w = rng.int(1...9), C = channels[rng.int(0...channels.count - 1)]
      let full = Dims4(n: n, h: h, w: w, c: C)
      // Per-channel vector, scalar, per-pixel factor, and other partial broadcasts.
      let kinds = [Dims4(n: 1, h: 1, w: 1, c: C), Dims4(n: 1, h: 1, w: 1, c: 1), Dims4(n: 1, h: h, w: w, c: 1),
                   Dims4(n: n, h: h, w: w, c: 1), Dims4(n: 1, h: h, w: w, c: C), Dims4(n: 1, h: 1, w: w, c: C),
                   Dims4(n: n, h: 1, w: 1, c: C)]
      let small = kinds[c % kinds.count]
      let smallFirst = rng.bool()
      let s1 = smallFirst ? small : full, s2 = smallFirst ? full : small
      var p: AddParams
      if c % 4 == 3 {
        // Raw parameters, including the saturating Int32.min case and shifts the folded form refuses.
        func mult() -> Int32 { [Int32.min, Int32.max, Int32(rng.int(1 << 30...(1 << 31) - 1)), rng.int32()][rng.int(0...3)] }
        p = AddParams(input1Offset: Int32(rng.int(-255...255)), input2Offset: Int32(rng.int(-255...255)),
                      outputOffset: Int32(rng.int(-255...255)), leftShift: Int32(rng.int(0...31)),
                      input1Multiplier: mult(), input1Shift: Int32(rng.int(-31...31)),
                      input2Multiplier: mult(), input2Shift: Int32(rng.int(-31...31)),
                      outputMultiplier: mult(), outputShift: Int32(rng.int(-31...31)),
                      activationMin: -128, activationMax: 127)
      } else {
        func scale() -> Float { Float(pow(10, -3 + 3 * rng.unit())) }
        var lo = Int32(-128), hi = Int32(127)
        if rng.bool() { lo = Int32(rng.int(-128...127)); hi = Int32(rng.int(Int(lo)...127)) }
        p = prepareAdd(input1Scale: scale(), input1ZeroPoint: Int32(rng.int(-128...127)),
                       input2Scale: scale(), input2ZeroPoint: Int32(rng.int(-128...127)),
                       outputScale: scale(), outputZeroPoint: Int32(rng.int(-128...127)),
                       activationMin: lo, activationMax: hi)
      }
      let a = inputs(&rng, s1.count), b = inputs(&rng, s2.count)
      var want = [Int8](repeating: 0, count: full.count)
      addBroadcastReference(params: p, outputShape: full, input1Shape: s1, input1: a, input2Shape: s2, input2: b,
                            output: &want)
      func d5(_ d: Dims4) -> Dims5 { Dims5(1, d.n, d.h, d.w, d.c) }
      guard let plan = BroadcastPlan(a: d5(s1), b: d5(s2), out: d5(full)) else {
        Issue.record("no plan for \(s1) + \(s2)"); continue
      }
      for isa in optimisedPathsOnThisCPU() {
        var got = [Int8](repeating: 0x5A, count: full.count + 40)
        guard addBroadcastOptimized(isa: isa, params: p, plan: plan, input1: a, input2: b, output: &got) else { continue }
        taken += 1
        #expect(Array(got[..<full.count]) == want, "case \(c): \(s1) + \(s2) ISA \(isa) params \(p)")
        #expect(got[full.count...].allSatisfy { $0 == 0x5A }, "case \(c): ISA \(isa) wrote past the output")
      }
    }
    #expect(taken >= cases * optimisedPathsOnThisCPU().count, "optimised path took \(taken)")
  }

  /// The AVX-512 table kernel's split output stage (AddSplit512), which the
  /// loader takes only where its check finds the same bytes for all 65,536
  /// input pairs: on prepared parameters (with and without a fused ReLU),
  /// every pair through the kernel against addReference, and the check must
  /// take it for most of them (else the test would say little).
  @Test("AVX-512 add with the split output stage equals addReference on every input pair")
  func splitOutputEveryPair() {
    guard optimisedPathsOnThisCPU().contains(KernelISA.avx512),
          let probe = addKernelArgs(isa: KernelISA.avx512, params: prepareAdd(
            input1Scale: 0.02, input1ZeroPoint: 0, input2Scale: 0.03, input2ZeroPoint: 0,
            outputScale: 0.05, outputZeroPoint: 0, activationMin: -128, activationMax: 127)),
          probe.byte_tables != 0 else {
      print("notice: this CPU has no AVX-512 VBMI; the split Add output stage is checked by make avx512-emu-test")
      return
    }
    let n = 65536
    let a = (0..<n).map { Int8(truncatingIfNeeded: $0 >> 8) }, b = (0..<n).map { Int8(truncatingIfNeeded: $0) }
    var rng = SplitMix64(seed: 0xADD5)
    var split = 0
    var byQ = [Int](repeating: 0, count: 5)
    let cases = 120
    for c in 0..<cases {
      func scale() -> Float { Float(pow(10, -3 + 3 * rng.unit())) }
      let zo = Int32(rng.int(-128...127))
      var lo = Int32(-128), hi = Int32(127)
      switch c % 3 {
      case 0: lo = zo
      case 1: lo = Int32(rng.int(-128...127)); hi = Int32(rng.int(Int(lo)...127))
      default: break
      }
      let p = prepareAdd(input1Scale: scale(), input1ZeroPoint: Int32(rng.int(-128...127)),
                         input2Scale: scale(), input2ZeroPoint: Int32(rng.int(-128...127)),
                         outputScale: scale(), outputZeroPoint: zo, activationMin: lo, activationMax: hi)
      guard let args = addKernelArgs(isa: KernelISA.avx512, params: p) else {
        Issue.record("case \(c): AVX-512 refused \(p)"); continue
      }
      if args.split_output != 0 { split += 1; byQ[Int(args.split_output) - 1] += 1 }
      var want = [Int8](repeating: 0, count: n), got = [Int8](repeating: 0x5A, count: n)
      addReference(params: p, count: n, input1: a, input2: b, output: &want)
      #expect(addOptimized(isa: KernelISA.avx512, params: p, count: n, input1: a, input2: b, output: &got))
      let bad = (0..<n).filter { got[$0] != want[$0] }
      #expect(bad.isEmpty, "case \(c): \(bad.count) pairs differ, split_output \(args.split_output), params \(p)")
    }
    print("split Add output stage: \(split) of \(cases) prepared parameter sets (q = 0...4: \(byQ))")
    #expect(split >= cases / 2, "split output stage taken for \(split) of \(cases)")
  }

  /// Parameters the vector kernels cannot reproduce exactly are refused
  /// (the op keeps addReference).
  @Test func outOfRangeParametersAreRefused() {
    for isa in optimisedPathsOnThisCPU() {
      let base = AddParams(input1Offset: 0, input2Offset: 0, outputOffset: 0, leftShift: 20,
                           input1Multiplier: 1 << 30, input1Shift: -1, input2Multiplier: 1 << 30, input2Shift: -1,
                           outputMultiplier: 1 << 30, outputShift: -10, activationMin: -128, activationMax: 127)
      #expect(addKernelArgs(isa: isa, params: base) != nil)
      var p = base; p.outputShift = -32
      #expect(addKernelArgs(isa: isa, params: p) == nil)
      p = base; p.leftShift = 32
      #expect(addKernelArgs(isa: isa, params: p) == nil)
      p = base; p.activationMax = 200
      #expect(addKernelArgs(isa: isa, params: p) == nil)
    }
    #expect(addKernelArgs(isa: KernelISA.portable, params: AddParams(
      input1Offset: 0, input2Offset: 0, outputOffset: 0, leftShift: 20,
      input1Multiplier: 1 << 30, input1Shift: -1, input2Multiplier: 1 << 30, input2Shift: -1,
      outputMultiplier: 1 << 30, outputShift: -10, activationMin: -128, activationMax: 127)) == nil)
  }
}
