// FullyConnected, tools side: TFLite FULLY_CONNECTED (int8: per-tensor
// asymmetric or per-channel weights; float), ONNX Gemm / MatMul (weights
// rearranged to [units, depth]; columns permuted after a flattened NCHW
// tensor), float evaluation, quantization and the builder's shape rules.

import CNNRuntime

extension FloatGraph.Kind {
  /// inputs: x (flattened to [batches, depth]), weights [units, depth], bias [units]?
  public static let fullyConnected = Self("fullyConnected")
}

enum FullyConnectedOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.fullyConnected]
  static let opCodes: [OpCode] = [.fullyConnected]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.fullyConnected]
  static let onnxOpTypes = ["Gemm", "MatMul"]
  static let acceptsFusedActivation = true
  static let calibratesOutput = true

  static func weightChannelAxis(_ kind: FloatGraph.Kind) -> Int? { 0 }

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 2...3)
    guard case .fullyConnected(let fc) = op.options else { throw op.wrongOptions() }
    guard fc.weightsFormat == 0 else {
      throw TFLiteError.unsupported("\(op.ctx): weights format \(fc.weightsFormat) (shuffled) is not supported")
    }
    let x = try im.activationInput(try op.input(0), op.ctx)
    let wIndex = try op.input(1)
    let wshape = im.graph.tensors[wIndex].shape
    guard wshape.count == 2 else {
      throw TFLiteError.invalidModel("\(op.ctx): weights \(im.describe(wIndex)) have shape \(wshape), expected [units, depth]")
    }
    let w = try im.weights(wIndex, channelAxis: 0, allowZeroPoint: true, op.ctx)
    let b = try op.optionalInput(2).map { try im.bias($0, count: wshape[0], op.ctx) }
    let out = try im.outputActivation(op.op, op.ctx)
    let o = OpOptions(activation: try im.activation(fc.activation, op.ctx))
    try im.addOp(op, .fullyConnected, [x, w] + (b.map { [$0] } ?? []), out, o)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    guard case .fullyConnected(let fc) = op.options else { throw FloatGraphError.invalidModel("\(op.ctx): missing options") }
    guard fc.weightsFormat == 0 else { throw FloatGraphError.unsupported("\(op.ctx): shuffled weights format") }
    let ins = [try im.input(op, 0), try im.input(op, 1)] + (try im.optionalInput(op, 2).map { [$0] } ?? [])
    guard im.tensors[ins[1]].isConstant else { throw FloatGraphError.unsupported("\(op.ctx): non-constant weights") }
    var node = try im.node(op, .fullyConnected, ins)
    node.activation = try im.act(fc.activation, op.ctx)
    return node
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    guard x.onnxShape.count == 2 else { throw n.unsupported("input must be 2-D, got \(x.onnxShape)") }
    let b = try im.constant(n, 1)
    guard b.dims.count == 2 else { throw n.unsupported("weights must be a 2-D constant, got \(b.dims)") }
    let isGemm = n.opType == "Gemm"
    if isGemm, try n.a.int("transA", 0) != 0 { throw n.unsupported("transA = 1") }
    let transB = isGemm ? try n.a.int("transB", 0) != 0 : false
    let alpha = isGemm ? try n.a.float("alpha", 1) : 1
    let beta = isGemm ? try n.a.float("beta", 1) : 1
    let (units, depth) = transB ? (b.dims[0], b.dims[1]) : (b.dims[1], b.dims[0])
    guard depth == x.onnxShape[1], units >= 1 else { throw n.invalid("weights \(b.dims) do not match input \(x.onnxShape)") }
    // FloatGraph weights [units, depth]; the depth index follows the
    // input's stored element order.
    var colMap = Array(0..<depth)  // stored column → ONNX column
    if case .flattenedNHWC(let c, let h, let w) = x.layout {
      for cc in 0..<c { for hh in 0..<h { for ww in 0..<w { colMap[(hh * w + ww) * c + cc] = (cc * h + hh) * w + ww } } }
    }
    var wts = [Float](repeating: 0, count: units * depth)
    for u in 0..<units {
      for k in 0..<depth {
        let j = colMap[k]
        wts[u * depth + k] = alpha * (transB ? b.floats[u * depth + j] : b.floats[j * units + u])
      }
    }
    var fixed: FloatGraph.FixedQuantization? = nil
    if let q = b.quant, alpha == 1 {
      let unitAxis = transB ? 0 : 1
      if q.axis == nil || q.axis == unitAxis {
        fixed = .init(scales: q.scales, zeroPoints: q.int8ZeroPoints, axis: q.axis == nil ? nil : 0)
      }
    }
    let wt = im.addTensor(try im.inputName(n, 1), [units, depth], data: wts, fixed: fixed)
    var ins = [x.tensor, wt]
    if isGemm, let c = try im.optionalConstant(n, 2) {
      guard c.count == units || c.count == 1, c.dims.reduce(1, *) == c.count,
            c.dims.dropLast().allSatisfy({ $0 == 1 }) else {
        throw n.unsupported("C of shape \(c.dims) (only a bias of \(units) values or a scalar)")
      }
      let bv = (0..<units).map { beta * c.floats[c.count == 1 ? 0 : $0] }
      ins.append(im.addTensor(try im.inputName(n, 2), [units], data: bv, fixed: beta == 1 && c.count == units ? im.biasFixed(c) : nil))
    }
    let out = try im.output(n, [x.onnxShape[0], units], .plain)
    im.emit(n.node(.fullyConnected, ins, out))
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let n = c.node, x = c.x, out = c.out
    guard n.inputs.count >= 2, let w = c.tensor(1).data, c.tensor(1).shape.count == 2 else {
      throw c.fail("weights must be a constant [units, depth] tensor")
    }
    let units = c.tensor(1).shape[0], depth = c.tensor(1).shape[1]
    _ = w
    let count = x.reduce(1, *)
    guard depth > 0, count % depth == 0, out.reduce(1, *) == count / depth * units, out.last == units else {
      throw c.fail("input \(x) / output \(out) do not match weights [\(units), \(depth)]")
    }
    if n.inputs.count > 2 {
      guard let b = c.tensor(2).data, b.count == units else { throw c.fail("bias must be \(units) constants") }
    }
  }

  /// Weights transposed to [depth][units] (the inner loop is an axpy over units).
  static func prepareFloat(_ n: FloatGraph.Node, _ graph: FloatGraph) -> (packed: [Float], bias: [Float]) {
    let w = graph.tensors[n.inputs[1]]
    let (units, depth) = (w.shape[0], w.shape[1])
    var p = [Float](repeating: 0, count: units * depth)
    let d = w.data!
    for u in 0..<units { for k in 0..<depth { p[k * units + u] = d[u * depth + k] } }
    let b = n.inputs.count > 2 ? graph.tensors[n.inputs[2]].data! : [Float](repeating: 0, count: units)
    return (p, b)
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let units = e.graph.tensors[e.node.inputs[1]].shape[0]
    fullyConnected(e.x, e.packed, e.bias, units: units, e.out, e.node.activation)
  }

  @_optimize(speed)
  static func fullyConnected(_ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
                             _ b: UnsafeBufferPointer<Float>, units: Int,
                             _ out: UnsafeMutableBufferPointer<Float>, _ a: FloatGraph.Activation) {
    let batches = out.count / units
    let depth = x.count / batches
    let xp = x.baseAddress!, wp = w.baseAddress!, op = out.baseAddress!
    for bi in 0..<batches {
      let acc = op + bi * units
      for u in 0..<units { acc[u] = b[u] }
      for k in 0..<depth {
        let v = xp[bi * depth + k]
        let wrow = wp + k * units
        for u in 0..<units { acc[u] += v * wrow[u] }
      }
    }
    FloatExecutor.applyActivation(out, a)
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    try q.weightedOp(n, .fullyConnected, padding: .valid)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    let opName = c.opName
    guard c.inputs.count == 2 || c.inputs.count == 3 else {
      throw ModelBuilderError.invalidOp("\(opName): expects input, weights and optional bias")
    }
    try c.checkPlain()
    let x = try c.int8Activation(0, "input")
    let f = try c.required(1, "weights")
    guard f.isConstant, f.elementType == .int8, f.shape.count == 2, f.quantKind != .none,
          f.zeroPoint == 0 || f.quantKind == .perTensor else {
      throw ModelBuilderError.invalidOp(
        "\(opName): weights must be a constant int8 [units, depth] tensor (zero point 0 when per-channel)")
    }
    if f.quantKind == .perChannel, f.quantAxis != 0 {
      throw ModelBuilderError.invalidQuantization("\(opName): per-channel weight scales must be on axis 0 (units)")
    }
    let units = f.shape[0], depth = f.shape[1]
    guard x.elementCount % depth == 0 else {
      throw ModelBuilderError.shapeMismatch("\(opName): input \(x.shape) has \(x.elementCount) elements, not a multiple of depth \(depth)")
    }
    try c.checkBias(count: units)
    return [x.elementCount / depth, units]
  }

  /// [batches, units] or any shape with that element count ending in units (keep_num_dims).
  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    let out = c.tensor(output)
    guard out.elementCount == expected[0] * expected[1], out.shape.last == expected[1] else {
      throw ModelBuilderError.shapeMismatch("\(c.opName): output \(c.label(output)) is \(out.shape), expected \(expected)")
    }
  }
}

extension ModelBuilder {
  /// Output shape [batches, units].
  @discardableResult
  public mutating func fullyConnected(_ input: TensorID, weights: TensorID, bias: TensorID?,
                                      activation: FusedActivation = .none, outputScale: Float, outputZeroPoint: Int32,
                                      name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.fullyConnected, [input, weights, bias], OpOptions(activation: activation),
                         scale: outputScale, zeroPoint: outputZeroPoint, name: name)
  }
}
