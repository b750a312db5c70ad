// Quantize (int8 -> int8 requantization), tools side: TFLite QUANTIZE between
// two int8 tensors in the middle of a graph (the importer routes it here; a
// float -> int8 QUANTIZE at a model input is folded into the input), and the
// builder's rules. Float graphs have no such node.

import CNNRuntime

enum QuantizeOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = []
  static let opCodes: [OpCode] = [.quantize]

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...1)
    try im.addUnaryOp(op, .quantize)
  }

  static func checkShapes(_ c: FloatNodeCheck) throws {}
  static func evaluateFloat(_ e: FloatEvaluation) {}

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] { try c.unaryElementwiseShape() }
}

extension ModelBuilder {
  /// Requantizes `input` to the given scale and zero point.
  @discardableResult
  public mutating func requantize(_ input: TensorID, outputScale: Float, outputZeroPoint: Int32,
                                  name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.quantize, [input], OpOptions(), scale: outputScale, zeroPoint: outputZeroPoint, name: name)
  }
}
