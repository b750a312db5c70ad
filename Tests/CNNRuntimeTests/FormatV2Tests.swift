// Format v2: ops list their tensors (any count), tensors have up to 5
// dimensions, and version-1 files are refused with a message to re-import.
import Testing
@testable import CNNRuntime
import CNNTools

@Suite struct FormatV2Tests {
  /// A rank-5 activation (as Keras' UpSampling2D makes) reshaped to rank 2 and
  /// back: loads, runs, and keeps the bytes; the tensor info reports 5 dims.
  @Test func rank5TensorsLoadAndReshape() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 2, 3, 4, 5], scale: 0.5, zeroPoint: 1, name: "x5")
    let flat = try b.reshape(x, to: [1, 120], name: "flat")
    let back = try b.reshape(flat, to: [1, 2, 3, 4, 5], name: "y5")
    try b.markInput(x); try b.markOutput(back)
    let m = try RuntimeModel(bytes: try b.serialize())
    let input = (0..<120).map { Int8(truncatingIfNeeded: $0 * 7 - 100) }
    #expect(try m.run(input: input) == input)
    #expect(m.tensor(0).shape == [1, 2, 3, 4, 5])
  }

  /// Ops that compute over NHWC refuse rank 5 at load.
  @Test func rank5IsRefusedByNHWCOps() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 2, 3, 4, 5], scale: 0.5, zeroPoint: 1, name: "x5")
    let s = try b.logistic(x, name: "s")
    try b.markInput(x); try b.markOutput(s)
    #expect(loadFailure(try b.serialize()) == nil)   // elementwise: any rank
    var c = ModelBuilder()
    let y = try c.addActivation(shape: [1, 2, 3, 4, 5], scale: 0.5, zeroPoint: 1, name: "y5")
    let p = try c.addActivation(shape: [1, 2, 3, 4, 5], scale: 0.5, zeroPoint: 1, name: "z5")
    let sum = try c.add(y, p, outputScale: 1, outputZeroPoint: 0, name: "sum")
    try c.markInput(y); try c.markInput(p); try c.markOutput(sum)
    let e = loadFailure(try c.serialize())
    #expect(e?.status == .shapeMismatch && e?.message.contains("rank 5") == true, "\(e?.message ?? "loaded")")
  }

  /// The op's input count is checked against the op kind before it is prepared.
  @Test func wrongTensorCountsAreRefused() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4], scale: 0.5, zeroPoint: 1, name: "x")
    let y = try b.addActivation(shape: [1, 4], scale: 0.5, zeroPoint: 1, name: "y")
    let s = try b.add(x, y, outputScale: 1, outputZeroPoint: 0, name: "sum")
    try b.markInput(x); try b.markInput(y); try b.markOutput(s)
    let good = try b.serialize()
    #expect(loadFailure(good) == nil)
    var bad = good
    let h = bad.withUnsafeBytes { FileHeader.read(from: $0.baseAddress!) }
    bad[Int(h.opTableOffset)] = UInt8(OpCode.logistic.rawValue)   // Add's two inputs given to a one-input op
    repairChecksum(&bad)
    let e = loadFailure(bad)
    #expect(e?.status == .badOp && e?.message.contains("op 0: Logistic: wrong number of inputs") == true,
            "\(e?.message ?? "loaded")")
    var none = good
    none[Int(h.opTableOffset) + 6] = 0   // output count 0
    repairChecksum(&none)
    let e0 = loadFailure(none)
    #expect(e0?.status == .badOp && e0?.message.contains("output count") == true, "\(e0?.message ?? "loaded")")
  }

  /// A version-1 file is refused with a message that says to re-import it.
  @Test func version1IsRefusedWithAReimportMessage() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4], scale: 0.5, zeroPoint: 1, name: "x")
    let s = try b.logistic(x, name: "s")
    try b.markInput(x); try b.markOutput(s)
    var bytes = try b.serialize()
    bytes[8] = 1
    repairChecksum(&bytes)
    let e = loadFailure(bytes)
    #expect(e?.status == .unsupportedVersion && e?.message.contains("re-import") == true, "\(e?.message ?? "loaded")")
  }
}
