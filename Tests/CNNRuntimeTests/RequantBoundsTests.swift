// Load-time bounds on requantization: every op that requantizes refuses a
// multiplier of 2^31 or more (left shift above 31), which TFLite Micro leaves
// undefined and which the kernel paths would not compute alike. A scale just
// inside the bound loads; one just outside is refused with a message naming
// the op and its output tensor.
import Testing
@testable import CNNRuntime
import CNNTools

/// The next Float above `x` (one ulp up).
private func up(_ x: Float) -> Float { x.nextUp }

/// 2^e as a Float.
private func pow2(_ e: Int) -> Float { Float(sign: .plus, exponent: e, significand: 1) }

/// One op whose requantization multiplier is input scale × weight scale /
/// output scale (1 × 1 / `outputScale`).
private func convLike(_ kind: OpCode, outputScale: Float) throws -> [UInt8] {
  var b = ModelBuilder()
  let out: TensorID
  switch kind {
  case .conv2D:
    let x = try b.addActivation(shape: [1, 3, 3, 2], scale: 1, zeroPoint: 0, name: "x")
    let f = try b.addConstant([Int8](repeating: 1, count: 4 * 2 * 2 * 2), shape: [4, 2, 2, 2],
                              scales: [1, 0.5, 0.25, 1], axis: 0, name: "w")
    out = try b.conv2D(x, filter: f, bias: nil, outputScale: outputScale, outputZeroPoint: 0, name: "conv_out")
    try b.markInput(x)
  case .depthwiseConv2D:
    let x = try b.addActivation(shape: [1, 3, 3, 2], scale: 1, zeroPoint: 0, name: "x")
    let f = try b.addConstant([Int8](repeating: 1, count: 2 * 2 * 2), shape: [1, 2, 2, 2], scale: 1, name: "w")
    out = try b.depthwiseConv2D(x, filter: f, bias: nil, outputScale: outputScale, outputZeroPoint: 0, name: "dw_out")
    try b.markInput(x)
  default:
    let x = try b.addActivation(shape: [1, 6], scale: 1, zeroPoint: 0, name: "x")
    let f = try b.addConstant([Int8](repeating: 1, count: 3 * 6), shape: [3, 6], scale: 1, name: "w")
    out = try b.fullyConnected(x, weights: f, bias: nil, outputScale: outputScale, outputZeroPoint: 0, name: "fc_out")
    try b.markInput(x)
  }
  try b.markOutput(out)
  return try b.serialize()
}

@Suite struct RequantBoundsTests {
  /// Effective multiplier 2^31 / (1 + 2^-23) (shift 31) loads; exactly 2^31
  /// (shift 32) is refused. Conv2D uses per-channel scales: its largest
  /// channel decides.
  @Test(arguments: [OpCode.conv2D, .depthwiseConv2D, .fullyConnected])
  func convolutionLikeOpsRefuseMultipliersFrom2To31(kind: OpCode) throws {
    let edge = pow2(-31)   // 1 × 1 / 2^-31 = 2^31
    #expect(loadFailure(try convLike(kind, outputScale: up(edge))) == nil)
    let e = loadFailure(try convLike(kind, outputScale: edge))
    #expect(e?.status == .badOp, "\(e?.description ?? "loaded")")
    let name = kind == .conv2D ? "conv_out" : kind == .depthwiseConv2D ? "dw_out" : "fc_out"
    #expect(e?.message.contains("op 0: \(kind.staticName), tensor ") == true, "\(e?.message ?? "")")
    #expect(e?.message.contains("'\(name)'") == true, "\(e?.message ?? "")")
    #expect(e?.message.contains("requantization multiplier >= 2^31") == true, "\(e?.message ?? "")")
    // Far outside (the corrupted-scale case: ~1e28): refused too, no trap.
    #expect(loadFailure(try convLike(kind, outputScale: 1e-30))?.status == .badOp)
  }

  /// Add's output multiplier is 2 × max(s1, s2) / (2^20 × s_out): with input
  /// scales 1 it reaches 2^31 at s_out = 2^-50.
  @Test func addRefusesAnOutputMultiplierFrom2To31() throws {
    func model(_ outputScale: Float) throws -> [UInt8] {
      var b = ModelBuilder()
      let x = try b.addActivation(shape: [1, 2, 2, 3], scale: 1, zeroPoint: 0, name: "a")
      let y = try b.addActivation(shape: [1, 2, 2, 3], scale: 1, zeroPoint: 0, name: "b")
      let s = try b.add(x, y, outputScale: outputScale, outputZeroPoint: 0, name: "sum")
      try b.markInput(x); try b.markInput(y); try b.markOutput(s)
      return try b.serialize()
    }
    #expect(loadFailure(try model(up(pow2(-50)))) == nil)
    let e = loadFailure(try model(pow2(-50)))
    #expect(e?.status == .badOp && e?.message.contains("op 0: Add, tensor 2 'sum'") == true, "\(e?.message ?? "")")
  }

  /// Mean over a 1 × 1 window: the rescale is input scale / output scale.
  /// (The model builder refuses the outside case itself, so the file is
  /// patched after writing.)
  @Test func meanRefusesARescaleFrom2To31() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 1, 1, 4], scale: 1, zeroPoint: 0, name: "x")
    let m = try b.mean(x, outputScale: up(pow2(-31)), outputZeroPoint: 0, name: "avg")
    try b.markInput(x); try b.markOutput(m)
    var bytes = try b.serialize()
    #expect(loadFailure(bytes) == nil)
    let h = bytes.withUnsafeBytes { FileHeader.read(from: $0.baseAddress!) }
    let r = bytes.withUnsafeBytes { TensorRecord.read(from: $0.baseAddress! + Int(h.tensorTableOffset) + ModelFormat.tensorRecordSize) }
    withUnsafeBytes(of: pow2(-31).bitPattern.littleEndian) { for i in 0..<4 { bytes[Int(r.scalesOffset) + i] = $0[i] } }
    repairChecksum(&bytes)
    let e = loadFailure(bytes)
    #expect(e?.status == .badOp && e?.message.contains("op 0: Mean, tensor 1 'avg'") == true, "\(e?.message ?? "")")
  }

  /// Every op's load errors name the op kind after its index.
  @Test func loadErrorsNameTheOpKind() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4, 4, 2], scale: 0.5, zeroPoint: 0, name: "x")
    let p = try b.maxPool2D(x, filter: (2, 2), name: "p")
    try b.markInput(x); try b.markOutput(p)
    var bytes = try b.serialize()
    // Patch the op's filter height (record offset 36) to 0 and repair the checksum.
    let h = bytes.withUnsafeBytes { FileHeader.read(from: $0.baseAddress!) }
    bytes[Int(h.opTableOffset) + 36] = 0
    repairChecksum(&bytes)
    let e = loadFailure(bytes)
    #expect(e?.status == .badOp && e?.message.contains("op 0: MaxPool2D: pool filter size") == true,
            "\(e?.message ?? "")")
  }
}
