// Tanh, tools side: TFLite TANH (int8 and float), ONNX Tanh, float
// evaluation, quantization (output fixed at scale 1/128, zero point 0, as
// TFLite; the input keeps its full range like Logistic's).

import CNNRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FloatGraph.Kind {
  public static let tanh = Self("tanh")
}

enum TanhOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.tanh]
  static let opCodes: [OpCode] = [.tanh]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.tanh]
  static let onnxOpTypes = ["Tanh"]
  static let needsFullRangeInput = true

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...1)
    try im.addUnaryOp(op, .tanh)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    try im.node(op, .tanh, [try im.input(op, 0)])
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let out = try im.output(n, x.onnxShape, x.layout)
    im.emit(n.node(.tanh, [x.tensor], out))
  }

  static func checkShapes(_ c: FloatNodeCheck) throws { try c.sameElements(reshapes: false) }

  static func evaluateFloat(_ e: FloatEvaluation) {
    for k in 0..<e.out.count { e.out[k] = tanhf(e.x[k]) }
  }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, _) = q.input(n)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) { try q.b.tanh(x, name: name) }
    return (out, ActivationQuant(scale: 1.0 / 128, zeroPoint: 0))
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] { try c.unaryElementwiseShape() }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    let out = c.tensor(output)
    guard out.scales == [Float(1) / 128], out.zeroPoint == 0 else {
      throw ModelBuilderError.invalidQuantization("\(c.opName): output \(c.label(output)) must have scale 1/128 and zero point 0")
    }
  }
}

extension ModelBuilder {
  /// Output scale 1/128, zero point 0.
  @discardableResult
  public mutating func tanh(_ input: TensorID, name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.tanh, [input], OpOptions(), scale: 1.0 / 128, zeroPoint: 0, name: name)
  }
}
