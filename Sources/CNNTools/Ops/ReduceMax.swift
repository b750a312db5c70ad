// ReduceMax, tools side: TFLite REDUCE_MAX (int8 and float; constant axes,
// keep_dims or not), ONNX ReduceMax (constant axes), float evaluation,
// quantization (output = input's, as TFLM requires) and the builder's
// rules. The shared reduction parts are `Reduction` (Ops/Mean.swift).

import CNNRuntime

extension FloatGraph.Kind {
  /// Maximum over `Node.ints` (ascending axes); output keep_dims or the axes removed.
  public static let reduceMax = Self("reduceMax")
}

enum ReduceMaxOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.reduceMax]
  static let opCodes: [OpCode] = [.reduceMax]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.reduceMax]
  static let onnxOpTypes = ["ReduceMax"]
  static let sharesInputQuantization = true

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try Reduction.importTFLite(op, &im, .reduceMax)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    try Reduction.importTFLiteFloat(op, &im, .reduceMax)
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    try Reduction.importONNX(n, &im, .reduceMax)
  }

  static func checkShapes(_ c: FloatNodeCheck) throws { try Reduction.checkShapes(c) }

  static func evaluateFloat(_ e: FloatEvaluation) { Reduction.evaluate(e, initial: -.infinity) { $1 > $0 ? $1 : $0 } }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let keep = Reduction.keepDims(n, q.g)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) { try q.b.reduceMax(x, axes: n.ints, keepDims: keep, name: name) }
    return (out, xq)
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] { try MeanOp.inferOutputShape(c, adjacent: false) }

  /// keep_dims or the reduced axes removed; the input's scale and zero point.
  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    _ = try MeanOp.checkReducedShape(c, output: output, expected: expected, adjacent: false)
    try c.sameQuant(output)
  }

  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) { MeanOp.encode(o, code, into: &r) }
}

extension ModelBuilder {
  /// TFLite REDUCE_MAX over `axes` (any distinct axes of a rank 1–5 input),
  /// the reduced axes kept as 1s (`keepDims`) or removed; the output has
  /// the input's quantization.
  @discardableResult
  public mutating func reduceMax(_ input: TensorID, axes: [Int], keepDims: Bool, name: String? = nil) throws -> TensorID {
    let x = try tensor(input)
    return try reduce(.reduceMax, input, axes: axes, keepDims: keepDims, outputScale: x.scales.first ?? 0,
                      outputZeroPoint: x.zeroPoint, name: name)
  }
}
