// DepthToSpace / SpaceToDepth, tools side: TFLite DEPTH_TO_SPACE and
// SPACE_TO_DEPTH (int8 and float), ONNX DepthToSpace (DCR mode, TFLite's
// order; CRD as a channel gather into DCR's order, then DCR) and
// SpaceToDepth, float evaluation, quantization (output = input's) and the
// builder's rules (block size in stride H/W).

import CNNRuntime

extension FloatGraph.Kind {
  /// Block size in `strideH` (= `strideW`).
  public static let depthToSpace = Self("depthToSpace")
  public static let spaceToDepth = Self("spaceToDepth")
}

enum DepthToSpaceOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.depthToSpace, .spaceToDepth]
  /// Byte moves: the output has the input's quantization (tied through concatenations).
  static let sharesInputQuantization = true
  static let opCodes: [OpCode] = [.depthToSpace, .spaceToDepth]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.depthToSpace, TFLiteBuiltinOperator.spaceToDepth]
  static let onnxOpTypes = ["DepthToSpace", "SpaceToDepth"]

  static func blockSize(_ op: TFLiteNode) throws -> Int {
    guard case .blockSize(let b) = op.options else { throw op.wrongOptions() }
    guard b >= 1, b <= ModelBuilder.maxSpatialParameter else { throw TFLiteError.invalidModel("\(op.ctx): block_size \(b)") }
    return b
  }

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...1)
    let b = try blockSize(op)
    try im.addUnaryOp(op, op.code == TFLiteBuiltinOperator.depthToSpace ? .depthToSpace : .spaceToDepth,
                      OpOptions(strideH: b, strideW: b))
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    let b = try blockSize(op)
    var node = try im.node(op, op.code == TFLiteBuiltinOperator.depthToSpace ? .depthToSpace : .spaceToDepth, [try im.input(op, 0)])
    node.strideH = b; node.strideW = b
    return node
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    var x = try im.activation(n, 0)
    try im.require4D(n, x)
    let b = try n.a.int("blocksize", 0)
    guard b >= 1, b <= ModelBuilder.maxSpatialParameter else { throw n.invalid("blocksize \(b)") }
    let s = x.onnxShape  // N, C, H, W
    let toSpace = n.opType == "DepthToSpace"
    let shape: [Int]
    if toSpace {
      let mode = n.a.string("mode", "DCR")
      guard mode == "DCR" || mode == "CRD" else { throw n.unsupported("DepthToSpace mode \(mode) (DCR or CRD)") }
      guard s[1] % (b * b) == 0 else { throw n.invalid("channels \(s[1]) not a multiple of blocksize² \(b * b)") }
      shape = [s[0], s[1] / (b * b), s[2] * b, s[3] * b]
      if mode == "CRD" {
        // CRD reads channel c·b² + i·b + j where DCR reads (i·b + j)·C' + c:
        // a channel gather into DCR's order, then DCR.
        let cOut = shape[1]
        var order = [Int](repeating: 0, count: s[1])
        for c in 0..<cOut { for ij in 0..<(b * b) { order[ij * cOut + c] = c * b * b + ij } }
        let t = im.addTensor(im.tensors[x.tensor].name + "_crd_order", ONNXImporter.toNHWC(s))
        var g = FloatGraph.Node(kind: .gather, inputs: [x.tensor], output: t, origin: n.ctx + " (CRD channel order)")
        g.ints = [3] + order
        im.emit(g)
        x = ONNXImporter.Value(tensor: t, layout: .nhwc, onnxShape: s)
      }
    } else {
      guard s[2] % b == 0, s[3] % b == 0 else { throw n.invalid("height/width \(s[2])x\(s[3]) not multiples of blocksize \(b)") }
      shape = [s[0], s[1] * b * b, s[2] / b, s[3] / b]
    }
    var nd = n.node(toSpace ? .depthToSpace : .spaceToDepth, [x.tensor], try im.output(n, shape, .nhwc))
    nd.strideH = b; nd.strideW = b
    im.emit(nd)
  }

  // MARK: Float graph

  static func expected(_ x: [Int], block b: Int, toSpace: Bool) -> [Int]? {
    guard x.count == 4, b >= 1 else { return nil }
    if toSpace { return x[3] % (b * b) == 0 ? [x[0], x[1] * b, x[2] * b, x[3] / (b * b)] : nil }
    return x[1] % b == 0 && x[2] % b == 0 ? [x[0], x[1] / b, x[2] / b, x[3] * b * b] : nil
  }

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let n = c.node
    guard n.strideH == n.strideW, let e = expected(c.x, block: n.strideH, toSpace: n.kind == .depthToSpace), e == c.out else {
      throw c.fail("\(n.kind) block \(n.strideH) of \(c.x) to \(c.out)")
    }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let a = ShapeSupport.blockAddressing(e.xShape, block: e.node.strideH, toSpace: e.node.kind == .depthToSpace)
    ShapeSupport.copy(e.x, base: 0, counts: a.counts, steps: a.steps, e.out)
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let name = q.name(n.output)
    let b = n.strideH
    let out = try QuantizerState.wrap(n.origin) {
      n.kind == .depthToSpace ? try q.b.depthToSpace(x, blockSize: b, name: name) : try q.b.spaceToDepth(x, blockSize: b, name: name)
    }
    return (out, xq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    let o = c.o
    try c.expectInputs(1)
    try c.noActivation()
    guard o.strideH == o.strideW, o.strideH >= 1, o.strideH <= ModelBuilder.maxSpatialParameter, o.dilationH == 1, o.dilationW == 1,
          o.filterH == 0, o.filterW == 0, o.padding == .valid else {
      throw ModelBuilderError.invalidOp("\(c.opName): block size (strideH = strideW) 1...\(ModelBuilder.maxSpatialParameter), no other options")
    }
    let x = try c.int8Activation(0, "input")
    try c.checkNHWC(x)
    guard let e = expected(x.shape, block: o.strideH, toSpace: c.code == .depthToSpace) else {
      throw ModelBuilderError.shapeMismatch("\(c.opName): block size \(o.strideH) does not divide \(c.code == .depthToSpace ? "the channels" : "height and width") of \(x.shape)")
    }
    return e
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    try c.sameQuant(output)
  }
}

extension ModelBuilder {
  /// [N,H,W,C] → [N, H·b, W·b, C/b²] (TFLite DEPTH_TO_SPACE, ONNX DCR).
  @discardableResult
  public mutating func depthToSpace(_ input: TensorID, blockSize b: Int, name: String? = nil) throws -> TensorID {
    let x = try tensor(input)
    return try addWithNewOutput(.depthToSpace, [input], OpOptions(strideH: b, strideW: b), scale: x.scales.first ?? 0,
                                zeroPoint: x.zeroPoint, name: name)
  }

  /// [N,H,W,C] → [N, H/b, W/b, C·b²] (TFLite SPACE_TO_DEPTH).
  @discardableResult
  public mutating func spaceToDepth(_ input: TensorID, blockSize b: Int, name: String? = nil) throws -> TensorID {
    let x = try tensor(input)
    return try addWithNewOutput(.spaceToDepth, [input], OpOptions(strideH: b, strideW: b), scale: x.scales.first ?? 0,
                                zeroPoint: x.zeroPoint, name: name)
  }
}
