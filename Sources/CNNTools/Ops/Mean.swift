// Mean, tools side: TFLite MEAN over any axes of a rank 1–5 tensor (int8
// and float; axes [1, 2] of a 4-D tensor stay the `meanHW` kind), ONNX
// GlobalAveragePool and ReduceMean (constant axes, keepdims,
// noop_with_empty_axes), float evaluation, quantization (calibrated output;
// TFLM's QuantizedMeanOrSum rescale) and the builder's rules (keep_dims or
// not; the rescale shift must fit). The reductions' shared parts
// (`Reduction`: SUM, REDUCE_MAX and the general MEAN) are at the end.

import CNNRuntime

extension FloatGraph.Kind {
  /// Mean over H and W of [N,H,W,C]: [N,1,1,C] (keepDims) or [N,C].
  public static let meanHW = Self("meanHW")
  /// Mean over `Node.ints` (ascending axes) of a rank 1–5 tensor; output
  /// keep_dims or the axes removed (`Reduction`).
  public static let reduceMean = Self("reduceMean")
}

enum MeanOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.meanHW, .reduceMean]
  static let opCodes: [OpCode] = [.mean]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.mean]
  static let onnxOpTypes = ["GlobalAveragePool", "ReduceMean"]
  static let calibratesOutput = true

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try Reduction.importTFLite(op, &im, .mean)
  }

  /// The bit mask of `axes` (each in 0..<rank, no repeats, adjacent unless
  /// `adjacent` is false), or nil. Bit k = axis k (ranks up to 5: bits 0–4,
  /// `OpRecord.meanAxesMask`).
  static func axisMask(_ axes: [Int], rank: Int, adjacent: Bool = true) -> UInt32? {
    guard !axes.isEmpty, Set(axes).count == axes.count, axes.allSatisfy({ (0..<rank).contains($0) }),
          !adjacent || axes.max()! - axes.min()! == axes.count - 1 else { return nil }
    return axes.reduce(UInt32(0)) { $0 | (1 << UInt32($1)) }
  }

  /// Axes [1, 2] of a 4-D tensor: `meanHW` (as before other axes were
  /// supported); any other axes of a rank 1–5 tensor: `reduceMean`.
  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    let x = try im.input(op, 0)
    let rank = im.tensors[x].shape.count
    let axes = try im.intValues(op.op.inputs[1], op.ctx).map { $0 < 0 ? $0 + rank : $0 }
    if rank == 4, Set(axes) == [1, 2] { return try im.node(op, .meanHW, [x]) }
    return try Reduction.importTFLiteFloat(op, &im, .reduceMean)
  }

  // MARK: ONNX

  /// GlobalAveragePool, and ReduceMean over H and W (axes [2, 3] of a 4-D
  /// NCHW tensor, keepdims 1 → [N, C, 1, 1], keepdims 0 → [N, C]) as
  /// `meanHW`; ReduceMean over other constant axes of a rank 1–5 tensor (and
  /// noop_with_empty_axes) as `Reduction.importONNX` maps it.
  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    var keep = true
    if n.opType == "ReduceMean" {
      let axes = try Reduction.onnxAxes(n, &im)
      let rank = x.onnxShape.count
      let normalized = Set((axes ?? []).map { $0 < 0 ? $0 + rank : $0 })
      guard x.layout == .nhwc, rank == 4, normalized == [2, 3], axes!.count == 2 else {
        return try Reduction.importONNX(n, &im, .reduceMean)
      }
      keep = try n.a.int("keepdims", 1) != 0
    }
    try im.require4D(n, x)
    let (N, C) = (x.onnxShape[0], x.onnxShape[1])
    if keep {
      im.emit(n.node(.meanHW, [x.tensor], try im.output(n, [N, C, 1, 1], .nhwc)))
    } else {
      im.emit(n.node(.meanHW, [x.tensor], try im.output(n, [N, C], .plain)))
    }
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    if c.node.kind == .reduceMean { return try Reduction.checkShapes(c) }
    let x = c.x, out = c.out
    guard x.count == 4, out.reduce(1, *) == x[0] * x[3], out.last == x[3] else { throw c.fail("mean of \(x) to \(out)") }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    if e.node.kind == .reduceMean {
      // The sum over the axes, then / n (n = elements per output), as TFLite's float MEAN.
      Reduction.evaluate(e, initial: 0, +)
      let n = Float(e.x.count / max(e.out.count, 1))
      for i in 0..<e.out.count { e.out[i] /= n }
      return
    }
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
    let name = q.name(n.output)
    if n.kind == .reduceMean {
      let keep = Reduction.keepDims(n, q.g)
      let out = try QuantizerState.wrap(n.origin) {
        try q.b.mean(x, axes: n.ints, keepDims: keep, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
      }
      return (out, oq)
    }
    let keepDims = q.g.tensors[n.output].shape.count == 4
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.mean(x, keepDims: keepDims, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }

  // MARK: Model builder

  /// The reduced axes of a builder op (mask 0 = [1, 2] of a rank-4 input);
  /// MEAN, SUM and REDUCE_MAX (`adjacent` false) take any set of axes.
  static func reducedAxes(_ c: BuilderOpCheck, rank: Int, adjacent: Bool = true) throws -> UInt32 {
    let mask = c.options.meanAxisMask
    if mask == 0 {
      guard rank == 4 else { throw ModelBuilderError.invalidShape("\(c.opName): axes [1, 2] need a rank-4 input") }
      return 0b0110
    }
    let axes = (0..<rank).filter { mask & (1 << UInt32($0)) != 0 }
    guard mask >> UInt32(rank) == 0, axisMask(axes, rank: rank, adjacent: adjacent) == mask else {
      throw ModelBuilderError.invalidOp(
        "\(c.opName): axis mask \(mask) is not a set of \(adjacent ? "adjacent " : "")axes of a rank-\(rank) input")
    }
    return mask
  }

  /// The keep_dims shape; `checkOutput` also accepts it with the reduced axes removed.
  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try inferOutputShape(c, adjacent: false)
  }

  /// MEAN's, SUM's and REDUCE_MAX's output shape with the reduced axes kept as 1s.
  static func inferOutputShape(_ c: BuilderOpCheck, adjacent: Bool) throws -> [Int] {
    try c.expectInputs(1)
    try c.checkPlain(); try c.noActivation()
    let x = try c.int8Activation(0, "input")
    guard (1...ModelFormat.maxRank).contains(x.shape.count) else {
      throw ModelBuilderError.invalidOp("\(c.opName): input must be rank 1 to \(ModelFormat.maxRank)")
    }
    let mask = try reducedAxes(c, rank: x.shape.count, adjacent: adjacent)
    return x.shape.enumerated().map { mask & (1 << UInt32($0.offset)) != 0 ? 1 : $0.element }
  }

  /// keep_dims or the reduced axes removed; any quantization whose rescale the runtime can represent.
  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    let (x, out, count) = try checkReducedShape(c, output: output, expected: expected, adjacent: false)
    let p = prepareMean(inputScale: x.scales[0], inputZeroPoint: x.zeroPoint, outputScale: out.scales[0],
                        outputZeroPoint: out.zeroPoint, count: count)
    guard p.shift <= 31 else {
      throw ModelBuilderError.invalidQuantization(
        "\(c.opName): input scale / output scale (\(x.scales[0]) / \(out.scales[0])) too large: the rescale shift \(p.shift) exceeds 31")
    }
  }

  /// The output of a reduction is `expected` (keep_dims) or that with the
  /// reduced axes removed; returns the input, the output and the number of
  /// elements reduced into each output.
  static func checkReducedShape(_ c: BuilderOpCheck, output: TensorID, expected: [Int], adjacent: Bool) throws
    -> (x: ModelBuilder.Tensor, out: ModelBuilder.Tensor, count: Int) {
    let out = c.tensor(output), x = c.tensor(c.inputs[0]!)
    let mask = try reducedAxes(c, rank: x.shape.count, adjacent: adjacent)
    var dropped = x.shape.enumerated().filter { mask & (1 << UInt32($0.offset)) == 0 }.map(\.element)
    if dropped.isEmpty { dropped = [1] }
    guard out.shape == expected || out.shape == dropped else {
      throw ModelBuilderError.shapeMismatch(
        "\(c.opName): output \(c.label(output)) is \(out.shape), expected \(expected) or \(dropped)")
    }
    let count = x.shape.enumerated().filter { mask & (1 << UInt32($0.offset)) != 0 }.map(\.element).reduce(1, *)
    return (x, out, count)
  }

  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) {
    r.extra = o.meanAxisMask == 0 ? 0 : OpRecord.meanAxesFlag | o.meanAxisMask
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

  /// TFLite MEAN over `axes` (any distinct axes, adjacent or not) of a rank
  /// 1–5 input, the reduced axes kept as 1s (`keepDims`) or removed.
  @discardableResult
  public mutating func mean(_ input: TensorID, axes: [Int], keepDims: Bool, outputScale: Float, outputZeroPoint: Int32,
                            name: String? = nil) throws -> TensorID {
    let rank = tensors[input.index].shape.count
    guard let mask = MeanOp.axisMask(axes, rank: rank, adjacent: false) else {
      throw ModelBuilderError.invalidOp("mean: axes \(axes) are not distinct axes of a rank-\(rank) input")
    }
    var o = OpOptions()
    o.meanAxisMask = rank == 4 && mask == 0b0110 ? 0 : mask
    let expected = try inferOutputShape(.mean, inputs: [input], options: o)
    var shape = keepDims ? expected : expected.enumerated().filter { mask & (1 << UInt32($0.offset)) == 0 }.map(\.element)
    if shape.isEmpty { shape = [1] }
    return try addWithNewOutput(.mean, [input], o, scale: outputScale, zeroPoint: outputZeroPoint, name: name,
                                shape: shape)
  }
}

// MARK: - Reductions over any axes (SUM, REDUCE_MAX, MEAN)

/// What SUM, REDUCE_MAX and the general MEAN (`reduceMean`) share:
/// their TFLite and ONNX mappings, float shapes and evaluation, and the
/// record encoding (MEAN's: `OpOptions.meanAxisMask`). The FloatGraph node
/// keeps its reduced axes (graph layout, ascending) in `Node.ints`; the
/// output shape says keep_dims (same rank) or not.
enum Reduction {
  /// An int8 TFLite MEAN / SUM / REDUCE_MAX (input of rank 1–5, constant
  /// axes; ReducerOptions) → `code` (MEAN over [1, 2] of a rank-4 input
  /// stored as mask 0, as before the other axes were added).
  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer, _ code: OpCode) throws {
    try op.expectIO(inputs: 2...2)
    let x = try im.activationInput(try op.input(0), op.ctx)
    let rank = im.builder.tensors[x.index].shape.count
    let axes = try tfliteAxes(im.intConstant(try op.input(1), "axis", op.ctx), rank: rank, op.ctx)
    guard let mask = MeanOp.axisMask(axes, rank: rank, adjacent: false) else {
      throw TFLiteError.unsupported("\(op.ctx): reduction over axes \(axes) of a rank-\(rank) tensor")
    }
    let out = try im.outputActivation(op.op, op.ctx)
    if case .reducer(let keep) = op.options {
      let oshape = im.builder.tensors[out.index].shape
      guard (oshape.count == rank) == keep || (!keep && rank == 1) else {
        throw TFLiteError.invalidModel("\(op.ctx): keep_dims is \(keep) but the output shape is \(oshape)")
      }
    }
    var o = OpOptions()
    o.meanAxisMask = code == .mean && rank == 4 && mask == 0b0110 ? 0 : mask
    try im.addOp(op, code, [x], out, o)
  }

  /// A float TFLite MEAN / SUM / REDUCE_MAX → a `kind` node.
  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter, _ kind: FloatGraph.Kind) throws
    -> FloatGraph.Node {
    let x = try im.input(op, 0)
    let axes = try tfliteAxes(im.intValues(op.op.inputs[1], op.ctx), rank: im.tensors[x].shape.count, op.ctx)
    var node = try im.node(op, kind, [x])
    node.ints = axes
    return node
  }

  /// TFLite axes (negative from the end, repeats allowed as TFLM's
  /// ResolveAxis allows them), ascending, of a rank 1–5 input.
  private static func tfliteAxes(_ raw: [Int], rank: Int, _ ctx: String) throws -> [Int] {
    guard (1...ModelFormat.maxRank).contains(rank) else {
      throw TFLiteError.unsupported("\(ctx): reduction of a rank-\(rank) tensor (rank 1 to \(ModelFormat.maxRank))")
    }
    guard !raw.isEmpty, raw.allSatisfy({ (-rank..<rank).contains($0) }) else {
      throw TFLiteError.unsupported("\(ctx): reduction over axes \(raw) of a rank-\(rank) tensor")
    }
    return Set(raw.map { $0 < 0 ? $0 + rank : $0 }).sorted()
  }

  /// An ONNX reduction's constant axes: the `axes` attribute (ReduceMean /
  /// ReduceMax up to opset 17), else the optional int64 input 1 (ReduceSum
  /// from 13, the others from 18); nil when absent or empty.
  static func onnxAxes(_ n: ONNXNode, _ im: inout ONNXImporter) throws -> [Int]? {
    var axes: [Int]? = try n.a.ints("axes")
    if axes == nil, let c = try im.optionalConstant(n, 1) {
      guard let v = c.ints else { throw n.invalid("axes must be a constant integer tensor") }
      axes = v.map { Int($0) }
    }
    if let a = axes, a.isEmpty { return nil }
    return axes
  }

  /// ONNX ReduceMean / ReduceSum / ReduceMax of a rank 1–5 tensor with
  /// constant axes (`onnxAxes`) and keepdims. No axes (absent or empty):
  /// with noop_with_empty_axes 1 the output is the input (ONNX: "input
  /// tensor will not be reduced", an alias here, as Identity), with 0 (the
  /// default) every axis is reduced. An NCHW-stored 4-D input is reduced
  /// over the stored axes; without keepdims the kept axes must keep their
  /// order (N and C around one run of H, W — the ONNX and NHWC orders then
  /// agree). Other ranks (rank 5 included) are stored in ONNX order.
  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter, _ kind: FloatGraph.Kind) throws {
    let x = try im.activation(n, 0)
    let s = x.onnxShape, rank = s.count
    let axes = try onnxAxes(n, &im)
    if axes == nil, try n.a.int("noop_with_empty_axes", 0) != 0 {
      im.alias(n, x)
      return
    }
    let raw = axes ?? Array(0..<rank)
    guard (1...ModelFormat.maxRank).contains(rank), raw.allSatisfy({ (-rank..<rank).contains($0) }) else {
      throw n.unsupported("\(n.opType) over axes \(raw) of a rank-\(rank) tensor (rank 1 to \(ModelFormat.maxRank))")
    }
    let onnxAxes = Set(raw.map { $0 < 0 ? $0 + rank : $0 })
    let keep = try n.a.int("keepdims", 1) != 0
    let onnxOut = keep ? s.enumerated().map { onnxAxes.contains($0.offset) ? 1 : $0.element }
                       : s.enumerated().filter { !onnxAxes.contains($0.offset) }.map(\.element)
    var stored = onnxAxes.sorted()
    var layout = ONNXImporter.Layout.plain
    switch x.layout {
    case .plain: break
    case .nhwc:
      stored = onnxAxes.compactMap { ShapeSupport.storedAxis($0, x.layout) }.sorted()
      if keep {
        layout = .nhwc
      } else {
        let keptNHWC = [0, 2, 3, 1].filter { !onnxAxes.contains($0) }
        guard keptNHWC == keptNHWC.sorted() || keptNHWC.count <= 1 else {
          throw n.unsupported("\(n.opType) over axes \(raw) with keepdims 0 of an NCHW tensor (the kept axes would change order)")
        }
      }
    case .flattenedNHWC:
      throw n.unsupported("\(n.opType) of a flattened NCHW tensor")
    }
    let out = try im.output(n, onnxOut.isEmpty ? [1] : onnxOut, layout)
    var node = n.node(kind, [x.tensor], out)
    node.ints = stored
    im.emit(node)
  }

  /// The node's output is its input with `ints` (ascending, in range) set to 1 or removed.
  static func checkShapes(_ c: FloatNodeCheck) throws {
    let x = c.x, axes = c.node.ints
    var dropped = x.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    if dropped.isEmpty { dropped = [1] }
    let kept = x.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    guard (1...ModelFormat.maxRank).contains(x.count), MeanOp.axisMask(axes, rank: x.count, adjacent: false) != nil,
          c.out == kept || c.out == dropped else {
      throw c.fail("\(c.node.kind) over axes \(axes) of \(x) to \(c.out)")
    }
  }

  /// Float reduction: each output the `combine` of its reduced elements, from `initial`.
  static func evaluate(_ e: FloatEvaluation, initial: Float, _ combine: (Float, Float) -> Float) {
    let shape = e.xShape, axes = e.node.ints
    var strides = [Int](repeating: 1, count: shape.count)
    for k in stride(from: shape.count - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * shape[k + 1] }
    let outShape = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    for i in 0..<e.out.count { e.out[i] = initial }
    for i in 0..<e.x.count {
      var o = 0
      for k in 0..<shape.count { o = o * outShape[k] + (axes.contains(k) ? 0 : (i / strides[k]) % shape[k]) }
      e.out[o] = combine(e.out[o], e.x[i])
    }
  }

  /// keep_dims when the node's output has the input's rank (or is rank 1 of a rank-1 input).
  static func keepDims(_ n: FloatGraph.Node, _ g: FloatGraph) -> Bool {
    g.tensors[n.output].shape.count == g.tensors[n.inputs[0]].shape.count
  }
}

extension ModelBuilder {
  /// A SUM or REDUCE_MAX over `axes` (any, no repeats) of a rank 1–5 input,
  /// the reduced axes kept as 1s (`keepDims`) or removed.
  mutating func reduce(_ code: OpCode, _ input: TensorID, axes: [Int], keepDims: Bool, outputScale: Float,
                       outputZeroPoint: Int32, name: String?) throws -> TensorID {
    let rank = tensors[input.index].shape.count
    guard let mask = MeanOp.axisMask(axes, rank: rank, adjacent: false) else {
      throw ModelBuilderError.invalidOp("\(code): axes \(axes) are not distinct axes of a rank-\(rank) input")
    }
    var o = OpOptions()
    o.meanAxisMask = mask
    let expected = try inferOutputShape(code, inputs: [input], options: o)
    var shape = keepDims ? expected : expected.enumerated().filter { mask & (1 << UInt32($0.offset)) == 0 }.map(\.element)
    if shape.isEmpty { shape = [1] }
    return try addWithNewOutput(code, [input], o, scale: outputScale, zeroPoint: outputZeroPoint, name: name, shape: shape)
  }
}
