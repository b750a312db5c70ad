// LeakyReLU, tools side: TFLite LEAKY_RELU (int8 and float; alpha from
// LeakyReluOptions), ONNX LeakyRelu (attribute alpha, default 0.01), float
// evaluation, quantization (calibrated output, TFLite converter style) and
// the builder's rules (alpha stored in the record's `extra`).

import CNNRuntime

extension FloatGraph.Kind {
  /// Node.alpha: the slope for negative inputs.
  public static let leakyRelu = Self("leakyRelu")
}

enum LeakyReluOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.leakyRelu]
  static let opCodes: [OpCode] = [.leakyRelu]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.leakyRelu]
  static let onnxOpTypes = ["LeakyRelu"]
  static let calibratesOutput = true

  static func alpha(_ op: TFLiteNode) throws -> Float {
    var a: Float = 0
    if case .leakyRelu(let v) = op.options { a = v }
    guard a.isFinite else { throw TFLiteError.unsupported("\(op.ctx): leaky relu alpha \(a) is not finite") }
    return a
  }

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...1)
    try im.addUnaryOp(op, .leakyRelu, OpOptions(alpha: try alpha(op)))
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    var node = try im.node(op, .leakyRelu, [try im.input(op, 0)])
    node.alpha = try alpha(op)
    return node
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let out = try im.output(n, x.onnxShape, x.layout)
    var nd = n.node(.leakyRelu, [x.tensor], out)
    nd.alpha = try n.a.float("alpha", 0.01)
    guard nd.alpha.isFinite else { throw n.invalid("alpha \(nd.alpha) is not finite") }
    im.emit(nd)
  }

  static func checkShapes(_ c: FloatNodeCheck) throws { try c.sameElements(reshapes: false) }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let a = e.node.alpha
    for k in 0..<e.out.count { let v = e.x[k]; e.out[k] = v > 0 ? v : v * a }
  }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, _) = q.input(n)
    let oq = try q.own(n.output)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.leakyRelu(x, alpha: n.alpha, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    guard c.o.alpha.isFinite else { throw ModelBuilderError.invalidOp("\(c.opName): alpha must be finite") }
    return try c.unaryElementwiseShape()
  }

  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) {
    r.extra = o.alpha.bitPattern
  }
}

extension ModelBuilder {
  @discardableResult
  public mutating func leakyRelu(_ input: TensorID, alpha: Float, outputScale: Float, outputZeroPoint: Int32,
                                 name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.leakyRelu, [input], OpOptions(alpha: alpha), scale: outputScale,
                         zeroPoint: outputZeroPoint, name: name)
  }
}
