// Mul, tools side: TFLite MUL (int8 with each input's own quantization,
// broadcasting, an int8 constant operand; float), TFLite DIV and ONNX Div by
// a constant (folded into a Mul by the reciprocal constant; Div of two
// activations is refused: int8 has no division), ONNX Mul, float
// evaluation, quantization (a constant operand quantized per tensor over its
// own range, calibrated output) and the builder's broadcast rule.

import CNNRuntime

extension FloatGraph.Kind {
  /// inputs: a, b (broadcasting, right-aligned); either may be a constant.
  public static let mul = Self("mul")
}

enum MulOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.mul]
  static let opCodes: [OpCode] = [.mul]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.mul, TFLiteBuiltinOperator.div]
  static let onnxOpTypes = ["Mul", "Div"]
  static let readsSeveralActivations = true
  static let acceptsFusedActivation = true
  static let calibratesOutput = true

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    guard op.code == TFLiteBuiltinOperator.mul else {
      throw TFLiteError.unsupported("\(op.ctx): int8 DIV is not supported (only a float model's division by a constant, folded into MUL)")
    }
    var act = TFLiteActivation.none
    if case .mul(let a) = op.options { act = a }
    try Elementwise.importTFLite(op, &im, .mul, activation: act)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    if op.code == TFLiteBuiltinOperator.div {
      // x / c = x * (1 / c).
      var act = TFLiteActivation.none
      if case .div(let a) = op.options { act = a }
      try op.expectIO(inputs: 2...2)
      let x = try im.input(op, 0), c = try im.input(op, 1)
      guard !im.tensors[x].isConstant, let values = im.tensors[c].data else {
        throw FloatGraphError.unsupported("\(op.ctx): DIV is supported only as an activation divided by a constant")
      }
      guard values.allSatisfy({ $0 != 0 && $0.isFinite && (1 / $0).isFinite }) else {
        throw FloatGraphError.unsupported("\(op.ctx): DIV by a constant with a zero or non-finite value")
      }
      im.tensors.append(FloatGraph.Tensor(name: im.tensors[c].name + "_reciprocal", shape: im.tensors[c].shape,
                                          data: values.map { 1 / $0 }))
      var node = try im.node(op, .mul, [x, im.tensors.count - 1])
      node.activation = try im.act(act, op.ctx)
      return node
    }
    var act = TFLiteActivation.none
    if case .mul(let a) = op.options { act = a }
    return try Elementwise.importTFLiteFloat(op, &im, .mul, commutative: true, activation: act)
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    try im.elementwiseBinary(n, .mul, commutative: true, reciprocal: n.opType == "Div")
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws { try Elementwise.checkShapes(c) }

  static func evaluateFloat(_ e: FloatEvaluation) { Elementwise.evaluate(e, *) }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    try Elementwise.quantize(n, &q, .mul)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] { try Elementwise.inferOutputShape(c) }
}

extension ModelBuilder {
  /// a × b (broadcasting; either input may be an int8 constant with its own quantization).
  @discardableResult
  public mutating func mul(_ a: TensorID, _ b: TensorID, activation: FusedActivation = .none, outputScale: Float,
                           outputZeroPoint: Int32, name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.mul, [a, b], OpOptions(activation: activation), scale: outputScale,
                         zeroPoint: outputZeroPoint, name: name)
  }
}
