// Add, tools side: TFLite ADD (int8 with each input's own quantization and
// broadcasting; float), ONNX Add of two activations (an Add of a constant
// folds into the producer's bias: `ONNXImporter.foldAdd`), float evaluation,
// quantization (calibrated output) and the builder's broadcast shape rule.

import CNNRuntime

extension FloatGraph.Kind {
  /// inputs: a, b (same shape or broadcast along size-1 dimensions)
  public static let add = Self("add")
}

enum AddOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.add]
  static let opCodes: [OpCode] = [.add]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.add]
  static let onnxOpTypes = ["Add"]
  static let readsSeveralActivations = true
  static let acceptsFusedActivation = true
  static let calibratesOutput = true

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 2...2)
    var act = TFLiteActivation.none
    if case .add(let a) = op.options { act = a }
    let a = try im.elementwiseOperand(try op.input(0), op.ctx)
    let b = try im.elementwiseOperand(try op.input(1), op.ctx)
    let out = try im.outputActivation(op.op, op.ctx)
    try im.addOp(op, .add, [a, b], out, OpOptions(activation: try im.activation(act, op.ctx)))
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    let ins = [try im.input(op, 0), try im.input(op, 1)]
    guard !im.tensors[ins[0]].isConstant, !im.tensors[ins[1]].isConstant else {
      throw FloatGraphError.unsupported("\(op.ctx): ADD of a constant")
    }
    var node = try im.node(op, .add, ins)
    if case .add(let a) = op.options { node.activation = try im.act(a, op.ctx) }
    return node
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let n0 = try im.inputName(n, 0), n1 = try im.inputName(n, 1)
    if im.constants[n0] != nil || im.constants[n1] != nil {
      // Activation + constant: fold into the producer's bias.
      let (vn, c) = im.constants[n0] != nil ? (n1, im.constants[n0]!) : (n0, im.constants[n1]!)
      guard let v = im.values[vn] else { throw n.unsupported("Add of two constants or of a non-activation") }
      try im.foldAdd(v, valueName: vn, c, ctx: n.ctx, sole: im.soleReader(vn))
      im.alias(n, v)
      return
    }
    let x = try im.activation(n, 0), y = try im.activation(n, 1)
    let sameLayout: Bool = {
      switch (x.layout, y.layout) {
      case (.nhwc, .nhwc), (.plain, .plain): return true
      case (.flattenedNHWC(let a1, let b1, let c1), .flattenedNHWC(let a2, let b2, let c2)): return a1 == a2 && b1 == b2 && c1 == c2
      default: return false
      }
    }()
    guard sameLayout, x.onnxShape.count == y.onnxShape.count else {
      throw n.unsupported("Add of \(x.onnxShape) and \(y.onnxShape) (same rank and layout only)")
    }
    var shape: [Int] = []
    for (p, q) in zip(x.onnxShape, y.onnxShape) {
      guard p == q || p == 1 || q == 1 else { throw n.invalid("shapes \(x.onnxShape) and \(y.onnxShape) do not broadcast") }
      shape.append(max(p, q))
    }
    if case .flattenedNHWC = x.layout, x.onnxShape != y.onnxShape { throw n.unsupported("broadcast Add of flattened tensors") }
    let out = try im.output(n, shape, x.layout)
    im.emit(n.node(.add, [x.tensor, y.tensor], out))
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let n = c.node, x = c.x, out = c.out
    guard n.inputs.count == 2 else { throw c.fail("needs 2 inputs") }
    let b = c.tensor(1).shape
    var ok = x.count == out.count && b.count == out.count
    if ok {
      for d in 0..<out.count {
        let okA: Bool = x[d] == out[d] || x[d] == 1
        let okB: Bool = b[d] == out[d] || b[d] == 1
        if !(okA && okB) { ok = false }
      }
    }
    guard ok else {
      throw c.fail("shapes \(x) + \(b) → \(out) do not broadcast")
    }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let bShape = e.graph.tensors[e.node.inputs[1]].shape
    e.executor.withBuffer(e.node.inputs[1]) { y in
      add(e.x, e.xShape, y, bShape, e.out, e.oShape, e.node.activation)
    }
  }

  /// Broadcasting float add (the shared elementwise loop, Elementwise.swift).
  @_optimize(speed)
  static func add(_ a: UnsafeBufferPointer<Float>, _ ash: [Int], _ b: UnsafeBufferPointer<Float>, _ bsh: [Int],
                  _ out: UnsafeMutableBufferPointer<Float>, _ os: [Int], _ act: FloatGraph.Activation) {
    Elementwise.apply(a, ash, b, bsh, out, os, act, +)
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, _) = q.input(n)
    let oq = try q.own(n.output)
    let y = q.map[n.inputs[1]]!
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.add(x, y, activation: n.fusedActivation, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(2)
    try c.checkPlain()
    let a = try Elementwise.int8Operand(c, 0, "first input")
    let b = try Elementwise.int8Operand(c, 1, "second input")
    guard !(a.isConstant && b.isConstant) else { throw ModelBuilderError.invalidOp("\(c.opName): both inputs are constants") }
    // NumPy/TFLite broadcasting: shapes right-aligned, each dimension equal or 1.
    let rank = max(a.shape.count, b.shape.count)
    let pa = [Int](repeating: 1, count: rank - a.shape.count) + a.shape
    let pb = [Int](repeating: 1, count: rank - b.shape.count) + b.shape
    var out: [Int] = []
    for (x, y) in zip(pa, pb) {
      guard x == y || x == 1 || y == 1 else {
        throw ModelBuilderError.shapeMismatch("\(c.opName): inputs \(a.shape) and \(b.shape) do not broadcast")
      }
      out.append(max(x, y))
    }
    return out
  }
}

extension ModelBuilder {
  @discardableResult
  public mutating func add(_ a: TensorID, _ b: TensorID, activation: FusedActivation = .none, outputScale: Float,
                           outputZeroPoint: Int32, name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.add, [a, b], OpOptions(activation: activation), scale: outputScale,
                         zeroPoint: outputZeroPoint, name: name)
  }
}
