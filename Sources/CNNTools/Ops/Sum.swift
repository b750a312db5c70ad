// Sum, tools side: TFLite SUM (int8 and float; constant axes, keep_dims or
// not), ONNX ReduceSum (constant axes), float evaluation, quantization
// (calibrated output; TFLM's QuantizedMeanOrSum rescale without the 1/n)
// and the builder's rules. The shared reduction parts are `Reduction`
// (Ops/Mean.swift).

import CNNRuntime

extension FloatGraph.Kind {
  /// Sum over `Node.ints` (ascending axes); output keep_dims or the axes removed.
  public static let sum = Self("sum")
}

enum SumOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.sum]
  static let opCodes: [OpCode] = [.sum]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.sum]
  static let onnxOpTypes = ["ReduceSum"]
  static let calibratesOutput = true

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try Reduction.importTFLite(op, &im, .sum)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    try Reduction.importTFLiteFloat(op, &im, .sum)
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    try Reduction.importONNX(n, &im, .sum)
  }

  static func checkShapes(_ c: FloatNodeCheck) throws { try Reduction.checkShapes(c) }

  static func evaluateFloat(_ e: FloatEvaluation) { Reduction.evaluate(e, initial: 0, +) }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, _) = q.input(n)
    let oq = try q.own(n.output)
    let keep = Reduction.keepDims(n, q.g)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.sum(x, axes: n.ints, keepDims: keep, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] { try MeanOp.inferOutputShape(c, adjacent: false) }

  /// keep_dims or the reduced axes removed; any quantization whose rescale the runtime can represent.
  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    let (x, out, count) = try MeanOp.checkReducedShape(c, output: output, expected: expected, adjacent: false)
    let p = prepareSum(inputScale: x.scales[0], inputZeroPoint: x.zeroPoint, outputScale: out.scales[0],
                       outputZeroPoint: out.zeroPoint, count: count)
    guard p.shift <= 31 else {
      throw ModelBuilderError.invalidQuantization(
        "\(c.opName): input scale / output scale (\(x.scales[0]) / \(out.scales[0])) too large: the rescale shift \(p.shift) exceeds 31")
    }
  }

  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) { MeanOp.encode(o, code, into: &r) }
}

extension ModelBuilder {
  /// TFLite SUM over `axes` (any distinct axes of a rank 1–5 input), the
  /// reduced axes kept as 1s (`keepDims`) or removed, requantized to the
  /// given output quantization with TFLM's arithmetic.
  @discardableResult
  public mutating func sum(_ input: TensorID, axes: [Int], keepDims: Bool, outputScale: Float, outputZeroPoint: Int32,
                           name: String? = nil) throws -> TensorID {
    try reduce(.sum, input, axes: axes, keepDims: keepDims, outputScale: outputScale, outputZeroPoint: outputZeroPoint,
               name: name)
  }
}
