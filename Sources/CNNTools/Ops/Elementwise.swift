// What the elementwise binary tools units share (Add, Mul, Sub,
// Maximum/Minimum): NumPy/TFLite broadcasting of shapes (right-aligned,
// each dimension equal or 1) and of float values, int8 operands that may be
// constants (TFLite import, quantization), and the ONNX mapping of a binary
// node with an optional constant operand.

import CNNRuntime

enum Elementwise {
  /// The broadcast shape of `a` and `b` (right-aligned, every dimension
  /// equal or 1), or nil when they do not broadcast.
  static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: rank - a.count) + a
    let pb = [Int](repeating: 1, count: rank - b.count) + b
    var out: [Int] = []
    for (x, y) in zip(pa, pb) {
      guard x == y || x == 1 || y == 1 else { return nil }
      out.append(max(x, y))
    }
    return out
  }

  /// out = act(f(a, b)) elementwise with broadcasting: shapes right-aligned
  /// (the shorter padded with 1s on the left), an input repeated along its
  /// size-1 dimensions. `os` is the broadcast shape of `ash` and `bsh`.
  @inline(__always)
  static func apply(_ a: UnsafeBufferPointer<Float>, _ ash: [Int], _ b: UnsafeBufferPointer<Float>, _ bsh: [Int],
                    _ out: UnsafeMutableBufferPointer<Float>, _ os: [Int], _ act: FloatGraph.Activation,
                    _ f: (Float, Float) -> Float) {
    if ash == os && bsh == os {
      for k in 0..<out.count { out[k] = FloatExecutor.activate(f(a[k], b[k]), act) }
      return
    }
    let rank = os.count
    func strides(_ s: [Int]) -> [Int] {
      let p = [Int](repeating: 1, count: rank - s.count) + s
      var st = [Int](repeating: 0, count: rank)
      var m = 1
      for d in stride(from: rank - 1, through: 0, by: -1) { st[d] = p[d] == 1 ? 0 : m; m *= p[d] }
      return st
    }
    let sa = strides(ash), sb = strides(bsh)
    var idx = [Int](repeating: 0, count: rank)
    for k in 0..<out.count {
      var ia = 0, ib = 0
      for d in 0..<rank { ia += idx[d] * sa[d]; ib += idx[d] * sb[d] }
      out[k] = FloatExecutor.activate(f(a[ia], b[ib]), act)
      var d = rank - 1
      while d >= 0 { idx[d] += 1; if idx[d] < os[d] { break }; idx[d] = 0; d -= 1 }
    }
  }

  /// Float evaluation of a binary node whose inputs may be constants.
  @inline(__always)
  static func evaluate(_ e: FloatEvaluation, _ f: (Float, Float) -> Float) {
    let g = e.graph, n = e.node
    let ta = g.tensors[n.inputs[0]], tb = g.tensors[n.inputs[1]]
    withValues(e, n.inputs[0]) { a in
      withValues(e, n.inputs[1]) { b in
        apply(a, ta.shape, b, tb.shape, e.out, e.oShape, n.activation, f)
      }
    }
  }

  /// The values of tensor `t`: its constant data or the executor's buffer.
  static func withValues(_ e: FloatEvaluation, _ t: Int, _ body: (UnsafeBufferPointer<Float>) -> Void) {
    if let d = e.graph.tensors[t].data { d.withUnsafeBufferPointer(body) } else { e.executor.withBuffer(t, body) }
  }

  /// Float graph shape rule: two inputs broadcasting to the output.
  static func checkShapes(_ c: FloatNodeCheck) throws {
    guard c.node.inputs.count == 2 else { throw c.fail("needs 2 inputs") }
    let a = c.tensor(0).shape, b = c.tensor(1).shape
    guard let s = broadcastShape(a, b), s == c.out else {
      throw c.fail("shapes \(a) and \(b) do not broadcast to \(c.out)")
    }
    guard !(c.tensor(0).isConstant && c.tensor(1).isConstant) else { throw c.fail("both inputs are constants") }
  }

  // MARK: TFLite

  /// Int8 import of a two-input op (inputs activations or int8 constants).
  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer, _ code: OpCode,
                           activation act: TFLiteActivation) throws {
    try op.expectIO(inputs: 2...2)
    let a = try im.elementwiseOperand(try op.input(0), op.ctx)
    let b = try im.elementwiseOperand(try op.input(1), op.ctx)
    let out = try im.outputActivation(op.op, op.ctx)
    try im.addOp(op, code, [a, b], out, OpOptions(activation: try im.activation(act, op.ctx)))
  }

  /// Float import of a two-input op; a constant first operand of a
  /// commutative op is moved second.
  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter, _ kind: FloatGraph.Kind,
                                commutative: Bool, activation act: TFLiteActivation) throws -> FloatGraph.Node {
    try op.expectIO(inputs: 2...2)
    var ins = [try im.input(op, 0), try im.input(op, 1)]
    if im.tensors[ins[0]].isConstant && im.tensors[ins[1]].isConstant {
      throw FloatGraphError.unsupported("\(op.ctx): \(op.name) of two constants")
    }
    if commutative && im.tensors[ins[0]].isConstant { ins.swapAt(0, 1) }
    var node = try im.node(op, kind, ins)
    node.activation = try im.act(act, op.ctx)
    return node
  }

  // MARK: Quantization

  /// The int8 tensor of operand `i`: the mapped activation, or the constant
  /// quantized per tensor, asymmetric, over its own range extended to 0 (as
  /// the TFLite converter quantizes constant operands of MUL / SUB), or at
  /// `fixed` when given.
  static func operand(_ n: FloatGraph.Node, _ i: Int, _ q: inout QuantizerState,
                      fixed: ActivationQuant? = nil) throws -> (TensorID, ActivationQuant) {
    let t = n.inputs[i]
    guard let values = q.g.tensors[t].data else { return q.input(n, i) }
    guard values.allSatisfy(\.isFinite) else { throw FloatGraphError.invalidModel("\(n.origin): constant with a non-finite value") }
    let cq = fixed ?? ActivationQuant(min: values.min() ?? 0, max: values.max() ?? 0)
    let shape = q.g.tensors[t].shape.isEmpty ? [1] : q.g.tensors[t].shape
    let name = q.name(t)
    let id = try QuantizerState.wrap(n.origin) {
      try q.b.addConstant(values.map { cq.quantize($0) }, shape: shape, scale: cq.scale, zeroPoint: cq.zeroPoint, name: name)
    }
    return (id, cq)
  }

  /// Mul / Sub: both operands with their own quantization, calibrated output.
  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState, _ code: OpCode) throws -> (TensorID, ActivationQuant) {
    let (a, _) = try operand(n, 0, &q)
    let (b, _) = try operand(n, 1, &q)
    let oq = try q.own(n.output)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.addWithNewOutput(code, [a, b], OpOptions(activation: n.fusedActivation), scale: oq.scale,
                               zeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }

  // MARK: Model builder

  /// Input `i`: an int8 tensor with per-tensor quantization (activation or constant).
  static func int8Operand(_ c: BuilderOpCheck, _ i: Int, _ role: String) throws -> ModelBuilder.Tensor {
    let t = try c.required(i, role)
    guard t.elementType == .int8, t.quantKind == .perTensor else {
      throw ModelBuilderError.invalidOp("\(c.opName): \(role) \(c.label(c.inputs[i]!)) must be an int8 tensor with per-tensor quantization")
    }
    return t
  }

  /// Two int8 operands, not both constant, broadcasting to the output shape.
  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(2)
    try c.checkPlain()
    let a = try int8Operand(c, 0, "first input"), b = try int8Operand(c, 1, "second input")
    guard !(a.isConstant && b.isConstant) else {
      throw ModelBuilderError.invalidOp("\(c.opName): both inputs are constants")
    }
    guard let s = broadcastShape(a.shape, b.shape) else {
      throw ModelBuilderError.shapeMismatch("\(c.opName): inputs \(a.shape) and \(b.shape) do not broadcast")
    }
    return s
  }
}

extension TFLiteInt8Importer {
  /// An operand of an elementwise op: an activation (model input or earlier
  /// output), or a constant int8 tensor with one scale and zero point.
  mutating func elementwiseOperand(_ t: Int, _ ctx: String) throws -> TensorID {
    if let id = map[t] { return id }
    let tensor = graph.tensors[t]
    guard let data = try model.constantData(of: tensor) else { return try activationInput(t, ctx) }
    let what = "\(ctx): constant operand \(describe(t))"
    guard tensor.type == .int8 else {
      throw TFLiteError.unsupported("\(what) is \(tensor.type); only int8 constants are supported")
    }
    let (scale, zp) = try int8Quant(t, context: ctx)
    let shape = try checkedShape(t, context: ctx)
    let count = shape.reduce(1, *)
    guard data.count == count else {
      throw TFLiteError.invalidModel("\(what): buffer \(tensor.buffer) holds \(data.count) bytes, shape \(shape) needs \(count)")
    }
    let values = data.map { Int8(bitPattern: $0) }
    let id = try Self.wrap(ctx) {
      try builder.addConstant(values, shape: shape, scale: scale, zeroPoint: zp, name: tensor.name.isEmpty ? nil : tensor.name)
    }
    map[t] = id
    return id
  }
}

extension ONNXImporter {
  /// An ONNX binary node (Mul, Sub, Max, Min, Div) as a FloatGraph node of
  /// `kind`: two activations of the same rank and layout broadcasting to each
  /// other, or an activation and a constant that broadcasts to it (stored in
  /// the activation's layout: NCHW constants are transposed to NHWC). A
  /// constant first operand of a commutative op is moved second; `reciprocal`
  /// (Div) replaces the constant divisor by 1/c and refuses other forms.
  mutating func elementwiseBinary(_ n: ONNXNode, _ kind: FloatGraph.Kind, commutative: Bool,
                                  reciprocal: Bool = false) throws {
    guard n.proto.input.count == 2 else {
      throw n.unsupported("\(n.proto.input.count) inputs (exactly 2 are supported)")
    }
    let n0 = try inputName(n, 0), n1 = try inputName(n, 1)
    let c0 = constants[n0], c1 = constants[n1]
    if c0 != nil && c1 != nil { throw n.unsupported("\(n.opType) of two constants") }
    guard c0 != nil || c1 != nil else {
      if reciprocal {
        throw n.unsupported("Div of two activations is not supported (int8 has no division; only division by a constant, folded into Mul)")
      }
      let x = try activation(n, 0), y = try activation(n, 1)
      let sameLayout: Bool = {
        switch (x.layout, y.layout) {
        case (.nhwc, .nhwc), (.plain, .plain): return true
        case (.flattenedNHWC(let a1, let b1, let c1), .flattenedNHWC(let a2, let b2, let c2)): return a1 == a2 && b1 == b2 && c1 == c2
        default: return false
        }
      }()
      guard sameLayout, x.onnxShape.count == y.onnxShape.count else {
        throw n.unsupported("\(n.opType) of \(x.onnxShape) and \(y.onnxShape) (same rank and layout only)")
      }
      guard let shape = Elementwise.broadcastShape(x.onnxShape, y.onnxShape) else {
        throw n.invalid("shapes \(x.onnxShape) and \(y.onnxShape) do not broadcast")
      }
      if case .flattenedNHWC = x.layout, x.onnxShape != y.onnxShape {
        throw n.unsupported("broadcast \(n.opType) of flattened tensors")
      }
      let out = try output(n, shape, x.layout)
      emit(n.node(kind, [x.tensor, y.tensor], out))
      return
    }
    let constantFirst = c0 != nil
    if reciprocal && constantFirst { throw n.unsupported("Div of a constant by an activation (only division by a constant)") }
    let v = try activation(n, constantFirst ? 1 : 0)
    var c = constantFirst ? c0! : c1!
    if reciprocal {
      guard c.floats.allSatisfy({ $0 != 0 && $0.isFinite && (1 / $0).isFinite }) else {
        throw n.unsupported("Div by a constant with a zero or non-finite value")
      }
      c.floats = c.floats.map { 1 / $0 }
    }
    guard c.count >= 1, let bs = Elementwise.broadcastShape(v.onnxShape, c.dims), bs == v.onnxShape else {
      throw n.unsupported("constant of shape \(c.dims) does not broadcast to the activation \(v.onnxShape)")
    }
    // The constant in the activation's FloatGraph layout.
    var shape: [Int], data: [Float]
    switch v.layout {
    case .plain:
      shape = c.dims.isEmpty ? [1] : c.dims
      data = c.floats
    case .nhwc:
      let d = [Int](repeating: 1, count: 4 - c.dims.count) + c.dims  // NCHW, rank <= 4 (broadcasts to 4-D)
      shape = [d[0], d[2], d[3], d[1]]
      data = [Float](repeating: 0, count: c.count)
      var k = 0
      for b in 0..<d[0] { for ch in 0..<d[1] { for h in 0..<d[2] { for w in 0..<d[3] {
        data[((b * d[2] + h) * d[3] + w) * d[1] + ch] = c.floats[k]
        k += 1
      } } } }
    case .flattenedNHWC:
      guard c.count == 1 else { throw n.unsupported("\(n.opType) of a flattened tensor and a non-scalar constant") }
      shape = [1]
      data = c.floats
    }
    let name = constantFirst ? n0 : n1
    let ct = addTensor(name + (reciprocal ? "_reciprocal" : ""), shape, data: data)
    let out = try output(n, v.onnxShape, v.layout)
    let ins = constantFirst && !commutative ? [ct, v.tensor] : [v.tensor, ct]
    emit(n.node(kind, ins, out))
  }
}
