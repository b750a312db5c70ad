// HardSwish, tools side: TFLite HARD_SWISH (int8 and float), ONNX HardSwish,
// float evaluation x · relu6(x + 3) / 6, quantization (calibrated output).

import CNNRuntime

extension FloatGraph.Kind {
  public static let hardSwish = Self("hardSwish")
}

enum HardSwishOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.hardSwish]
  static let opCodes: [OpCode] = [.hardSwish]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.hardSwish]
  static let onnxOpTypes = ["HardSwish"]
  static let calibratesOutput = true

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...1)
    try im.addUnaryOp(op, .hardSwish)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    try im.node(op, .hardSwish, [try im.input(op, 0)])
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let out = try im.output(n, x.onnxShape, x.layout)
    im.emit(n.node(.hardSwish, [x.tensor], out))
  }

  static func checkShapes(_ c: FloatNodeCheck) throws { try c.sameElements(reshapes: false) }

  static func evaluateFloat(_ e: FloatEvaluation) {
    for k in 0..<e.out.count { let v = e.x[k]; e.out[k] = v * min(max(v + 3, 0), 6) / 6 }
  }

  /// x · relu6(x + 3) / 6 is 0 for every x ≤ −3.
  static func usefulInputRange(_ n: FloatGraph.Node) -> (min: Float, max: Float)? { (-3, .infinity) }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, _) = q.input(n)
    let oq = try q.own(n.output)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.hardSwish(x, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] { try c.unaryElementwiseShape() }
}

extension ModelBuilder {
  @discardableResult
  public mutating func hardSwish(_ input: TensorID, outputScale: Float, outputZeroPoint: Int32,
                                 name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.hardSwish, [input], OpOptions(), scale: outputScale, zeroPoint: outputZeroPoint, name: name)
  }
}
