// Tile, tools side: TFLite TILE (int8 and float; constant multiples), ONNX
// Tile (constant repeats, mapped to the stored NHWC axes), float
// evaluation, quantization (output = input's: bytes are copied) and the
// builder's rules. The multiples are the op's constant int32 input 1.

import CNNRuntime

extension FloatGraph.Kind {
  /// Tile (`Node.ints`: the multiples per axis, FloatGraph layout).
  public static let tile = Self("tile")
}

enum TileOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.tile]
  static let opCodes: [OpCode] = [.tile]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.tile]
  static let onnxOpTypes = ["Tile"]
  static let sharesInputQuantization = true

  /// Multiples of a rank 1–5 input: one per axis, each >= 1.
  static func checkMultiples(_ m: [Int], rank: Int) -> Bool {
    (1...5).contains(rank) && m.count == rank && m.allSatisfy { $0 >= 1 }
  }

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 2...2)
    let x = try im.activationInput(try op.input(0), op.ctx)
    let shape = im.builder.tensors[x.index].shape
    let m = try im.intConstant(try op.input(1), "multiples", op.ctx)
    guard checkMultiples(m, rank: shape.count) else {
      throw TFLiteError.unsupported("\(op.ctx): TILE of \(shape) by multiples \(m) (one multiple >= 1 per axis, rank 1 to 5)")
    }
    let out = try im.outputActivation(op.op, op.ctx)
    try TFLiteInt8Importer.wrap(op.ctx) { try im.builder.tile(x, multiples: m, into: out) }
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    let x = try im.input(op, 0)
    let m = try im.intValues(op.op.inputs[1], op.ctx)
    guard checkMultiples(m, rank: im.tensors[x].shape.count) else {
      throw FloatGraphError.unsupported("\(op.ctx): TILE of \(im.tensors[x].shape) by multiples \(m)")
    }
    var node = try im.node(op, .tile, [x])
    node.ints = m
    return node
  }

  // MARK: ONNX

  /// ONNX Tile with constant repeats (input 1, int64), stored in the input's layout.
  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    guard let r = try im.constant(n, 1).ints else { throw n.invalid("repeats must be a constant integer tensor") }
    let repeats = r.map { Int($0) }
    let s = x.onnxShape
    guard checkMultiples(repeats, rank: s.count) else {
      throw n.unsupported("Tile of \(s) by repeats \(repeats) (one repeat >= 1 per axis, rank 1 to 5)")
    }
    var stored = repeats
    for a in 0..<s.count {
      guard let k = ShapeSupport.storedAxis(a, x.layout) else { throw n.unsupported("Tile of a flattened NCHW tensor") }
      stored[k] = repeats[a]
    }
    let out = try im.output(n, zip(s, repeats).map { $0 * $1 }, x.layout)
    var nd = n.node(.tile, [x.tensor], out)
    nd.ints = stored
    im.emit(nd)
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let x = c.x, m = c.node.ints
    guard checkMultiples(m, rank: x.count), c.out == zip(x, m).map({ $0 * $1 }) else {
      throw c.fail("tile of \(x) by \(m) to \(c.out)")
    }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let s = e.xShape, o = e.oShape
    let strides = ShapeSupport.strides(s), outStrides = ShapeSupport.strides(o)
    for i in 0..<e.out.count {
      var src = 0
      for k in 0..<o.count { src += ((i / outStrides[k]) % o[k] % s[k]) * strides[k] }
      e.out[i] = e.x[src]
    }
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let name = q.name(n.output)
    let m = n.ints
    return (try QuantizerState.wrap(n.origin) { try q.b.tile(x, multiples: m, name: name) }, xq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(2)
    try c.checkPlain(); try c.noActivation()
    let x = try c.int8Activation(0, "input")
    let m = try StridedSliceOp.int32Parameters(c, 1, count: x.shape.count, "multiples")
    guard checkMultiples(m, rank: x.shape.count) else {
      throw ModelBuilderError.invalidOp("\(c.opName): multiples \(m) of \(x.shape) (one >= 1 per axis, rank 1 to 5)")
    }
    return zip(x.shape, m).map { $0 * $1 }
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    try c.sameQuant(output)
  }
}

extension ModelBuilder {
  /// Tile: output dimension k is input dimension k × multiples[k]; the input's quantization.
  @discardableResult
  public mutating func tile(_ input: TensorID, multiples: [Int], name: String? = nil) throws -> TensorID {
    try addMovingBytes(.tile, input, parameters: multiples, name: name)
  }

  mutating func tile(_ input: TensorID, multiples: [Int], into output: TensorID) throws {
    try addMovingBytes(.tile, input, parameters: multiples, into: output)
  }
}
