// Sub, tools side: TFLite SUB (int8 with each input's own quantization,
// broadcasting, an int8 constant operand on either side; float), ONNX Sub
// (activation − activation, activation − constant, constant − activation),
// float evaluation, quantization (as Mul) and the builder's broadcast rule.

import CNNRuntime

extension FloatGraph.Kind {
  /// inputs: a, b → a − b (broadcasting, right-aligned); either may be a constant.
  public static let sub = Self("sub")
}

enum SubOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.sub]
  static let opCodes: [OpCode] = [.sub]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.sub]
  static let onnxOpTypes = ["Sub"]
  static let readsSeveralActivations = true
  static let acceptsFusedActivation = true
  static let calibratesOutput = true

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    var act = TFLiteActivation.none
    if case .sub(let a) = op.options { act = a }
    try Elementwise.importTFLite(op, &im, .sub, activation: act)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    var act = TFLiteActivation.none
    if case .sub(let a) = op.options { act = a }
    return try Elementwise.importTFLiteFloat(op, &im, .sub, commutative: false, activation: act)
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    try im.elementwiseBinary(n, .sub, commutative: false)
  }

  static func checkShapes(_ c: FloatNodeCheck) throws { try Elementwise.checkShapes(c) }

  static func evaluateFloat(_ e: FloatEvaluation) { Elementwise.evaluate(e, -) }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    try Elementwise.quantize(n, &q, .sub)
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] { try Elementwise.inferOutputShape(c) }
}

extension ModelBuilder {
  /// a − b (broadcasting; either input may be an int8 constant with its own quantization).
  @discardableResult
  public mutating func sub(_ a: TensorID, _ b: TensorID, activation: FusedActivation = .none, outputScale: Float,
                           outputZeroPoint: Int32, name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.sub, [a, b], OpOptions(activation: activation), scale: outputScale,
                         zeroPoint: outputZeroPoint, name: name)
  }
}
