// x · LOGISTIC(x) (swish) imported from TFLite as one LookupTable
// (Ops/Logistic.swift): the fused model must give, for every input byte,
// the bytes of the LOGISTIC and MUL ops it replaces. The unfused import is
// what the importer makes when the LOGISTIC output is requested as an extra
// output; both run through the runtime on all 256 bytes. (TFLMGoldenTests
// and the C golden test check the fused models against TFLM.)
import CNNRuntime
import Foundation
import Testing

@testable import CNNTools

private let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("Golden/tflm/models")

@Suite("TFLite swish import: LOGISTIC and MUL as one lookup table")
struct SwishFusionTests {
  @Test(arguments: ["mul_swish_1x5x5x7", "mul_swish_1x4x4x13_asym"])
  func fusedEqualsUnfusedOnEveryByte(name: String) throws {
    let bytes = [UInt8](try Data(contentsOf: models.appendingPathComponent(name + ".tflite")))
    let tfl = try TFLiteModel(bytes: bytes)
    let g = try #require(tfl.subgraphs.first)
    let logistic = try #require(g.operators.first { tfl.operatorName($0) == "LOGISTIC" })
    let mul = try #require(g.operators.first { tfl.operatorName($0) == "MUL" })

    let fused = try TFLiteImporter.importModel(bytes: bytes)
    #expect(fused.builder.ops.map(\.code) == [.lookupTable])
    #expect(fused.ops.first { $0.tfliteIndex == logistic.index }?.fusedInto == mul.index)
    #expect(fused.ops.first { $0.tfliteIndex == mul.index }?.op == .lookupTable)
    #expect(fused.tensorMap[logistic.outputs[0]] == nil)

    // Asking for the LOGISTIC output keeps both ops.
    let plain = try TFLiteImporter.importModel(bytes: bytes, options: .init(extraOutputs: [logistic.outputs[0]]))
    #expect(plain.builder.ops.map(\.code) == [.logistic, .mul])
    #expect(plain.ops.allSatisfy { $0.fusedInto == nil })

    let a = try RuntimeModel(bytes: fused.bytes), b = try RuntimeModel(bytes: plain.bytes)
    let n = a.inputs[0].shape.reduce(1, *)
    var covered = Set<Int8>()
    var start = 0
    while covered.count < 256 {
      let x = (0..<n).map { Int8(truncatingIfNeeded: start + $0 - 128) }
      covered.formUnion(x)
      let got = try a.run(inputs: [x]), want = try b.run(inputs: [x])
      #expect(got[0] == want[0], "\(name): inputs from byte \(start - 128)")
      start += n
    }
  }

  /// A LOGISTIC read by anything besides the MUL stays an op of its own.
  @Test func logisticWithAnotherReaderIsNotFused() throws {
    let bytes = [UInt8](try Data(contentsOf: models.appendingPathComponent("mul_swish_1x5x5x7.tflite")))
    let tfl = try TFLiteModel(bytes: bytes)
    let g = try #require(tfl.subgraphs.first)
    let logistic = try #require(g.operators.first { tfl.operatorName($0) == "LOGISTIC" })
    var im = TFLiteInt8Importer(model: tfl, options: .init())
    im.graph = g
    #expect(LogisticOp.swishFusions(im, keep: []).count == 1)
    #expect(LogisticOp.swishFusions(im, keep: [logistic.outputs[0]]).isEmpty)
    var withOutput = g
    withOutput.outputs.append(logistic.outputs[0])
    im.graph = withOutput
    #expect(LogisticOp.swishFusions(im, keep: []).isEmpty)
  }
}
