// Standalone ReLU / ReLU6, tools side: float TFLite RELU / RELU6 and ONNX
// Relu / Clip(0, 6) / Clip(0, ∞) become an activation node, which the
// quantizer fuses into its producer (`FloatGraph.fusingActivations`); the
// int8 format has no standalone activation op, so int8 TFLite RELU/RELU6 and
// an activation that cannot be fused are refused.

import CNNRuntime

extension FloatGraph.Kind {
  /// Standalone ReLU / ReLU6 (the activation is in `Node.activation`).
  public static let activation = Self("activation")
}

enum ActivationOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.activation]
  /// RELU = 19, RELU6 = 21.
  static let tfliteBuiltins: [Int32] = [19, 21]
  static let onnxOpTypes = ["Relu", "Clip"]

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    var node = try im.node(op, .activation, [try im.input(op, 0)])
    node.activation = op.code == 19 ? .relu : .relu6
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
    throw FloatGraphError.unsupported("\(n.origin): standalone activation")
  }
}
