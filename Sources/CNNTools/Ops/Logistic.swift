// Logistic (sigmoid), tools side: TFLite LOGISTIC (int8 and float), ONNX
// Sigmoid, float evaluation, quantization (output fixed at scale 1/256, zero
// point −128; the input keeps its full range) and the builder's rules.

import CNNRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FloatGraph.Kind {
  public static let logistic = Self("logistic")
}

enum LogisticOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.logistic]
  static let opCodes: [OpCode] = [.logistic]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.logistic]
  static let onnxOpTypes = ["Sigmoid"]
  static let needsFullRangeInput = true

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...1)
    try im.addUnaryOp(op, .logistic)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    try im.node(op, .logistic, [try im.input(op, 0)])
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let out = try im.output(n, x.onnxShape, x.layout)
    im.emit(n.node(.logistic, [x.tensor], out))
  }

  static func checkShapes(_ c: FloatNodeCheck) throws {
    try c.sameElements(reshapes: false)
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    for k in 0..<e.out.count { e.out[k] = 1 / (1 + expf(-e.x[k])) }
  }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, _) = q.input(n)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) { try q.b.logistic(x, name: name) }
    return (out, ActivationQuant(scale: 1.0 / 256, zeroPoint: -128))
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(1)
    try c.checkPlain(); try c.noActivation()
    return try c.int8Activation(0, "input").shape
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    try c.unitIntervalQuant(output)
  }
}

extension ModelBuilder {
  /// Output scale 1/256, zero point -128.
  @discardableResult
  public mutating func logistic(_ input: TensorID, name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.logistic, [input], OpOptions(), scale: 1.0 / 256, zeroPoint: -128, name: name)
  }
}
