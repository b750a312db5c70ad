// Softmax, tools side: TFLite SOFTMAX (int8 and float; beta > 0), ONNX
// Softmax over the last (or NCHW channel) axis, float evaluation,
// quantization (output fixed at scale 1/256, zero point −128; the logits keep
// their full range) and the builder's rules (beta stored in the record).

import CNNRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FloatGraph.Kind {
  public static let softmax = Self("softmax")
}

enum SoftmaxOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.softmax]
  static let opCodes: [OpCode] = [.softmax]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.softmax]
  static let onnxOpTypes = ["Softmax"]
  static let needsFullRangeInput = true
  static let acceptsBeta = true

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...1)
    guard case .softmax(let beta) = op.options else {
      throw TFLiteError.invalidModel("\(op.ctx): missing SoftmaxOptions (beta)")
    }
    guard beta.isFinite, beta > 0 else {
      throw TFLiteError.unsupported("\(op.ctx): softmax beta \(beta) (must be finite and > 0)")
    }
    try im.addUnaryOp(op, .softmax, OpOptions(beta: beta))
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    guard case .softmax(let beta) = op.options, beta.isFinite, beta > 0 else {
      throw FloatGraphError.unsupported("\(op.ctx): missing or bad softmax beta")
    }
    var node = try im.node(op, .softmax, [try im.input(op, 0)])
    node.beta = beta
    return node
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let r = x.onnxShape.count
    var axis = try n.a.int("axis", im.opset >= 13 ? -1 : 1)
    if axis < 0 { axis += r }
    switch x.layout {
    case .plain, .flattenedNHWC:
      // Softmax over the last axis; for opset < 13 "axis" flattens the
      // trailing dimensions, which equals the last axis when it is r − 1.
      let trailing = x.onnxShape[(min(max(axis, 0), r))...].reduce(1, *)
      guard axis >= 0, axis < r, axis == r - 1 || (im.opset < 13 && trailing == x.onnxShape[r - 1]) else {
        throw n.unsupported("softmax over axis \(axis) of \(x.onnxShape) (only the last axis)")
      }
    case .nhwc:
      let ok = axis == 1 && (im.opset >= 13 || x.onnxShape[2] * x.onnxShape[3] == 1)
      guard ok else { throw n.unsupported("softmax over axis \(axis) of NCHW \(x.onnxShape) (only the channel axis)") }
    }
    let out = try im.output(n, x.onnxShape, x.layout)
    im.emit(n.node(.softmax, [x.tensor], out))
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    try c.sameElements(reshapes: false)
  }

  /// Over the last dimension, max-subtracted.
  static func evaluateFloat(_ e: FloatEvaluation) {
    let x = e.x, out = e.out, n = e.node
    let c = e.oShape.last!
    for r in 0..<(out.count / c) {
      var m = -Float.infinity
      for k in 0..<c { m = max(m, x[r * c + k]) }
      var s: Float = 0
      for k in 0..<c { let v = expf((x[r * c + k] - m) * n.beta); out[r * c + k] = v; s += v }
      for k in 0..<c { out[r * c + k] /= s }
    }
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, _) = q.input(n)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) { try q.b.softmax(x, beta: n.beta, name: name) }
    return (out, ActivationQuant(scale: 1.0 / 256, zeroPoint: -128))
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(1)
    try c.checkPlain(); try c.noActivation()
    guard c.o.beta.isFinite, c.o.beta > 0 else { throw ModelBuilderError.invalidOp("\(c.opName): beta must be finite and > 0") }
    return try c.int8Activation(0, "input").shape
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    try c.unitIntervalQuant(output)
  }

  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) {
    r.extra = o.beta.bitPattern
  }
}

extension ModelBuilder {
  /// Output scale 1/256, zero point -128.
  @discardableResult
  public mutating func softmax(_ input: TensorID, beta: Float = 1, name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.softmax, [input], OpOptions(beta: beta), scale: 1.0 / 256, zeroPoint: -128, name: name)
  }
}
