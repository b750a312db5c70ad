// Maximum / Minimum, tools side: TFLite MAXIMUM / MINIMUM (int8, both inputs
// and the output sharing one quantization, as the converter makes them;
// float), ONNX Max / Min of two inputs, float evaluation, quantization and
// the builder's rules.
//
// Quantization: the runtime compares raw int8 values, so the inputs and the
// output must share one scale and zero point. The output takes its first
// activation input's; a constant operand is quantized with it (refused when
// a value lies outside that range, where it would be clipped); two
// activations with different quantizations are refused (cnnrt has no
// requantize op to align them).

import CNNRuntime

extension FloatGraph.Kind {
  /// inputs: a, b (broadcasting); output max(a, b). One quantization for all three.
  public static let maximum = Self("maximum")
  /// inputs: a, b (broadcasting); output min(a, b). One quantization for all three.
  public static let minimum = Self("minimum")
}

enum MaximumMinimumOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.maximum, .minimum]
  static let opCodes: [OpCode] = [.maximum, .minimum]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.maximum, TFLiteBuiltinOperator.minimum]
  static let onnxOpTypes = ["Max", "Min"]
  static let readsSeveralActivations = true

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try Elementwise.importTFLite(op, &im, op.code == TFLiteBuiltinOperator.maximum ? .maximum : .minimum,
                                 activation: .none)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    try Elementwise.importTFLiteFloat(op, &im, op.code == TFLiteBuiltinOperator.maximum ? .maximum : .minimum,
                                      commutative: true, activation: .none)
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    try im.elementwiseBinary(n, n.opType == "Max" ? .maximum : .minimum, commutative: true)
  }

  static func checkShapes(_ c: FloatNodeCheck) throws {
    try Elementwise.checkShapes(c)
    guard c.node.activation == .none else { throw c.fail("no fused activation on \(c.node.kind)") }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    if e.node.kind == .maximum {
      Elementwise.evaluate(e) { $0 > $1 ? $0 : $1 }
    } else {
      Elementwise.evaluate(e) { $0 < $1 ? $0 : $1 }
    }
  }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let code: OpCode = n.kind == .maximum ? .maximum : .minimum
    // The quantization of the (first) activation input; the importers put
    // constants second.
    let k = q.g.tensors[n.inputs[0]].isConstant ? 1 : 0
    let (_, xq) = q.input(n, k)
    let other = 1 - k
    if let values = q.g.tensors[n.inputs[other]].data {
      let lo = Float(-128 - xq.zeroPoint) * xq.scale, hi = Float(127 - xq.zeroPoint) * xq.scale
      let tol = xq.scale / 2
      if let v = values.first(where: { $0 < lo - tol || $0 > hi + tol }) {
        throw FloatGraphError.unsupported(
          "\(n.origin): \(n.kind) with constant \(v) outside the input's quantized range [\(lo), \(hi)] (inputs and output share one quantization)")
      }
    } else if q.quant[n.inputs[other]] != xq {
      throw FloatGraphError.unsupported(
        "\(n.origin): \(n.kind) of two activations with different quantizations (scale/zero point \(xq.scale)/\(xq.zeroPoint) "
          + "and \(q.quant[n.inputs[other]]!.scale)/\(q.quant[n.inputs[other]]!.zeroPoint)); the int8 op needs one shared quantization")
    }
    let (a, _) = try Elementwise.operand(n, 0, &q, fixed: xq)
    let (b, _) = try Elementwise.operand(n, 1, &q, fixed: xq)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.addWithNewOutput(code, [a, b], OpOptions(), scale: xq.scale, zeroPoint: xq.zeroPoint, name: name)
    }
    return (out, xq)
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.noActivation()
    return try Elementwise.inferOutputShape(c)
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    let out = c.tensor(output)
    for i in 0..<2 {
      let t = c.tensor(c.inputs[i]!)
      guard t.scales == out.scales, t.zeroPoint == out.zeroPoint else {
        throw ModelBuilderError.invalidQuantization(
          "\(c.opName): input \(c.label(c.inputs[i]!)) and output \(c.label(output)) must share one scale and zero point")
      }
    }
  }
}

extension ModelBuilder {
  /// max(a, b) (broadcasting); output quantization = the inputs' (which must agree).
  @discardableResult
  public mutating func maximum(_ a: TensorID, _ b: TensorID, name: String? = nil) throws -> TensorID {
    try elementwiseSameQuant(.maximum, a, b, name: name)
  }

  /// min(a, b) (broadcasting); output quantization = the inputs' (which must agree).
  @discardableResult
  public mutating func minimum(_ a: TensorID, _ b: TensorID, name: String? = nil) throws -> TensorID {
    try elementwiseSameQuant(.minimum, a, b, name: name)
  }

  private mutating func elementwiseSameQuant(_ code: OpCode, _ a: TensorID, _ b: TensorID, name: String?) throws -> TensorID {
    try checkIndex(a, "input of \(code)")
    let t = tensors[a.index]
    guard let s = t.scales.first else { throw ModelBuilderError.invalidOp("\(code): input \(label(a)) has no quantization") }
    return try addWithNewOutput(code, [a, b], OpOptions(), scale: s, zeroPoint: t.zeroPoint, name: name)
  }
}
