// Standalone ReLU / ReLU6, tools side: float TFLite RELU / RELU6 and ONNX
// Relu / Clip(0, 6) / Clip(0, ∞) become an activation node, which the
// quantizer fuses into its producer when it can (`FloatGraph.fusingActivations`);
// the others become the RELU / RELU6 ops, as do int8 TFLite RELU / RELU6.
// Quantization: RELU's output is calibrated (TFLite converter style); RELU6
// keeps its input's quantization, because TFLite Micro's RELU6 (which the
// runtime follows) clamps the input bytes and ignores the output's (an int8
// TFLite RELU6 is imported with whatever output quantization it has, and
// runs as TFLM runs it).

import CNNRuntime

extension FloatGraph.Kind {
  /// Standalone ReLU / ReLU6 (the activation is in `Node.activation`).
  public static let activation = Self("activation")
}

enum ActivationOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.activation]
  static let opCodes: [OpCode] = [.relu, .relu6]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.relu, TFLiteBuiltinOperator.relu6]
  static let onnxOpTypes = ["Relu", "Clip"]
  static let calibratesOutput = true

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...1)
    try im.addUnaryOp(op, op.code == TFLiteBuiltinOperator.relu ? .relu : .relu6)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    var node = try im.node(op, .activation, [try im.input(op, 0)])
    node.activation = op.code == TFLiteBuiltinOperator.relu ? .relu : .relu6
    return node
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let out = try im.output(n, x.onnxShape, x.layout)
    var act: FloatGraph.Activation = .relu
    if n.opType == "Clip" {
      var lo: Float = -.infinity, hi: Float = .infinity
      if im.opset < 11 || n.a.has("min") || n.a.has("max") {
        lo = try n.a.float("min", -.greatestFiniteMagnitude); hi = try n.a.float("max", .greatestFiniteMagnitude)
      } else {
        if let c = try im.optionalConstant(n, 1) { guard c.count == 1 else { throw n.invalid("min is not a scalar") }; lo = c.floats[0] }
        if let c = try im.optionalConstant(n, 2) { guard c.count == 1 else { throw n.invalid("max is not a scalar") }; hi = c.floats[0] }
      }
      if lo == 0 && hi == 6 { act = .relu6 } else if lo == 0 && hi >= 3.0e38 { act = .relu } else {
        throw n.unsupported("Clip(\(lo), \(hi)) (only Clip(0, 6) and Clip(0, ∞))")
      }
    }
    var nd = n.node(.activation, [x.tensor], out)
    nd.activation = act
    im.emit(nd)
  }

  static func checkShapes(_ c: FloatNodeCheck) throws {
    try c.sameElements(reshapes: false)
    if c.node.activation == .none { throw c.fail("standalone activation NONE") }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    for k in 0..<e.out.count { e.out[k] = FloatExecutor.activate(e.x[k], e.node.activation) }
  }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let name = q.name(n.output)
    if n.activation == .relu6 {
      let out = try QuantizerState.wrap(n.origin) { try q.b.relu6(x, name: name) }
      return (out, xq)
    }
    let oq = try q.own(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.relu(x, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] { try c.unaryElementwiseShape() }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
  }
}

extension BuilderOpCheck {
  /// One int8 activation input, no options: the output has its shape.
  func unaryElementwiseShape(inputs n: Int = 1) throws -> [Int] {
    try expectInputs(n)
    try checkPlain(); try noActivation()
    return try int8Activation(0, "input").shape
  }
}

extension ModelBuilder {
  /// Standalone ReLU, requantized to the output's quantization.
  @discardableResult
  public mutating func relu(_ input: TensorID, outputScale: Float, outputZeroPoint: Int32,
                            name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.relu, [input], OpOptions(), scale: outputScale, zeroPoint: outputZeroPoint, name: name)
  }

  /// Standalone ReLU6; the output has the input's quantization.
  @discardableResult
  public mutating func relu6(_ input: TensorID, name: String? = nil) throws -> TensorID {
    try checkIndex(input, "relu6 input")
    let t = tensors[input.index]
    return try addWithNewOutput(.relu6, [input], OpOptions(), scale: t.scales.first ?? 1, zeroPoint: t.zeroPoint, name: name)
  }
}
