// Mean over H and W, tools side: TFLite MEAN with axes [1, 2] of a 4-D
// tensor (int8 and float), ONNX GlobalAveragePool, float evaluation,
// quantization (calibrated output; TFLM's QuantizedMeanOrSum rescale) and
// the builder's rules (keep_dims or not; the rescale shift must fit).

import CNNRuntime

extension FloatGraph.Kind {
  /// Mean over H and W of [N,H,W,C]: [N,1,1,C] (keepDims) or [N,C].
  public static let meanHW = Self("meanHW")
}

enum MeanOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.meanHW]
  static let opCodes: [OpCode] = [.mean]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.mean]
  static let onnxOpTypes = ["GlobalAveragePool"]
  static let calibratesOutput = true

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 2...2)
    let x = try im.activationInput(try op.input(0), op.ctx)
    let xshape = im.builder.tensors[x.index].shape
    guard xshape.count == 4 else {
      throw TFLiteError.unsupported("\(op.ctx): MEAN of a rank-\(xshape.count) tensor (only rank 4 over axes [1, 2])")
    }
    let axes = try im.intConstant(try op.input(1), "axis", op.ctx).map { $0 < 0 ? $0 + 4 : $0 }
    guard Set(axes) == [1, 2], axes.count == 2 else {
      throw TFLiteError.unsupported("\(op.ctx): MEAN over axes \(axes) (only [1, 2] on a 4-D tensor)")
    }
    let out = try im.outputActivation(op.op, op.ctx)
    if case .reducer(let keep) = op.options {
      let oshape = im.builder.tensors[out.index].shape
      guard (oshape.count == 4) == keep else {
        throw TFLiteError.invalidModel("\(op.ctx): keep_dims is \(keep) but the output shape is \(oshape)")
      }
    }
    try im.addOp(op, .mean, [x], out)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    let x = try im.input(op, 0)
    let axes = try im.intValues(op.op.inputs[1], op.ctx).map { $0 < 0 ? $0 + 4 : $0 }
    guard im.tensors[x].shape.count == 4, Set(axes) == [1, 2], axes.count == 2 else {
      throw FloatGraphError.unsupported("\(op.ctx): MEAN over axes \(axes) of \(im.tensors[x].shape) (only [1, 2] of 4-D)")
    }
    return try im.node(op, .meanHW, [x])
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    try im.require4D(n, x)
    let (N, C) = (x.onnxShape[0], x.onnxShape[1])
    im.emit(n.node(.meanHW, [x.tensor], try im.output(n, [N, C, 1, 1], .nhwc)))
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let x = c.x, out = c.out
    guard x.count == 4, out.reduce(1, *) == x[0] * x[3], out.last == x[3] else { throw c.fail("mean of \(x) to \(out)") }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let x = e.x, out = e.out, xShape = e.xShape
    let (batches, hw, c) = (xShape[0], xShape[1] * xShape[2], xShape[3])
    for bi in 0..<batches {
      for ch in 0..<c { out[bi * c + ch] = 0 }
      for p in 0..<hw { for ch in 0..<c { out[bi * c + ch] += x[(bi * hw + p) * c + ch] } }
      for ch in 0..<c { out[bi * c + ch] /= Float(hw) }
    }
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, _) = q.input(n)
    let oq = try q.own(n.output)
    let keepDims = q.g.tensors[n.output].shape.count == 4
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.mean(x, keepDims: keepDims, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }

  // MARK: Model builder

  /// The keep_dims shape; `checkOutput` also accepts [N, C] (keep_dims false).
  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(1)
    try c.checkPlain(); try c.noActivation()
    let x = try c.int8Activation(0, "input")
    try c.checkNHWC(x)
    return [x.shape[0], 1, 1, x.shape[3]]
  }

  /// [N, 1, 1, C] (keep_dims) or [N, C]; any quantization whose rescale the runtime can represent.
  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    let opName = c.opName
    let out = c.tensor(output), x = c.tensor(c.inputs[0]!)
    guard out.shape == expected || out.shape == [expected[0], expected[3]] else {
      throw ModelBuilderError.shapeMismatch(
        "\(opName): output \(c.label(output)) is \(out.shape), expected \(expected) or \([expected[0], expected[3]])")
    }
    let p = prepareMean(inputScale: x.scales[0], inputZeroPoint: x.zeroPoint, outputScale: out.scales[0],
                        outputZeroPoint: out.zeroPoint, count: x.shape[1] * x.shape[2])
    guard p.shift <= 31 else {
      throw ModelBuilderError.invalidQuantization(
        "\(opName): input scale / output scale (\(x.scales[0]) / \(out.scales[0])) too large: the mean's rescale shift \(p.shift) exceeds 31")
    }
  }
}

extension ModelBuilder {
  /// TFLite MEAN over H and W (axes [1, 2]): [N,H,W,C] → [N,1,1,C] (`keepDims`)
  /// or [N,C], requantized to the given output quantization with TFLM's
  /// arithmetic (no fused activation).
  @discardableResult
  public mutating func mean(_ input: TensorID, keepDims: Bool = true, outputScale: Float, outputZeroPoint: Int32,
                            name: String? = nil) throws -> TensorID {
    let expected = try inferOutputShape(.mean, inputs: [input], options: OpOptions())
    let shape = keepDims ? expected : [expected[0], expected[3]]
    return try addWithNewOutput(.mean, [input], OpOptions(), scale: outputScale, zeroPoint: outputZeroPoint, name: name,
                                shape: shape)
  }
}
