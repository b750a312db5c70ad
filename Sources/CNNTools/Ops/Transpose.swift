// Transpose, tools side: TFLite TRANSPOSE (int8 and float; constant
// permutation), ONNX Transpose (the importer aliases NHWC ↔ NCHW views; any
// other permutation comes here, mapped to a permutation of the stored
// NHWC tensor), float evaluation, quantization (output = input's) and the
// builder's rules. The permutation is the op's constant int32 input 1.

import CNNRuntime

extension FloatGraph.Kind {
  /// Transpose (`Node.ints`: the permutation, output axis k = input axis ints[k]).
  public static let transpose = Self("transpose")
}

enum TransposeOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.transpose]
  /// Byte moves: the output has the input's quantization (tied through concatenations).
  static let sharesInputQuantization = true
  static let opCodes: [OpCode] = [.transpose]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.transpose]

  static func checkPerm(_ perm: [Int], rank: Int) -> Bool {
    perm.count == rank && Set(perm) == Set(0..<rank)
  }

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 2...2)
    let x = try im.activationInput(try op.input(0), op.ctx)
    let shape = im.builder.tensors[x.index].shape
    let perm = try im.intConstant(try op.input(1), "perm", op.ctx)
    guard checkPerm(perm, rank: shape.count) else {
      throw TFLiteError.invalidModel("\(op.ctx): perm \(perm) is not a permutation of the \(shape.count) axes of \(shape)")
    }
    let out = try im.outputActivation(op.op, op.ctx)
    try TFLiteInt8Importer.wrap(op.ctx) { try im.builder.transpose(x, perm: perm, into: out) }
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    let x = try im.input(op, 0)
    let perm = try im.intValues(op.op.inputs[1], op.ctx)
    guard checkPerm(perm, rank: im.tensors[x].shape.count) else { throw FloatGraphError.invalidModel("\(op.ctx): perm \(perm)") }
    var node = try im.node(op, .transpose, [x])
    node.ints = perm
    return node
  }

  // MARK: ONNX

  /// ONNX Transpose by `perm` (in ONNX axes) of `x`, which is not an NHWC ↔ NCHW view change.
  static func importONNX(_ n: ONNXNode, _ x: ONNXImporter.Value, perm: [Int], _ im: inout ONNXImporter) throws {
    let s = x.onnxShape
    let outShape = perm.map { s[$0] }
    let stored: [Int]
    switch x.layout {
    case .plain:
      stored = perm
    case .nhwc:
      // Stored axis j holds ONNX axis L[j]; the output is stored NHWC as well.
      let L = [0, 2, 3, 1], Linv = [0, 3, 1, 2]
      stored = (0..<4).map { Linv[perm[L[$0]]] }
    case .flattenedNHWC:
      throw n.unsupported("Transpose of a flattened NCHW tensor")
    }
    let out = try im.output(n, outShape, x.layout)
    var nd = n.node(.transpose, [x.tensor], out)
    nd.ints = stored
    im.emit(nd)
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let x = c.x, p = c.node.ints
    guard checkPerm(p, rank: x.count), c.out == p.map({ x[$0] }) else { throw c.fail("transpose \(p) of \(x) to \(c.out)") }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let a = ShapeSupport.transposeAddressing(e.xShape, e.node.ints)
    ShapeSupport.copy(e.x, base: 0, counts: a.counts, steps: a.steps, e.out)
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let name = q.name(n.output)
    let perm = n.ints
    return (try QuantizerState.wrap(n.origin) { try q.b.transpose(x, perm: perm, name: name) }, xq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(2)
    try c.checkPlain(); try c.noActivation()
    let x = try c.int8Activation(0, "input")
    let perm = try StridedSliceOp.int32Parameters(c, 1, count: x.shape.count, "perm")
    guard checkPerm(perm, rank: x.shape.count) else {
      throw ModelBuilderError.invalidOp("\(c.opName): perm \(perm) is not a permutation of the axes of \(x.shape)")
    }
    return perm.map { x.shape[$0] }
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    try c.sameQuant(output)
  }
}

extension ModelBuilder {
  /// Transpose: output dimension k is input dimension perm[k].
  @discardableResult
  public mutating func transpose(_ input: TensorID, perm: [Int], name: String? = nil) throws -> TensorID {
    try addMovingBytes(.transpose, input, parameters: perm, name: name)
  }

  mutating func transpose(_ input: TensorID, perm: [Int], into output: TensorID) throws {
    try addMovingBytes(.transpose, input, parameters: perm, into: output)
  }

  /// A byte-moving op (transpose, tile) of `input` and its constant int32
  /// `parameters` (input 1); a new output with the input's quantization.
  mutating func addMovingBytes(_ code: OpCode, _ input: TensorID, parameters: [Int], name: String?) throws -> TensorID {
    let x = try tensor(input)
    let p = try addConstant(parameters.map { Int32(clamping: $0) }, shape: [parameters.count])
    return try addWithNewOutput(code, [input, p], OpOptions(), scale: x.scales.first ?? 0, zeroPoint: x.zeroPoint, name: name)
  }

  /// The same into an existing output tensor (the int8 TFLite importer's).
  mutating func addMovingBytes(_ code: OpCode, _ input: TensorID, parameters: [Int], into output: TensorID) throws {
    let p = try addConstant(parameters.map { Int32(clamping: $0) }, shape: [parameters.count])
    try addOp(code, inputs: [input, p], output: output)
  }
}
