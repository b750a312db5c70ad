// Reshape, tools side: TFLite RESHAPE / SQUEEZE (int8 and float), ONNX
// Flatten / Reshape (with the NCHW → NHWC layout rules below), float
// evaluation (a copy), quantization (the output shares the input's) and the
// builder's rule (same element count, same quantization).

import CNNRuntime

extension FloatGraph.Kind {
  public static let reshape = Self("reshape")
}

enum ReshapeOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.reshape]
  static let opCodes: [OpCode] = [.reshape]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.reshape, TFLiteBuiltinOperator.squeeze]
  static let onnxOpTypes = ["Flatten", "Reshape"]
  static let sharesInputQuantization = true

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...2)
    try im.addUnaryOp(op, .reshape)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    try im.node(op, .reshape, [try im.input(op, 0)])
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    if n.opType == "Flatten" {
      let x = try im.activation(n, 0)
      var axis = try n.a.int("axis", 1)
      if axis < 0 { axis += x.onnxShape.count }
      guard axis >= 0, axis <= x.onnxShape.count else { throw n.invalid("axis \(axis)") }
      let s = x.onnxShape
      let target = [s[..<axis].reduce(1, *), s[axis...].reduce(1, *)]
      try emitReshape(n, x, to: target, &im)
      return
    }
    let pending = im.pendingShuffle[try im.inputName(n, 0)]
    let x = try pending?.value ?? im.activation(n, 0)
    let inShape = pending?.shape ?? x.onnxShape
    var shape: [Int]
    if im.opset >= 5 {
      shape = try im.constant(n, 1).integers(n.ctx)
    } else {
      guard let s = try n.a.ints("shape") else { throw n.invalid("no shape") }
      shape = s
    }
    let allowZero = try n.a.int("allowzero", 0) != 0
    let total = inShape.reduce(1, *)
    guard shape.count <= 8, shape.filter({ $0 == -1 }).count <= 1 else { throw n.invalid("shape \(shape)") }
    for i in shape.indices where shape[i] == 0 && !allowZero {
      guard i < inShape.count else { throw n.invalid("shape \(shape): 0 beyond the input rank") }
      shape[i] = inShape[i]
    }
    guard shape.allSatisfy({ $0 >= 1 || $0 == -1 }) else { throw n.unsupported("shape \(shape)") }
    if let m = shape.firstIndex(of: -1) {
      guard let known = onnxElementCount(shape.filter { $0 != -1 }), known > 0, total % known == 0 else { throw n.invalid("cannot reshape \(x.onnxShape) to \(shape)") }
      shape[m] = total / known
    }
    guard let c = onnxElementCount(shape), c == total else { throw n.invalid("cannot reshape \(inShape) to \(shape)") }
    let s = x.onnxShape
    if let p = pending {
      // The end of a channel shuffle: output channel j·g + i is input channel i·(C/g) + j.
      guard p.transposed, shape == s else {
        throw n.unsupported("reshape of the rank-5 view \(inShape) to \(shape) (supported only as a channel shuffle back to \(s))")
      }
      let g = p.groups, cpg = s[1] / g
      var nd = n.node(.gather, [x.tensor], try im.output(n, s, .nhwc))
      nd.ints = [3] + (0..<s[1]).map { ($0 % g) * cpg + $0 / g }
      im.emit(nd)
      return
    }
    if x.layout == .nhwc, shape.count == 5, shape[0] == s[0], shape[1] * shape[2] == s[1], shape[3] == s[2], shape[4] == s[3],
       im.soleReader(n.outName) {
      // The start of a channel shuffle (see ONNXImporter.pendingShuffle).
      im.pendingShuffle[n.outName] = (x, shape[1], false, shape)
      return
    }
    try emitReshape(n, x, to: shape, &im)
  }

  /// A reshape node, or an alias when the stored tensor already is the result.
  static func emitReshape(_ n: ONNXNode, _ x: ONNXImporter.Value, to target: [Int], _ im: inout ONNXImporter) throws {
    if let layout = try reshapeLayout(x, to: target, ctx: n.ctx) {
      im.emit(n.node(.reshape, [x.tensor], try im.output(n, target, layout)))
    } else {
      im.alias(n, x)
    }
  }

  /// Flatten / Reshape: the stored layout of the result, or nil when the
  /// shape does not change (the value is aliased). Supported: 4-D NCHW →
  /// [N, C·H·W] (NHWC order kept; the consumer's weights are permuted),
  /// reshapes that keep the element order in both layouts, [N, K] →
  /// [N, K, 1, 1], and a flattened tensor back to its [N, C, H, W].
  static func reshapeLayout(_ x: ONNXImporter.Value, to target: [Int], ctx: String) throws -> ONNXImporter.Layout? {
    let s = x.onnxShape
    if target == s { return nil }
    switch x.layout {
    case .nhwc:
      let (c, h, w) = (s[1], s[2], s[3])
      if target.count == 2 && target[0] == s[0] {
        return c == 1 || h * w == 1 ? .plain : .flattenedNHWC(c: c, h: h, w: w)
      }
      if target.count == 4 && h * w == 1 && target[0] == s[0] && target[2] * target[3] == 1 { return .nhwc }
      if target.count != 4 && h * w == 1 { return .plain }
      throw FloatGraphError.unsupported("\(ctx): reshape of NCHW \(s) to \(target)")
    case .plain:
      if target.count == 4 {
        // [N, C, 1, 1] and [N, 1, H, W] have the same order as NHWC.
        guard target[2] * target[3] == 1 || target[1] == 1 else {
          throw FloatGraphError.unsupported("\(ctx): reshape of \(s) to NCHW \(target)")
        }
        return .nhwc
      }
      return .plain
    case .flattenedNHWC(let c, let h, let w):
      if target.count == 4 && target[0] == s[0] && target[1] == c && target[2] == h && target[3] == w { return .nhwc }
      throw FloatGraphError.unsupported("\(ctx): reshape of a flattened NCHW tensor to \(target)")
    }
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    try c.sameElements(reshapes: true)
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    for k in 0..<e.out.count { e.out[k] = e.x[k] }
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let shape = q.g.tensors[n.output].shape, name = q.name(n.output)
    return (try QuantizerState.wrap(n.origin) { try q.b.reshape(x, to: shape, name: name) }, xq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(1)
    try c.checkPlain(); try c.noActivation()
    return try c.int8Activation(0, "input").shape  // any shape with the same count; checked in checkOutput
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    let out = c.tensor(output), x = c.tensor(c.inputs[0]!)
    guard out.elementCount == x.elementCount else {
      throw ModelBuilderError.shapeMismatch(
        "\(c.opName): output \(out.shape) has \(out.elementCount) elements, input \(x.shape) has \(x.elementCount)")
    }
    try c.sameQuant(output)
  }
}

extension ModelBuilder {
  /// New shape with the same element count; one entry may be -1 (inferred).
  @discardableResult
  public mutating func reshape(_ input: TensorID, to shape: [Int], name: String? = nil) throws -> TensorID {
    let x = try tensor(input)
    var shape = shape
    if let i = shape.firstIndex(of: -1) {
      let known = shape.enumerated().filter { $0.offset != i }.map(\.element)
      let p = known.reduce(1, *)
      guard !known.contains(where: { $0 <= 0 }), p > 0, x.elementCount % p == 0 else {
        throw ModelBuilderError.invalidShape("reshape of \(label(input)) \(x.shape) to \(shape): cannot infer -1")
      }
      shape[i] = x.elementCount / p
    }
    try Self.checkShape(shape, what: "reshape output")
    guard shape.reduce(1, *) == x.elementCount else {
      throw ModelBuilderError.shapeMismatch("reshape of \(label(input)) \(x.shape) to \(shape): element counts differ")
    }
    return try addWithNewOutput(.reshape, [input], OpOptions(), scale: x.scales.first ?? 0, zeroPoint: x.zeroPoint,
                                name: name, shape: shape)
  }
}
