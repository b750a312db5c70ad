// Gather, tools side: TFLite GATHER (batch_dims 0, constant indices; int8
// and float), ONNX Gather of an activation with constant indices (negative
// indices count from the end; NCHW axes mapped to the NHWC storage), float
// evaluation, quantization (output = input's) and the builder's rules
// (indices as constant int32 input 1, axis in the record's `extra`).

import CNNRuntime

extension FloatGraph.Kind {
  /// Gather (`Node.ints`: the axis, then the indices).
  public static let gather = Self("gather")
}

enum GatherOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.gather]
  /// Byte moves: the output has the input's quantization (tied through concatenations).
  static let sharesInputQuantization = true
  static let opCodes: [OpCode] = [.gather]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.gather]
  static let onnxOpTypes = ["Gather"]
  static let acceptsAxis = true

  static func options(_ op: TFLiteNode, rank: Int) throws -> Int {
    guard case .gather(let a, let batchDims) = op.options else { throw op.wrongOptions() }
    guard batchDims == 0 else { throw TFLiteError.unsupported("\(op.ctx): batch_dims \(batchDims) (only 0)") }
    let axis = a < 0 ? a + rank : a
    guard axis >= 0, axis < rank else { throw TFLiteError.invalidModel("\(op.ctx): axis \(a) of rank \(rank)") }
    return axis
  }

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 2...2)
    let x = try im.activationInput(try op.input(0), op.ctx)
    let shape = im.builder.tensors[x.index].shape
    let axis = try options(op, rank: shape.count)
    let t = try op.input(1)
    let indices = try im.intConstant(t, "indices", op.ctx)
    guard indices.allSatisfy({ $0 >= 0 && $0 < shape[axis] }) else {
      throw TFLiteError.invalidModel("\(op.ctx): indices \(indices) outside dimension \(axis) of \(shape)")
    }
    let ishape = im.graph.tensors[t].shape
    let out = try im.outputActivation(op.op, op.ctx)
    try TFLiteInt8Importer.wrap(op.ctx) {
      let idx = try im.builder.addConstant(indices.map { Int32($0) }, shape: ishape.isEmpty ? [1] : ishape)
      try im.builder.addOp(.gather, inputs: [x, idx], output: out, options: OpOptions(axis: axis))
    }
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    let x = try im.input(op, 0)
    let shape = im.tensors[x].shape
    let axis = try options(op, rank: shape.count)
    let indices = try im.intValues(op.op.inputs[1], op.ctx)
    guard indices.allSatisfy({ $0 >= 0 && $0 < shape[axis] }) else {
      throw FloatGraphError.invalidModel("\(op.ctx): indices \(indices) outside dimension \(axis) of \(shape)")
    }
    var node = try im.node(op, .gather, [x])
    node.ints = [axis] + indices
    return node
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let s = x.onnxShape
    let c = try im.constant(n, 1)
    var a = try n.a.int("axis", 0)
    if a < 0 { a += s.count }
    guard a >= 0, a < s.count else { throw n.invalid("axis \(a) of \(s)") }
    let indices = try c.integers(n.ctx).map { $0 < 0 ? $0 + s[a] : $0 }
    guard indices.allSatisfy({ $0 >= 0 && $0 < s[a] }) else { throw n.invalid("indices outside dimension \(a) of \(s)") }
    guard c.dims.count == 1 || (c.dims.isEmpty && x.layout == .plain) else {
      throw n.unsupported("Gather with indices of shape \(c.dims) on \(s) (1-D indices, or a scalar on a non-NCHW tensor)")
    }
    guard let stored = ShapeSupport.storedAxis(a, x.layout) else { throw n.unsupported("Gather of a flattened NCHW tensor") }
    var shape = Array(s[..<a]) + c.dims + Array(s[(a + 1)...])
    if shape.isEmpty { shape = [1] }
    var nd = n.node(.gather, [x.tensor], try im.output(n, shape, x.layout))
    nd.ints = [stored] + indices
    im.emit(nd)
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let x = c.x, p = c.node.ints
    guard let axis = p.first, axis >= 0, axis < x.count, p.dropFirst().allSatisfy({ $0 >= 0 && $0 < x[axis] }),
          c.out.reduce(1, *) == x.reduce(1, *) / x[axis] * (p.count - 1) else {
      throw c.fail("gather \(p) of \(x) to \(c.out)")
    }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let axis = e.node.ints[0], idx = e.node.ints.dropFirst()
    let s = e.xShape
    let outer = s[..<axis].reduce(1, *), size = s[axis], inner = s[(axis + 1)...].reduce(1, *)
    var o = 0
    for b in 0..<outer {
      for k in idx {
        for i in 0..<inner { e.out[o] = e.x[(b * size + k) * inner + i]; o += 1 }
      }
    }
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let shape = q.g.tensors[n.output].shape, name = q.name(n.output)
    let p = n.ints
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.gather(x, axis: p[0], indices: Array(p.dropFirst()), outputShape: shape, name: name)
    }
    return (out, xq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(2)
    try c.checkPlain(); try c.noActivation()
    let x = try c.int8Activation(0, "input")
    let axis = c.o.axis
    guard axis >= 0, axis < x.shape.count else { throw ModelBuilderError.invalidOp("\(c.opName): axis \(axis) outside \(x.shape)") }
    let t = try c.required(1, "indices")
    let idx = try StridedSliceOp.int32Parameters(c, 1, count: t.elementCount, "indices")
    guard idx.allSatisfy({ $0 >= 0 && $0 < x.shape[axis] }) else {
      throw ModelBuilderError.shapeMismatch("\(c.opName): indices \(idx) outside dimension \(axis) of \(x.shape)")
    }
    return Array(x.shape[..<axis]) + t.shape + Array(x.shape[(axis + 1)...])
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    let out = c.tensor(output)
    // A scalar index (stored as [1]) drops the axis.
    var dropped = expected
    if c.tensor(c.inputs[1]!).shape == [1] { dropped.remove(at: c.o.axis) }
    guard out.shape == expected || out.shape == dropped else {
      throw ModelBuilderError.shapeMismatch("\(c.opName): output \(c.label(output)) is \(out.shape), expected \(expected)")
    }
    try c.sameQuant(output)
  }

  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) {
    r.extra = UInt32(o.axis)
  }
}

extension ModelBuilder {
  /// Gather along `axis` with constant `indices` (each in [0, dim)):
  /// output input[:axis] + [indices.count] + input[axis+1:], or `outputShape`
  /// (e.g. the axis dropped for a single index).
  @discardableResult
  public mutating func gather(_ input: TensorID, axis: Int, indices: [Int], outputShape: [Int]? = nil,
                              name: String? = nil) throws -> TensorID {
    let x = try tensor(input)
    let idx = try addConstant(indices.map { Int32(clamping: $0) }, shape: [indices.count])
    return try addWithNewOutput(.gather, [input, idx], OpOptions(axis: axis), scale: x.scales.first ?? 0,
                                zeroPoint: x.zeroPoint, name: name, shape: outputShape)
  }
}
