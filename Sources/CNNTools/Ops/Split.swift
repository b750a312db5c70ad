// Split, tools side: TFLite SPLIT, SPLIT_V and UNPACK (int8: the runtime's
// several-output Split op), ONNX Split (one strided-slice node per output:
// the float graph has single-output nodes) and the builder's rules (axis in
// the record's `extra`; each output the input's rank, or one less for
// UNPACK; the sizes add up to the input's). The float TFLite importer
// refuses several-output operators.

import CNNRuntime

enum SplitOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = []
  static let opCodes: [OpCode] = [.split]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.split, TFLiteBuiltinOperator.splitV, TFLiteBuiltinOperator.unpack]
  static let onnxOpTypes = ["Split"]
  static let multipleOutputs = true
  static let acceptsAxis = true

  static func checkShapes(_ c: FloatNodeCheck) throws { throw c.fail("split is not a float graph node") }
  static func evaluateFloat(_ e: FloatEvaluation) {}

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    let B = TFLiteBuiltinOperator.self
    let n = op.op.outputs.count
    let inputIndex = op.code == B.split ? 1 : 0
    guard op.op.inputs.count == (op.code == B.split ? 2 : op.code == B.splitV ? 3 : 1) else {
      throw TFLiteError.invalidModel("\(op.ctx): \(op.op.inputs.count) inputs")
    }
    let x = try im.activationInput(try op.input(inputIndex), op.ctx)
    let shape = im.builder.tensors[x.index].shape
    let r = shape.count
    var axis: Int
    var sizes: [Int]
    if op.code == B.unpack {
      guard case .unpack(let num, let a) = op.options else { throw op.wrongOptions() }
      axis = a < 0 ? a + r : a
      guard axis >= 0, axis < r, num == n, shape[axis] == n else {
        throw TFLiteError.invalidModel("\(op.ctx): unpack of \(shape) along axis \(a) into \(num) (\(n) outputs)")
      }
      sizes = [Int](repeating: 1, count: n)
    } else {
      guard case .split(let num) = op.options else { throw op.wrongOptions() }
      let axes = try im.intConstant(try op.input(op.code == B.split ? 0 : 2), "axis", op.ctx)
      guard axes.count == 1 else { throw TFLiteError.invalidModel("\(op.ctx): axis \(axes) is not a scalar") }
      axis = axes[0] < 0 ? axes[0] + r : axes[0]
      guard axis >= 0, axis < r, num == n else {
        throw TFLiteError.invalidModel("\(op.ctx): axis \(axes[0]) of \(shape), num_splits \(num), \(n) outputs")
      }
      if op.code == B.split {
        guard shape[axis] % n == 0 else {
          throw TFLiteError.invalidModel("\(op.ctx): \(n) splits do not divide dimension \(axis) of \(shape)")
        }
        sizes = [Int](repeating: shape[axis] / n, count: n)
      } else {
        sizes = try im.intConstant(try op.input(1), "size_splits", op.ctx)
        guard sizes.count == n, sizes.filter({ $0 == -1 }).count <= 1, sizes.allSatisfy({ $0 == -1 || $0 >= 0 }) else {
          throw TFLiteError.invalidModel("\(op.ctx): size_splits \(sizes) for \(n) outputs")
        }
        if let m = sizes.firstIndex(of: -1) { sizes[m] = shape[axis] - sizes.filter { $0 != -1 }.reduce(0, +) }
        guard sizes.reduce(0, +) == shape[axis], sizes.allSatisfy({ $0 >= 1 }) else {
          throw TFLiteError.unsupported("\(op.ctx): size_splits \(sizes) do not add up to dimension \(axis) of \(shape) (or are 0)")
        }
      }
    }
    var outs: [TensorID] = []
    for t in op.op.outputs {
      if im.map[t] != nil { throw TFLiteError.invalidModel("\(op.ctx): output \(im.describe(t)) is already written") }
      outs.append(try im.newActivation(t, context: "\(op.ctx) output"))
    }
    _ = sizes  // the output shapes carry the sizes; checked by the builder
    try TFLiteInt8Importer.wrap(op.ctx) { try im.builder.addOp(.split, inputs: [x], outputs: outs, options: OpOptions(axis: axis)) }
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let s = x.onnxShape, r = s.count
    var axis = try n.a.int("axis", 0)
    if axis < 0 { axis += r }
    guard axis >= 0, axis < r else { throw n.invalid("axis \(axis) of \(s)") }
    let outNames = n.proto.output
    var sizes: [Int]
    if im.opset >= 13, let c = try im.optionalConstant(n, 1) {
      sizes = try c.integers(n.ctx)
    } else if im.opset < 13, let sp = try n.a.ints("split") {
      sizes = sp
    } else {
      let parts = outNames.count
      guard parts >= 1 else { throw n.invalid("no outputs") }
      let chunk = (s[axis] + parts - 1) / parts
      sizes = (0..<parts).map { max(0, min(chunk, s[axis] - $0 * chunk)) }
    }
    guard sizes.count == outNames.count, sizes.allSatisfy({ $0 >= 1 }), sizes.reduce(0, +) == s[axis] else {
      throw n.invalid("split sizes \(sizes) of dimension \(axis) of \(s) into \(outNames.count) outputs")
    }
    guard let stored = ShapeSupport.storedAxis(axis, x.layout) else { throw n.unsupported("Split of a flattened NCHW tensor") }
    let storedShape = im.tensors[x.tensor].shape
    var offset = 0
    for (k, name) in outNames.enumerated() {
      defer { offset += sizes[k] }
      if name.isEmpty || im.readers[name] == nil { continue }
      var params: [Int] = []
      for d in storedShape.indices {
        params += d == stored ? [offset, 1, sizes[k]] : [0, 1, storedShape[d]]
      }
      var shape = s
      shape[axis] = sizes[k]
      let part = ONNXNode(proto: n.proto, name: n.name, ctx: n.ctx, a: n.a, outName: name)
      let out = try im.output(part, shape, x.layout)
      var nd = part.node(.stridedSlice, [x.tensor], out)
      nd.ints = params
      im.emit(nd)
    }
  }

  // MARK: Model builder

  static func checkOutputs(_ c: BuilderOpCheck, outputs: [TensorID]) throws {
    try c.expectInputs(1)
    try c.checkPlain(); try c.noActivation()
    let x = try c.int8Activation(0, "input")
    let r = x.shape.count, axis = c.o.axis
    guard axis >= 0, axis < r else { throw ModelBuilderError.invalidOp("\(c.opName): axis \(axis) outside rank \(r)") }
    var total = 0
    for id in outputs {
      let o = c.tensor(id)
      var rest = x.shape
      rest.remove(at: axis)
      if o.shape.count == r {
        var d = o.shape
        d.remove(at: axis)
        guard d == rest else {
          throw ModelBuilderError.shapeMismatch("\(c.opName): output \(c.label(id)) \(o.shape) must match \(x.shape) except along axis \(axis)")
        }
        total += o.shape[axis]
      } else if o.shape == rest {
        total += 1
      } else {
        throw ModelBuilderError.shapeMismatch("\(c.opName): output \(c.label(id)) \(o.shape) is no part of \(x.shape) along axis \(axis)")
      }
      try c.sameQuant(id)
    }
    guard total == x.shape[axis] else {
      throw ModelBuilderError.shapeMismatch("\(c.opName): output sizes along axis \(axis) add up to \(total), the input has \(x.shape[axis])")
    }
  }

  /// Split: the axis in the record's `extra`.
  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) {
    r.extra = UInt32(o.axis)
  }
}

extension ModelBuilder {
  /// Splits `input` along `axis` into parts of `sizes` (adding up to the
  /// dimension); with `unpack`, each part (size 1) loses the axis.
  @discardableResult
  public mutating func split(_ input: TensorID, axis: Int, sizes: [Int], unpack: Bool = false,
                             names: [String?]? = nil) throws -> [TensorID] {
    let x = try tensor(input)
    guard axis >= 0, axis < x.shape.count else {
      throw ModelBuilderError.invalidOp("split of \(label(input)) \(x.shape): axis \(axis) outside the rank")
    }
    var outs: [TensorID] = []
    for (k, n) in sizes.enumerated() {
      var shape = x.shape
      if unpack { shape.remove(at: axis) } else { shape[axis] = n }
      outs.append(try addActivation(shape: shape.isEmpty ? [1] : shape, scale: x.scales.first ?? 0, zeroPoint: x.zeroPoint,
                                    name: names?[k]))
    }
    try addOp(.split, inputs: [input], outputs: outs, options: OpOptions(axis: axis))
    return outs
  }
}
