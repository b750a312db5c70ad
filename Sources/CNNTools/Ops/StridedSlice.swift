// StridedSlice, tools side: TFLite STRIDED_SLICE (TFLM's begin/end/shrink
// masks; ellipsis and new-axis masks and `offset` refused: TFLM ignores
// them) and SLICE (int8 and float), ONNX Slice (constant starts/ends/axes/
// steps, NCHW axes mapped to the NHWC storage), float evaluation,
// quantization (output = input's) and the builder's rules. The resolved
// slice — [first, step, count] per input axis — is the op's constant int32
// input 1 (docs/FORMAT.md).

import CNNRuntime

extension FloatGraph.Kind {
  /// Strided slice (`Node.ints`: [first, step, count] per input axis).
  public static let stridedSlice = Self("stridedSlice")
}

enum StridedSliceOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.stridedSlice]
  /// Byte moves: the output has the input's quantization (tied through concatenations).
  static let sharesInputQuantization = true
  static let opCodes: [OpCode] = [.stridedSlice]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.stridedSlice, TFLiteBuiltinOperator.slice]
  static let onnxOpTypes = ["Slice"]

  // MARK: TFLite

  /// The resolved slice of a TFLite STRIDED_SLICE / SLICE on `shape`.
  static func tfliteSlice(_ op: TFLiteNode, shape: [Int], _ ints: (Int, String) throws -> [Int]) throws -> (params: [Int], outShape: [Int]) {
    let r = shape.count
    if op.code == TFLiteBuiltinOperator.slice {
      let begin = try ints(1, "begin"), size = try ints(2, "size")
      guard begin.count == r, size.count == r else {
        throw TFLiteError.invalidModel("\(op.ctx): begin \(begin) / size \(size) do not have one entry per dimension of \(shape)")
      }
      var params: [Int] = []
      for k in 0..<r {
        let n = size[k] == -1 ? shape[k] - begin[k] : size[k]
        guard begin[k] >= 0, n >= 1, begin[k] + n <= shape[k] else {
          throw TFLiteError.unsupported("\(op.ctx): slice begin \(begin), size \(size) outside the input \(shape)")
        }
        params += [begin[k], 1, n]
      }
      return (params, stride(from: 2, to: params.count, by: 3).map { params[$0] })
    }
    guard case .stridedSlice(let o) = op.options else { throw op.wrongOptions() }
    guard o.ellipsisMask == 0, o.newAxisMask == 0, !o.offset else {
      throw TFLiteError.unsupported("\(op.ctx): ellipsis_mask \(o.ellipsisMask), new_axis_mask \(o.newAxisMask), offset \(o.offset) "
                                      + "(TFLite Micro supports none of them)")
    }
    guard r <= 4 else { throw TFLiteError.unsupported("\(op.ctx): input rank \(r) (TFLite Micro: at most 4)") }
    let begin = try ints(1, "begin"), end = try ints(2, "end"), strides = try ints(3, "strides")
    guard begin.count == r, end.count == r, strides.count == r else {
      throw TFLiteError.invalidModel("\(op.ctx): begin/end/strides do not have one entry per dimension of \(shape)")
    }
    do {
      return try ShapeSupport.resolveStridedSlice(shape: shape, begin: begin, end: end, strides: strides, beginMask: o.beginMask,
                                                  endMask: o.endMask, shrinkMask: o.shrinkAxisMask)
    } catch let e as ModelBuilderError {
      throw TFLiteError.unsupported("\(op.ctx): strided slice of \(shape): \(e)")
    }
  }

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: op.code == TFLiteBuiltinOperator.slice ? 3...3 : 4...4)
    let x = try im.activationInput(try op.input(0), op.ctx)
    let shape = im.builder.tensors[x.index].shape
    let ctx = op.ctx
    let model = im
    let (params, _) = try tfliteSlice(op, shape: shape) { i, role in try model.intConstant(try op.input(i), role, ctx) }
    let out = try im.outputActivation(op.op, op.ctx)
    try TFLiteInt8Importer.wrap(op.ctx) { try im.builder.stridedSlice(x, params: params, into: out) }
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    let x = try im.input(op, 0)
    let model = im
    let (params, _) = try tfliteSlice(op, shape: im.tensors[x].shape) { i, _ in try model.intValues(op.op.inputs[i], op.ctx) }
    var node = try im.node(op, .stridedSlice, [x])
    node.ints = params
    return node
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let s = x.onnxShape, r = s.count
    var starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
    if im.opset >= 10 {
      starts = try im.constant(n, 1).integers(n.ctx)
      ends = try im.constant(n, 2).integers(n.ctx)
      axes = try im.optionalConstant(n, 3)?.integers(n.ctx)
      steps = try im.optionalConstant(n, 4)?.integers(n.ctx)
    } else {
      guard let st = try n.a.ints("starts"), let en = try n.a.ints("ends") else { throw n.invalid("no starts/ends") }
      starts = st; ends = en; axes = try n.a.ints("axes"); steps = nil
    }
    let ax = axes ?? Array(0..<starts.count)
    let stp = steps ?? [Int](repeating: 1, count: starts.count)
    guard ends.count == starts.count, ax.count == starts.count, stp.count == starts.count else {
      throw n.invalid("starts/ends/axes/steps lengths differ")
    }
    // Per ONNX axis: begin, end, step (the whole axis when not listed).
    var begin = [Int](repeating: 0, count: r), end = s, step = [Int](repeating: 1, count: r)
    var listed = Set<Int>()
    for i in ax.indices {
      let a = ax[i] < 0 ? ax[i] + r : ax[i]
      guard a >= 0, a < r, listed.insert(a).inserted else { throw n.invalid("axes \(ax) for rank \(r)") }
      // ONNX clamps like TensorFlow; huge sentinels (INT64_MAX) are clamped here first.
      begin[a] = max(min(starts[i], 1 << 40), -(1 << 40))
      end[a] = max(min(ends[i], 1 << 40), -(1 << 40))
      step[a] = stp[i]
    }
    let resolved: (params: [Int], outShape: [Int])
    do {
      resolved = try ShapeSupport.resolveStridedSlice(shape: s, begin: begin, end: end, strides: step, beginMask: 0, endMask: 0,
                                                     shrinkMask: 0)
    } catch { throw n.unsupported("Slice of \(s): \(error)") }
    // Reorder the ONNX-axis parameters into the stored layout.
    var params = [Int](repeating: 0, count: 3 * r)
    for a in 0..<r {
      guard let j = ShapeSupport.storedAxis(a, x.layout) else { throw n.unsupported("Slice of a flattened NCHW tensor") }
      params[3 * j] = resolved.params[3 * a]; params[3 * j + 1] = resolved.params[3 * a + 1]; params[3 * j + 2] = resolved.params[3 * a + 2]
    }
    let out = try im.output(n, resolved.outShape, x.layout)
    var nd = n.node(.stridedSlice, [x.tensor], out)
    nd.ints = params
    im.emit(nd)
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let x = c.x, p = c.node.ints
    guard p.count == 3 * x.count else { throw c.fail("slice parameters \(p) for \(x)") }
    var counts: [Int] = []
    for k in x.indices {
      let (b, s, n) = (p[3 * k], p[3 * k + 1], p[3 * k + 2])
      guard s != 0, n >= 1, b >= 0, b < x[k], b + (n - 1) * s >= 0, b + (n - 1) * s < x[k] else {
        throw c.fail("slice \(p) outside \(x)")
      }
      counts.append(n)
    }
    guard counts.filter({ $0 != 1 }) == c.out.filter({ $0 != 1 }) else { throw c.fail("slice \(p) of \(x) gives \(counts), not \(c.out)") }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let a = ShapeSupport.sliceAddressing(e.xShape, e.node.ints)
    ShapeSupport.copy(e.x, base: a.base, counts: a.counts, steps: a.steps, e.out)
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let shape = q.g.tensors[n.output].shape, name = q.name(n.output)
    let p = n.ints
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.stridedSlice(x, begin: stride(from: 0, to: p.count, by: 3).map { p[$0] },
                           step: stride(from: 1, to: p.count, by: 3).map { p[$0] },
                           count: stride(from: 2, to: p.count, by: 3).map { p[$0] }, outputShape: shape, name: name)
    }
    return (out, xq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(2)
    try c.checkPlain(); try c.noActivation()
    let x = try c.int8Activation(0, "input")
    let p = try int32Parameters(c, 1, count: 3 * x.shape.count, "slice parameters [rank, 3]")
    var counts: [Int] = []
    for k in x.shape.indices {
      let (b, s, n) = (p[3 * k], p[3 * k + 1], p[3 * k + 2])
      guard s != 0, abs(s) <= ModelBuilder.maxDimension, n >= 1, n <= x.shape[k] else {
        throw ModelBuilderError.invalidOp("\(c.opName): axis \(k): step \(s) must be non-zero, count \(n) 1...\(x.shape[k])")
      }
      let last = b + (n - 1) * s
      guard b >= 0, b < x.shape[k], last >= 0, last < x.shape[k] else {
        throw ModelBuilderError.shapeMismatch("\(c.opName): axis \(k): slice (first \(b), step \(s), count \(n)) outside \(x.shape)")
      }
      counts.append(n)
    }
    return counts
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    let out = c.tensor(output)
    guard out.shape.filter({ $0 != 1 }) == expected.filter({ $0 != 1 }) else {
      throw ModelBuilderError.shapeMismatch("\(c.opName): output \(c.label(output)) is \(out.shape), the slice gives \(expected)")
    }
    try c.sameQuant(output)
  }

  /// The values of constant int32 input `i` (`count` of them).
  static func int32Parameters(_ c: BuilderOpCheck, _ i: Int, count: Int, _ role: String) throws -> [Int] {
    let t = try c.required(i, role)
    guard t.isConstant, t.elementType == .int32, t.elementCount == count, let d = t.data else {
      throw ModelBuilderError.invalidOp("\(c.opName): \(role) must be a constant int32 tensor of \(count) values, got \(t.shape)")
    }
    return (0..<count).map {
      Int(Int32(bitPattern: UInt32(d[4 * $0]) | UInt32(d[4 * $0 + 1]) << 8 | UInt32(d[4 * $0 + 2]) << 16 | UInt32(d[4 * $0 + 3]) << 24))
    }
  }
}

extension ModelBuilder {
  /// Strided slice: along input axis k, `count[k]` elements from `begin[k]`
  /// every `step[k]` (negative steps go backwards; every index inside the
  /// axis). The output shape is the counts, or `outputShape` (the same
  /// dimensions with 1s dropped or added, e.g. TFLite's shrink_axis_mask).
  @discardableResult
  public mutating func stridedSlice(_ input: TensorID, begin: [Int], step: [Int], count: [Int], outputShape: [Int]? = nil,
                                    name: String? = nil) throws -> TensorID {
    let x = try tensor(input)
    guard begin.count == x.shape.count, step.count == x.shape.count, count.count == x.shape.count else {
      throw ModelBuilderError.invalidOp("strided slice of \(label(input)) \(x.shape): one begin/step/count per dimension")
    }
    var p: [Int32] = []
    for k in x.shape.indices {
      guard let b = Int32(exactly: begin[k]), let s = Int32(exactly: step[k]), let n = Int32(exactly: count[k]) else {
        throw ModelBuilderError.invalidOp("strided slice of \(label(input)): parameters outside int32")
      }
      p += [b, s, n]
    }
    let params = try addConstant(p, shape: [x.shape.count, 3])
    return try addWithNewOutput(.stridedSlice, [input, params], OpOptions(), scale: x.scales.first ?? 0, zeroPoint: x.zeroPoint,
                                name: name, shape: outputShape ?? count)
  }

  /// The op of a resolved slice ([first, step, count] per axis) writing `output`.
  mutating func stridedSlice(_ input: TensorID, params: [Int], into output: TensorID) throws {
    let p = params.compactMap { Int32(exactly: $0) }
    guard p.count == params.count, params.count % 3 == 0 else {
      throw ModelBuilderError.invalidOp("strided slice of \(label(input)): parameters outside int32")
    }
    let t = try addConstant(p, shape: [params.count / 3, 3])
    try addOp(.stridedSlice, inputs: [input, t], output: output)
  }
}
