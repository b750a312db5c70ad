// Mul, Sub, Maximum, Minimum (binary family): the broadcast plan against an
// independent N-d index walk, the reference element arithmetic against an
// exact-rational formula, the AVX2 Mul row kernels against mulReference byte
// for byte (same shape, per-channel and per-pixel broadcast rows, raw
// extreme parameters, guard bytes), rank-5 broadcasting through a model, and
// the load-time refusals (one test per refusal class).

import Foundation
import Testing
@testable import CNNRuntime
import CNNTools

/// Exact MultiplyByQuantizedMultiplier with TFLM's double rounding (ties up
/// in the high multiply, ties away in the shift), in Int128; `x << left`
/// wraps to 32 bits as the C expression does.
private func exactMBQM(_ x: Int32, _ m: Int32, _ shift: Int32) -> Int64 {
  let left = max(Int(shift), 0), right = max(-Int(shift), 0)
  let v = Int128(Int32(truncatingIfNeeded: Int64(x) << left))
  var s = (v * Int128(m) + (Int128(1) << 30)) >> 31
  if s > Int128(Int32.max) { s = Int128(Int32.max) }
  if right > 0 {
    let half = Int128(1) << (right - 1)
    s = s >= 0 ? (s + half) >> right : -((-s + half) >> right)
  }
  return Int64(s)
}

private func clampInt8(_ v: Int64, _ lo: Int32, _ hi: Int32) -> Int8 { Int8(min(max(v, Int64(lo)), Int64(hi))) }

/// Strides of a right-aligned shape in an output of rank `rank` (0 along size-1 dimensions).
private func naiveStrides(_ s: [Int], rank: Int) -> [Int] {
  let p = [Int](repeating: 1, count: rank - s.count) + s
  var st = [Int](repeating: 0, count: rank)
  var m = 1
  for d in stride(from: rank - 1, through: 0, by: -1) { st[d] = p[d] == 1 ? 0 : m; m *= p[d] }
  return st
}

/// out[i] = f(a[ia], b[ib]) by walking every output index (no merging).
private func naiveBroadcast(_ a: [Int8], _ ash: [Int], _ b: [Int8], _ bsh: [Int], _ os: [Int],
                            _ f: (Int8, Int8) -> Int8) -> [Int8] {
  let rank = os.count
  let sa = naiveStrides(ash, rank: rank), sb = naiveStrides(bsh, rank: rank)
  var idx = [Int](repeating: 0, count: rank)
  var out: [Int8] = []
  for _ in 0..<os.reduce(1, *) {
    var ia = 0, ib = 0
    for d in 0..<rank { ia += idx[d] * sa[d]; ib += idx[d] * sb[d] }
    out.append(f(a[ia], b[ib]))
    var d = rank - 1
    while d >= 0 { idx[d] += 1; if idx[d] < os[d] { break }; idx[d] = 0; d -= 1 }
  }
  return out
}

private func dims5(_ s: [Int]) -> Dims5 {
  var d = Dims5(1, 1, 1, 1, 1)
  for (k, v) in s.enumerated() { d[k] = v }
  return Dims5.padded(d, rank: s.count)
}

/// A random pair of shapes broadcasting to a random output (rank 1...5).
private func randomShapes(_ rng: inout SplitMix64) -> (a: [Int], b: [Int], out: [Int]) {
  let rank = rng.int(1...5)
  let out = (0..<rank).map { _ in rng.int(1...6) }
  func input() -> [Int] {
    var s = out.map { rng.int(0...2) == 0 ? 1 : $0 }
    let drop = rng.int(0...rank - 1)   // a lower-rank input, right-aligned
    if rng.bool() { s.removeFirst(drop) }
    return s.isEmpty ? [1] : s
  }
  var a = input(), b = input()
  // The output must be the broadcast of the inputs: restore a dimension
  // where both became 1.
  let pa = [Int](repeating: 1, count: rank - a.count) + a
  let pb = [Int](repeating: 1, count: rank - b.count) + b
  for d in 0..<rank where out[d] != 1 && pa[d] == 1 && pb[d] == 1 {
    if a.count == rank { a[d] = out[d] } else { a = pa; a[d] = out[d] }
  }
  return (a, b, out)
}

@Suite("Binary ops: mul, sub, maximum, minimum")
struct BinaryOpsTests {
  // MARK: Broadcast plan

  @Test func broadcastPlanMergesDimensions() throws {
    // Same shape: one row of all elements.
    let same = try #require(BroadcastPlan(a: dims5([1, 4, 5, 7]), b: dims5([1, 4, 5, 7]), out: dims5([1, 4, 5, 7])))
    #expect(same.isElementwise && same.rowLength == 140)
    // SE gate: H·W rows of C, the gate repeated along the rows.
    let se = try #require(BroadcastPlan(a: dims5([1, 4, 5, 7]), b: dims5([1, 1, 1, 7]), out: dims5([1, 4, 5, 7])))
    #expect(se.rowLength == 7 && se.extents[3] == 20 && se.strides1[3] == 7 && se.strides2[3] == 0)
    #expect(se.rowsContiguous && !se.isElementwise)
    // Per-pixel factor: rows of C where the factor is one value.
    let px = try #require(BroadcastPlan(a: dims5([1, 4, 5, 7]), b: dims5([1, 4, 5, 1]), out: dims5([1, 4, 5, 7])))
    #expect(px.rowLength == 7 && px.strides1[4] == 1 && px.strides2[4] == 0 && px.strides2[3] == 1)
    // A rank-1 operand right-aligned against rank 4.
    let c = try #require(BroadcastPlan(a: dims5([1, 3, 3, 5]), b: dims5([5]), out: dims5([1, 3, 3, 5])))
    #expect(c == se.withExtents(rows: 9, row: 5))
  }

  @Test func broadcastPlanRefusesNonBroadcastingShapes() {
    #expect(BroadcastPlan(a: dims5([1, 4, 4, 5]), b: dims5([1, 4, 4, 3]), out: dims5([1, 4, 4, 5])) == nil)
    #expect(BroadcastPlan(a: dims5([1, 4, 4, 5]), b: dims5([1, 2, 4, 5]), out: dims5([1, 4, 4, 5])) == nil)
    // The output larger than both inputs.
    #expect(BroadcastPlan(a: dims5([1, 1, 4, 5]), b: dims5([1, 1, 4, 5]), out: dims5([1, 3, 4, 5])) == nil)
    // An input larger than the output.
    #expect(BroadcastPlan(a: dims5([2, 4, 4, 5]), b: dims5([1, 4, 4, 5]), out: dims5([1, 4, 4, 5])) == nil)
  }

  /// The plan's row walk equals an index-by-index walk on random shapes of rank 1...5.
  @Test func broadcastPlanMatchesANaiveIndexWalk() throws {
    var rng = SplitMix64(seed: 0xB0CA57)
    for c in 0..<400 {
      let (sa, sb, so) = randomShapes(&rng)
      let a = rng.int8s(sa.reduce(1, *)), b = rng.int8s(sb.reduce(1, *))
      let plan = try #require(BroadcastPlan(a: dims5(sa), b: dims5(sb), out: dims5(so)), "case \(c) \(sa) \(sb) \(so)")
      var got = [Int8](repeating: 0, count: so.reduce(1, *))
      // f = a − 2b wrapped: sensitive to which element of each input is read.
      let f: (Int8, Int8) -> Int8 = { $0 &- ($1 &* 2) }
      broadcastBinary(plan, a, b, &got, f)
      #expect(got == naiveBroadcast(a, sa, b, sb, so, f), "case \(c): \(sa) with \(sb) to \(so)")
    }
  }

  // MARK: Reference arithmetic

  /// mulElement / subElement against the exact-rational formulas, on prepared
  /// parameters from random scales and every input pair of a few zero points.
  @Test func mulAndSubElementsMatchExactFormulas() {
    var rng = SplitMix64(seed: 0x5B)
    for _ in 0..<60 {
      let s1 = Float(rng.logUniform(-3, 0)), s2 = Float(rng.logUniform(-3, 0)), so = Float(rng.logUniform(-3, 0))
      let z1 = Int32(rng.int(-128...127)), z2 = Int32(rng.int(-128...127)), zo = Int32(rng.int(-128...127))
      let m = prepareMul(input1Scale: s1, input1ZeroPoint: z1, input2Scale: s2, input2ZeroPoint: z2,
                         outputScale: so, outputZeroPoint: zo, activationMin: -128, activationMax: 127)
      let s = prepareSub(input1Scale: s1, input1ZeroPoint: z1, input2Scale: s2, input2ZeroPoint: z2,
                         outputScale: so, outputZeroPoint: zo, activationMin: -100, activationMax: 120)
      for _ in 0..<300 {
        let x = Int8(rng.int(-128...127)), y = Int8(rng.int(-128...127))
        let p = (Int32(x) - z1) * (Int32(y) - z2)
        #expect(mulElement(m, x, y) == clampInt8(exactMBQM(p, m.outputMultiplier, m.outputShift) + Int64(zo), -128, 127))
        let a1 = exactMBQM((Int32(x) - z1) << 20, s.input1Multiplier, s.input1Shift)
        let a2 = exactMBQM((Int32(y) - z2) << 20, s.input2Multiplier, s.input2Shift)
        let d = exactMBQM(Int32(a1 - a2), s.outputMultiplier, s.outputShift)
        #expect(subElement(s, x, y) == clampInt8(d + Int64(zo), -100, 120))
      }
    }
  }

  /// SUB's parameters are ADD's (double quotients, as the TFLM oracle
  /// computes them; float quotients would give 1431655808 / 1859775104 here
  /// and miss TFLM on the sub_const_all_levels goldens).
  @Test func subMultipliersAreAddsDoubleQuotients() {
    let s1: Float = 0.007843137718737125, s2: Float = 0.0470588244497776, so: Float = 0.054338857531547546
    let sub = prepareSub(input1Scale: s1, input1ZeroPoint: 3, input2Scale: s2, input2ZeroPoint: -4,
                         outputScale: so, outputZeroPoint: 5, activationMin: -128, activationMax: 127)
    let add = prepareAdd(input1Scale: s1, input1ZeroPoint: 3, input2Scale: s2, input2ZeroPoint: -4,
                         outputScale: so, outputZeroPoint: 5, activationMin: -128, activationMax: 127)
    #expect(sub.input1Multiplier == 1431655822 && sub.input1Shift == -3)
    #expect(sub.outputMultiplier == 1859775133)
    #expect(sub.input1Multiplier == add.input1Multiplier && sub.input2Multiplier == add.input2Multiplier
            && sub.outputMultiplier == add.outputMultiplier && sub.outputShift == add.outputShift)
  }

  // MARK: AVX2 Mul kernels

  private static let lengths = [1, 2, 5, 7, 8, 31, 32, 33, 40, 63, 64, 65, 97, 255, 1000]

  /// mulOptimized against mulBroadcastReference; guard bytes after the output.
  private func check(_ p: MulParams, _ sa: [Int], _ sb: [Int], _ so: [Int], _ rng: inout SplitMix64,
                     _ label: String) -> Bool {
    guard let plan = BroadcastPlan(a: dims5(sa), b: dims5(sb), out: dims5(so)) else {
      Issue.record("\(label): shapes do not broadcast"); return false
    }
    func data(_ n: Int) -> [Int8] {
      switch rng.int(0...2) {
      case 0: return rng.int8s(n)
      case 1: return (0..<n).map { _ in rng.bool() ? -128 : 127 }
      default: return (0..<n).map { _ in rng.int(0...3) == 0 ? (rng.bool() ? -128 : 127) : Int8(rng.int(-128...127)) }
      }
    }
    let a = data(sa.reduce(1, *)), b = data(sb.reduce(1, *))
    let n = so.reduce(1, *)
    var want = [Int8](repeating: 0, count: n)
    mulBroadcastReference(params: p, plan: plan, input1: a, input2: b, output: &want)
    var took = false
    for isa in optimisedPathsOnThisCPU() {
      var got = [Int8](repeating: 0x5A, count: n + 40)
      guard mulOptimized(isa: isa, params: p, plan: plan, input1: a, input2: b, output: &got) else { continue }
      took = true
      #expect(Array(got[..<n]) == want, "\(label) ISA \(isa) \(sa) x \(sb) params \(p)")
      #expect(got[n...].allSatisfy { $0 == 0x5A }, "\(label) ISA \(isa): wrote past the output")
    }
    return took
  }

  /// Shapes of the three row kinds: same shape, [1,H,W,C] × [1,1,1,C] (and
  /// swapped), [1,H,W,C] × [1,H,W,1] (and swapped), plus random broadcasts.
  private func shapes(_ c: Int, _ rng: inout SplitMix64) -> ([Int], [Int], [Int]) {
    let len = c < Self.lengths.count ? Self.lengths[c] : rng.int(0...3) == 0 ? rng.int(500...1100) : rng.int(1...300)
    let hw = [1, rng.int(1...5), rng.int(1...5)]
    switch c % 6 {
    case 0: return ([len], [len], [len])
    case 1: return (hw + [len], [1, 1, 1, len], hw + [len])
    case 2: return ([1, 1, 1, len], hw + [len], hw + [len])
    case 3: return (hw + [len], hw + [1], hw + [len])
    case 4: return (hw + [1], hw + [len], hw + [len])
    default: return randomShapes(&rng)
    }
  }

  @Test("AVX2 mul equals mulReference on random prepareMul parameters")
  func randomPreparedParams() {
    guard !optimisedPathsOnThisCPU().isEmpty else { return }
    var rng = SplitMix64(seed: 0x3017)
    var taken = 0
    let cases = 1500
    for c in 0..<cases {
      let wide = c % 10 == 0
      let s1 = Float(wide ? rng.logUniform(-6, 2) : rng.logUniform(-3, 0))
      let s2 = Float(wide ? rng.logUniform(-6, 2) : rng.logUniform(-3, 0))
      let so = Float(wide ? rng.logUniform(-8, 2) : rng.logUniform(-4, 0))
      let extreme = c % 4 == 0
      func zp() -> Int32 { extreme ? (rng.bool() ? -128 : 127) : Int32(rng.int(-128...127)) }
      var lo = Int32(-128), hi = Int32(127)
      if rng.bool() { lo = Int32(rng.int(-128...127)); hi = Int32(rng.int(Int(lo)...127)) }
      let p = prepareMul(input1Scale: s1, input1ZeroPoint: zp(), input2Scale: s2, input2ZeroPoint: zp(),
                         outputScale: so, outputZeroPoint: zp(), activationMin: lo, activationMax: hi)
      guard p.outputShift <= 31 else { continue }  // refused at load
      let (sa, sb, so5) = shapes(c, &rng)
      if check(p, sa, sb, so5, &rng, "case \(c) scales \(s1) \(s2) \(so)") { taken += 1 }
    }
    #expect(taken > cases * 9 / 10, "optimised path took \(taken) of \(cases)")
  }

  @Test("AVX2 mul equals mulReference on raw extreme parameters")
  func randomRawParams() {
    guard !optimisedPathsOnThisCPU().isEmpty else { return }
    var rng = SplitMix64(seed: 0x3018)
    var taken = 0
    for c in 0..<2000 {
      var lo = Int32(-128), hi = Int32(127)
      if rng.bool() { lo = Int32(rng.int(-128...127)); hi = Int32(rng.int(Int(lo)...127)) }
      func offset() -> Int32 { rng.bool() ? [-255, 255, -128, 128, 127, 0][rng.int(0...5)] : Int32(rng.int(-255...255)) }
      let m: Int32 = [0, 1, Int32.max, 1 << 30][rng.int(0...4) % 4 == 0 ? rng.int(0...3) : 3]
        | (rng.bool() ? Int32(rng.int(0...(1 << 30) - 1)) : 0)
      let p = MulParams(input1Offset: offset(), input2Offset: offset(), outputOffset: Int32(rng.int(-300...300)),
                        outputMultiplier: m, outputShift: Int32(rng.int(-31...31)), activationMin: lo, activationMax: hi)
      let (sa, sb, so) = shapes(c, &rng)
      if check(p, sa, sb, so, &rng, "raw case \(c)") { taken += 1 }
    }
    #expect(taken == 2000)
  }

  /// Parameters the vector kernels cannot reproduce exactly are refused.
  @Test func outOfRangeMulParametersAreRefused() {
    let base = MulParams(input1Offset: 0, input2Offset: 0, outputOffset: 0, outputMultiplier: 1 << 30,
                         outputShift: -7, activationMin: -128, activationMax: 127)
    for isa in optimisedPathsOnThisCPU() {
      #expect(mulKernelArgs(isa: isa, params: base) != nil)
      var p = base; p.outputShift = 32
      #expect(mulKernelArgs(isa: isa, params: p) == nil)
      p = base; p.outputShift = -32
      #expect(mulKernelArgs(isa: isa, params: p) == nil)
      p = base; p.outputMultiplier = -1
      #expect(mulKernelArgs(isa: isa, params: p) == nil)
      p = base; p.activationMin = -129
      #expect(mulKernelArgs(isa: isa, params: p) == nil)
    }
    #expect(mulKernelArgs(isa: KernelISA.portable, params: base) == nil)
  }

  // MARK: Through a model

  /// Rank-5 broadcasting ([2,3,1,4,5] × [3,4,1] → [2,3,3,4,5], not expressible
  /// in four dimensions) runs and equals the element formula on every path.
  @Test func rank5MulMatchesTheElementFormula() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [2, 3, 1, 4, 5], scale: 0.02, zeroPoint: 3, name: "x")
    let y = try b.addActivation(shape: [3, 4, 1], scale: 0.05, zeroPoint: -7, name: "y")
    let z = try b.mul(x, y, outputScale: 0.01, outputZeroPoint: -2, name: "z")
    try b.markInput(x); try b.markInput(y); try b.markOutput(z)
    let bytes = try b.serialize()
    var rng = SplitMix64(seed: 5)
    let xs = rng.int8s(2 * 3 * 4 * 5), ys = rng.int8s(3 * 4)
    let p = prepareMul(input1Scale: 0.02, input1ZeroPoint: 3, input2Scale: 0.05, input2ZeroPoint: -7,
                       outputScale: 0.01, outputZeroPoint: -2, activationMin: -128, activationMax: 127)
    let outShape = try b.tensor(z).shape
    #expect(outShape == [2, 3, 3, 4, 5])
    let want = naiveBroadcast(xs, [2, 3, 1, 4, 5], ys, [3, 4, 1], outShape) { x, y in
      clampInt8(exactMBQM((Int32(x) - 3) * (Int32(y) + 7), p.outputMultiplier, p.outputShift) - 2, -128, 127)
    }
    defer { unsetenv("CNNRT_ISA") }
    for isa in ["portable", "avx2"] {
      setenv("CNNRT_ISA", isa, 1)
      let got = try RuntimeModel(bytes: bytes).run(inputs: [xs, ys])[0]
      #expect(got == want, "path \(isa)")
    }
  }

  /// Maximum / Minimum with a constant operand, broadcast, through a model.
  @Test func maximumMinimumWithAConstant() throws {
    for isMax in [true, false] {
      var b = ModelBuilder()
      let x = try b.addActivation(shape: [1, 2, 3, 4], scale: 0.1, zeroPoint: -5, name: "x")
      let c = try b.addConstant([-20, 0, 7, 100], shape: [4], scale: 0.1, zeroPoint: -5, name: "c")
      let z = isMax ? try b.maximum(x, c, name: "z") : try b.minimum(x, c, name: "z")
      try b.markInput(x); try b.markOutput(z)
      var rng = SplitMix64(seed: 9)
      let xs = rng.int8s(24)
      let got = try RuntimeModel(bytes: try b.serialize()).run(inputs: [xs])[0]
      let cs: [Int8] = [-20, 0, 7, 100]
      #expect(got == xs.indices.map { isMax ? max(xs[$0], cs[$0 % 4]) : min(xs[$0], cs[$0 % 4]) })
    }
  }

  // MARK: Load-time refusals (one per class)

  /// A two-input model of `code`, written by the builder (which checks), then
  /// patched by `patch` (tensor records / op record) to reach the loader's checks.
  private func model(_ code: OpCode, a: [Int] = [1, 2, 2, 3], b: [Int] = [1, 2, 2, 3],
                     scales: (Float, Float, Float) = (0.1, 0.1, 0.1), zeroPoints: (Int32, Int32, Int32) = (0, 0, 0),
                     activation: FusedActivation = .none) throws -> [UInt8] {
    var m = ModelBuilder()
    let x = try m.addActivation(shape: a, scale: scales.0, zeroPoint: zeroPoints.0, name: "a")
    let y = try m.addActivation(shape: b, scale: scales.1, zeroPoint: zeroPoints.1, name: "b")
    let out = try m.addActivation(shape: try m.inferOutputShape(code, inputs: [x, y], options: OpOptions(activation: activation)), scale: scales.2,
                                  zeroPoint: zeroPoints.2, name: "out")
    try m.addOp(code, inputs: [x, y], output: out, options: OpOptions(activation: activation))
    try m.markInput(x); try m.markInput(y); try m.markOutput(out)
    return try m.serialize()
  }

  /// Sets dimension `d` of tensor `t` in the file (and repairs the checksum).
  private func patchDim(_ bytes: inout [UInt8], tensor t: Int, dim d: Int, to v: Int32) {
    let h = bytes.withUnsafeBytes { FileHeader.read(from: $0.baseAddress!) }
    let rec = Int(h.tensorTableOffset) + t * ModelFormat.tensorRecordSize
    withUnsafeBytes(of: v.littleEndian) { for i in 0..<4 { bytes[rec + 4 + 4 * d + i] = $0[i] } }
    repairChecksum(&bytes)
  }

  @Test(arguments: [OpCode.mul, .sub, .maximum, .minimum])
  func validModelsLoad(code: OpCode) throws {
    #expect(loadFailure(try model(code)) == nil)
    #expect(loadFailure(try model(code, a: [1, 2, 2, 3], b: [3])) == nil)
  }

  @Test(arguments: [OpCode.mul, .sub, .maximum, .minimum])
  func badBroadcastIsRefused(code: OpCode) throws {
    var bytes = try model(code)
    patchDim(&bytes, tensor: 1, dim: 3, to: 2)   // b: [1,2,2,2] against a / out [1,2,2,3]
    let e = loadFailure(bytes)
    #expect(e?.status == .shapeMismatch, "\(e?.description ?? "loaded")")
    #expect(e?.message.contains("op 0: \(code.staticName)") == true && e?.message.contains("broadcast") == true,
            "\(e?.message ?? "")")
    // The output larger than both inputs.
    var big = try model(code)
    patchDim(&big, tensor: 2, dim: 0, to: 2)
    // (out has 24 elements now; the loader sizes the activation from the record.)
    #expect(loadFailure(big)?.status == .shapeMismatch)
  }

  /// A valid Conv2D model (x → conv 1x1 with per-channel weights and an
  /// int32 bias → y) followed by Mul(y, c) with an int8 constant c; tensor
  /// indices: x 0, w 1, bias 2, y 3, c 4, out 5.
  private func convThenMul() throws -> [UInt8] {
    var m = ModelBuilder()
    let x = try m.addActivation(shape: [1, 2, 2, 4], scale: 0.1, zeroPoint: 0, name: "x")
    let w = try m.addConstant([Int8](repeating: 3, count: 16), shape: [4, 1, 1, 4], scales: [0.01, 0.02, 0.01, 0.03],
                              axis: 0, name: "w")
    let bias = try m.addConstant([Int32](repeating: 5, count: 4), name: "bias")
    let y = try m.conv2D(x, filter: w, bias: bias, outputScale: 0.05, outputZeroPoint: 0, name: "y")
    let c = try m.addConstant([1, 2, 3, 4], shape: [4], scale: 0.1, zeroPoint: 0, name: "c")
    let out = try m.mul(y, c, outputScale: 0.1, outputZeroPoint: 0, name: "out")
    try m.markInput(x); try m.markOutput(out)
    return try m.serialize()
  }

  private func opRecord(_ bytes: [UInt8], _ k: Int) -> Int {
    let h = bytes.withUnsafeBytes { FileHeader.read(from: $0.baseAddress!) }
    return Int(h.opTableOffset) + k * ModelFormat.opRecordSize
  }

  private func setCode(_ bytes: inout [UInt8], op k: Int, _ code: OpCode) {
    let r = opRecord(bytes, k)
    withUnsafeBytes(of: code.rawValue.littleEndian) { bytes[r] = $0[0]; bytes[r + 1] = $0[1] }
  }

  @Test(arguments: [OpCode.mul, .sub, .maximum, .minimum])
  func wrongInputCountIsRefused(code: OpCode) throws {
    // Three inputs: the Conv2D (x, w, bias) recoded.
    var three = try convThenMul()
    #expect(loadFailure(three) == nil)
    setCode(&three, op: 0, code)
    repairChecksum(&three)
    let e3 = loadFailure(three)
    #expect(e3?.status == .badOp && e3?.message.contains("op 0: \(code.staticName): wrong number of inputs") == true,
            "\(e3?.message ?? "loaded")")
    // One input: a Logistic recoded.
    var m = ModelBuilder()
    let x = try m.addActivation(shape: [1, 2, 2, 3], scale: 0.1, zeroPoint: 0, name: "x")
    let s = try m.logistic(x, name: "s")
    try m.markInput(x); try m.markOutput(s)
    var one = try m.serialize()
    setCode(&one, op: 0, code)
    repairChecksum(&one)
    let e1 = loadFailure(one)
    #expect(e1?.status == .badOp && e1?.message.contains("wrong number of inputs") == true, "\(e1?.message ?? "loaded")")
  }

  /// An operand that is int32 (a bias) or quantized per channel (weights) is
  /// refused: the Mul's second input is pointed at them in the tensor list.
  @Test(arguments: [OpCode.mul, .sub, .maximum, .minimum])
  func nonInt8OrPerChannelOperandIsRefused(code: OpCode) throws {
    for (target, message) in [(UInt32(2), "input must be an int8 tensor"), (UInt32(1), "per-tensor quantization")] {
      var bytes = try convThenMul()
      let r = opRecord(bytes, 1)
      let list = Int(bytes.withUnsafeBytes { $0.load(fromByteOffset: r + 8, as: UInt32.self) })
      withUnsafeBytes(of: target.littleEndian) { for i in 0..<4 { bytes[list + 4 + i] = $0[i] } }
      setCode(&bytes, op: 1, code)
      repairChecksum(&bytes)
      let e = loadFailure(bytes)
      #expect(e?.status == .badOp && e?.message.contains(message) == true, "\(code): \(e?.message ?? "loaded")")
    }
  }

  /// MUL's multiplier s1·s2/s_out reaches 2^31 at s_out = 2^-31 with unit input scales.
  @Test func mulRefusesAMultiplierFrom2To31() throws {
    let edge = Float(sign: .plus, exponent: -31, significand: 1)
    #expect(loadFailure(try model(.mul, scales: (1, 1, edge.nextUp))) == nil)
    let e = loadFailure(try model(.mul, scales: (1, 1, edge)))
    #expect(e?.status == .badOp && e?.message.contains("op 0: Mul, tensor 2 'out'") == true, "\(e?.message ?? "")")
    #expect(e?.message.contains("requantization multiplier >= 2^31") == true, "\(e?.message ?? "")")
  }

  /// SUB's output multiplier 2·max(s1, s2)/(2^20·s_out) reaches 2^31 at s_out = 2^-50.
  @Test func subRefusesAMultiplierFrom2To31() throws {
    let edge = Float(sign: .plus, exponent: -50, significand: 1)
    #expect(loadFailure(try model(.sub, scales: (1, 1, edge.nextUp))) == nil)
    let e = loadFailure(try model(.sub, scales: (1, 1, edge)))
    #expect(e?.status == .badOp && e?.message.contains("op 0: Sub, tensor 2 'out'") == true, "\(e?.message ?? "")")
  }

  @Test(arguments: [OpCode.maximum, .minimum])
  func differentQuantizationIsRefused(code: OpCode) throws {
    // Built as Mul (whose builder accepts any quantization), then recoded.
    for (scales, zps) in [((Float(0.1), Float(0.2), Float(0.1)), (Int32(0), Int32(0), Int32(0))),
                          ((0.1, 0.1, 0.1), (0, 0, 4))] {
      var bytes = try model(.mul, scales: scales, zeroPoints: zps)
      let h = bytes.withUnsafeBytes { FileHeader.read(from: $0.baseAddress!) }
      withUnsafeBytes(of: code.rawValue.littleEndian) { bytes[Int(h.opTableOffset)] = $0[0]; bytes[Int(h.opTableOffset) + 1] = $0[1] }
      repairChecksum(&bytes)
      let e = loadFailure(bytes)
      #expect(e?.status == .badOp && e?.message.contains("share one scale and zero point") == true, "\(e?.message ?? "")")
    }
  }

  @Test(arguments: [OpCode.maximum, .minimum])
  func fusedActivationIsRefused(code: OpCode) throws {
    var bytes = try model(.mul, activation: .relu)
    let h = bytes.withUnsafeBytes { FileHeader.read(from: $0.baseAddress!) }
    withUnsafeBytes(of: code.rawValue.littleEndian) { bytes[Int(h.opTableOffset)] = $0[0]; bytes[Int(h.opTableOffset) + 1] = $0[1] }
    repairChecksum(&bytes)
    let e = loadFailure(bytes)
    #expect(e?.status == .badOp && e?.message.contains("no fused activation") == true, "\(e?.message ?? "")")
  }

}

extension BroadcastPlan {
  /// The same strides with `rows` rows of `row` elements (test helper).
  fileprivate func withExtents(rows: Int, row: Int) -> BroadcastPlan {
    var p = self
    p.extents = Dims5(1, 1, 1, rows, row)
    p.strides1 = Dims5(0, 0, 0, row, 1)
    return p
  }
}
