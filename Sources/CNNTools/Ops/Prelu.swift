// PReLU, tools side: TFLite PRELU (int8: alpha a constant int8 tensor with
// per-tensor quantization; float), ONNX PRelu (slope constant: a scalar or one
// value per channel), float evaluation (alpha broadcast, right-aligned),
// quantization (calibrated output; alpha symmetric int8 per tensor) and the
// builder's broadcast rule.

import CNNRuntime

extension FloatGraph.Kind {
  /// inputs: x, alpha (constant, broadcast to x's shape).
  public static let prelu = Self("prelu")
}

enum PreluOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.prelu]
  static let opCodes: [OpCode] = [.prelu]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.prelu]
  static let onnxOpTypes = ["PRelu"]
  static let calibratesOutput = true

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 2...2)
    let x = try im.activationInput(try op.input(0), op.ctx)
    let a = try im.weights(try op.input(1), channelAxis: 0, allowZeroPoint: true, op.ctx)
    let out = try im.outputActivation(op.op, op.ctx)
    try im.addOp(op, .prelu, [x, a], out)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    try im.node(op, .prelu, [try im.input(op, 0), try im.input(op, 1)])
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let slope = try im.constant(n, 1)
    let r = x.onnxShape.count
    guard slope.dims.count <= r else { throw n.invalid("slope \(slope.dims) has a higher rank than the input \(x.onnxShape)") }
    let padded = [Int](repeating: 1, count: r - slope.dims.count) + slope.dims
    for (s, d) in zip(padded, x.onnxShape) where s != 1 && s != d {
      throw n.invalid("slope \(slope.dims) does not broadcast to \(x.onnxShape)")
    }
    let shape: [Int]
    switch x.layout {
    case .nhwc:
      // Only a scalar or per-channel slope ([C, 1, 1], [1, C, 1, 1]) keeps its order in NHWC.
      guard padded[0] == 1, padded[2] == 1, padded[3] == 1 else {
        throw n.unsupported("slope \(slope.dims) on NCHW \(x.onnxShape) (only a scalar or one value per channel)")
      }
      shape = [1, 1, 1, padded[1]]
    case .plain:
      shape = padded
    case .flattenedNHWC:
      guard slope.count == 1 else { throw n.unsupported("slope \(slope.dims) on a flattened tensor (scalar only)") }
      shape = [Int](repeating: 1, count: r)
    }
    let a = im.addTensor("\(n.name)_slope", shape, data: slope.floats)
    let out = try im.output(n, x.onnxShape, x.layout)
    im.emit(n.node(.prelu, [x.tensor, a], out))
  }

  static func checkShapes(_ c: FloatNodeCheck) throws {
    guard c.node.inputs.count == 2, let a = c.tensor(1).data else { throw c.fail("needs an input and a constant alpha") }
    try c.sameElements(reshapes: false)
    let s = c.tensor(1).shape
    guard s.count <= c.x.count, a.count == s.reduce(1, *),
          zip(s.reversed(), c.x.reversed()).allSatisfy({ $0 == 1 || $0 == $1 }) else {
      throw c.fail("alpha \(s) does not broadcast to \(c.x)")
    }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let alpha = e.graph.tensors[e.node.inputs[1]]
    let a = alpha.data!
    let strides = broadcastStrides(alpha.shape, to: e.oShape)
    var idx = [Int](repeating: 0, count: e.oShape.count)
    for k in 0..<e.out.count {
      var ia = 0
      for d in 0..<idx.count { ia += idx[d] * strides[d] }
      let v = e.x[k]
      e.out[k] = v >= 0 ? v : v * a[ia]
      var d = idx.count - 1
      while d >= 0 { idx[d] += 1; if idx[d] < e.oShape[d] { break }; idx[d] = 0; d -= 1 }
    }
  }

  /// Strides of `shape` (right-aligned) in the coordinates of `out`; 0 along broadcast dimensions.
  static func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
    let s = [Int](repeating: 1, count: out.count - shape.count) + shape
    var st = [Int](repeating: 0, count: out.count)
    var m = 1
    for d in stride(from: out.count - 1, through: 0, by: -1) { st[d] = s[d] == 1 ? 0 : m; m *= s[d] }
    return st
  }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, _) = q.input(n)
    let oq = try q.own(n.output)
    let alpha = q.g.tensors[n.inputs[1]]
    let (values, scales) = try Quantizer.quantizeWeights(alpha.data!, shape: alpha.shape, axis: 0, perChannel: false)
    let aName = q.name(n.inputs[1]), name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      let a = try q.b.addConstant(values, shape: alpha.shape, scale: scales[0], name: aName)
      return try q.b.prelu(x, alpha: a, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    let shape = try c.unaryElementwiseShape(inputs: 2)
    let a = try c.required(1, "alpha")
    guard a.isConstant, a.elementType == .int8, a.quantKind == .perTensor else {
      throw ModelBuilderError.invalidOp("\(c.opName): alpha must be a constant int8 tensor with per-tensor quantization")
    }
    guard shape.count <= 4, a.shape.count <= shape.count,
          zip(a.shape.reversed(), shape.reversed()).allSatisfy({ $0 == 1 || $0 == $1 }) else {
      throw ModelBuilderError.shapeMismatch("\(c.opName): alpha \(a.shape) does not broadcast to the input \(shape) (rank <= 4)")
    }
    return shape
  }
}

extension ModelBuilder {
  /// PReLU; `alpha` is a constant int8 tensor (per-tensor quantization)
  /// broadcasting to the input's shape.
  @discardableResult
  public mutating func prelu(_ input: TensorID, alpha: TensorID, outputScale: Float, outputZeroPoint: Int32,
                             name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.prelu, [input, alpha], OpOptions(), scale: outputScale, zeroPoint: outputZeroPoint, name: name)
  }
}
