// Concatenation, tools side: TFLite CONCATENATION (int8: inputs and output
// share one quantization, constants allowed; float), ONNX Concat (the axis
// mapped through the NCHW → NHWC layout), float evaluation, quantization
// (one quantization for the inputs, the output and everything sharing with
// them: the union of their calibrated ranges, as the TFLite converter
// chooses; inputs a QDQ source model quantized differently are requantized
// to the output's) and the builder's rules (the axis in the record's `extra`).

import CNNRuntime

extension FloatGraph.Kind {
  /// inputs: 1 or more activations of one rank; `Node.axis` (>= 0) in the graph's layout.
  public static let concatenation = Self("concatenation")
}

enum ConcatenationOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.concatenation]
  static let opCodes: [OpCode] = [.concatenation]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.concatenation]
  static let onnxOpTypes = ["Concat"]
  static let readsSeveralActivations = true
  static let acceptsAxis = true
  static let sharesInputQuantization = true

  // MARK: TFLite

  /// The axis of TFLite's options, normalised to 0 ..< rank.
  static func tfliteAxis(_ op: TFLiteNode, rank: Int) throws -> Int {
    guard case .concatenation(let axis, let act) = op.options else { throw op.wrongOptions() }
    guard act == .none else {
      throw TFLiteError.unsupported("\(op.ctx): fused activation \(act) on CONCATENATION (TFLite and TFLM refuse it)")
    }
    guard axis >= -rank, axis < rank else {
      throw TFLiteError.invalidModel("\(op.ctx): axis \(axis) outside the output's rank \(rank)")
    }
    return axis < 0 ? axis + rank : axis
  }

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...ModelFormat.maxOpInputs)
    var inputs: [TensorID] = []
    for k in 0..<op.op.inputs.count {
      let t = try op.input(k)
      if let id = im.map[t] {
        inputs.append(id)
      } else if try im.model.constantData(of: im.graph.tensors[t]) != nil {
        inputs.append(try constantInput(t, op, &im))
      } else {
        inputs.append(try im.activationInput(t, op.ctx))  // throws the message
      }
    }
    let out = try im.outputActivation(op.op, op.ctx)
    let axis = try tfliteAxis(op, rank: im.builder.tensors[out.index].shape.count)
    try im.addOp(op, .concatenation, inputs, out, OpOptions(axis: axis))
  }

  /// A constant int8 input (per-tensor quantization; the builder checks it is the output's).
  static func constantInput(_ t: Int, _ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws -> TensorID {
    let tensor = im.graph.tensors[t]
    let (scale, zp) = try im.int8Quant(t, context: "\(op.ctx) constant input")
    let shape = try im.checkedShape(t, context: op.ctx)
    guard let data = try im.model.constantData(of: tensor), data.count == shape.reduce(1, *) else {
      throw TFLiteError.invalidModel("\(op.ctx): constant input \(im.describe(t)) has the wrong byte count for \(shape)")
    }
    let id = try TFLiteInt8Importer.wrap(op.ctx) {
      try im.builder.addConstant(data.map { Int8(bitPattern: $0) }, shape: shape, scale: scale, zeroPoint: zp,
                                 name: tensor.name.isEmpty ? nil : tensor.name)
    }
    im.map[t] = id
    return id
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    var inputs: [Int] = []
    for k in 0..<op.op.inputs.count {
      let i = try im.input(op, k)
      guard !im.tensors[i].isConstant else {
        throw FloatGraphError.unsupported("\(op.ctx): CONCATENATION of a constant (only of computed tensors)")
      }
      inputs.append(i)
    }
    guard !inputs.isEmpty else { throw FloatGraphError.invalidModel("\(op.ctx): no inputs") }
    var node = try im.node(op, .concatenation, inputs)
    let rank = im.tensors[node.output].shape.count
    do { node.axis = try tfliteAxis(op, rank: rank) } catch let e as TFLiteError {
      throw FloatGraphError.unsupported(e.message)
    }
    return node
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    guard !n.proto.input.isEmpty else { throw n.invalid("no inputs") }
    var values: [ONNXImporter.Value] = []
    for k in 0..<n.proto.input.count { values.append(try im.activation(n, k)) }
    let first = values[0]
    let rank = first.onnxShape.count
    guard n.a.has("axis") else { throw n.invalid("no axis") }
    var axis = try n.a.int("axis", 0)
    guard axis >= -rank, axis < rank else { throw n.invalid("axis \(axis) for rank \(rank)") }
    if axis < 0 { axis += rank }
    var shape = first.onnxShape
    shape[axis] = 0
    for v in values {
      guard v.layout == first.layout else {
        throw n.unsupported("Concat of tensors stored in different layouts (\(first.onnxShape), \(v.onnxShape))")
      }
      if case .flattenedNHWC = v.layout { throw n.unsupported("Concat of flattened NCHW tensors") }
      guard v.onnxShape.count == rank,
            (0..<rank).allSatisfy({ $0 == axis || v.onnxShape[$0] == first.onnxShape[$0] }) else {
        throw n.invalid("shapes \(values.map(\.onnxShape)) do not concatenate along axis \(axis)")
      }
      shape[axis] += v.onnxShape[axis]
    }
    let out = try im.output(n, shape, first.layout)
    var nd = n.node(.concatenation, values.map(\.tensor), out)
    // ONNX [N, C, H, W] is stored [N, H, W, C].
    nd.axis = first.layout == .nhwc ? [0, 3, 1, 2][axis] : axis
    im.emit(nd)
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let n = c.node, out = c.out
    guard !n.inputs.isEmpty, n.axis >= 0, n.axis < out.count else { throw c.fail("concatenation axis \(n.axis) of \(out)") }
    var sum = 0
    for k in n.inputs.indices {
      let s = c.tensor(k).shape
      guard s.count == out.count, (0..<out.count).allSatisfy({ $0 == n.axis || s[$0] == out[$0] }) else {
        throw c.fail("input \(s) does not concatenate into \(out) along axis \(n.axis)")
      }
      sum += s[n.axis]
    }
    guard sum == out[n.axis] else { throw c.fail("inputs add up to \(sum) along axis \(n.axis), output has \(out[n.axis])") }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let n = e.node, os = e.oShape
    let outer = os[..<n.axis].reduce(1, *), inner = os[(n.axis + 1)...].reduce(1, *)
    let outRow = os[n.axis] * inner
    var column = 0
    for (k, t) in n.inputs.enumerated() {
      let row = e.graph.tensors[t].shape[n.axis] * inner
      let col = column
      let copy = { (x: UnsafeBufferPointer<Float>) in
        for o in 0..<outer { for i in 0..<row { e.out[o * outRow + col + i] = x[o * row + i] } }
      }
      if k == 0 { copy(e.x) } else { e.executor.withBuffer(t, copy) }
      column += row
    }
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let ins = n.inputs.indices.map { q.input(n, $0) }
    // Normally every input already has the output's quantization
    // (shareConcatenationQuantization). When the source model (ONNX QDQ)
    // quantizes them differently, the output keeps its own quantization
    // (else the hull of the inputs' ranges) and each other input is
    // requantized to it first, as the TFLite converter does with QUANTIZE.
    let oq: ActivationQuant
    if let s = q.shared[n.output] {
      oq = s
    } else if let f = q.g.tensors[n.output].fixedQuantization?.activation {
      oq = f
    } else if ins.allSatisfy({ $0.1 == ins[0].1 }) {
      oq = ins[0].1
    } else {
      oq = ActivationQuant(min: ins.map { $0.1.dequantize(-128) }.min()!, max: ins.map { $0.1.dequantize(127) }.max()!)
    }
    var inputs: [TensorID] = []
    for (k, (id, iq)) in ins.enumerated() {
      if iq == oq { inputs.append(id); continue }
      // Named like the tensor it requantizes, so `cnnrt eval` compares it with the same float values.
      let name = q.name(n.inputs[k])
      inputs.append(try QuantizerState.wrap("\(n.origin): requantizing input \(k)") {
        try q.b.requantize(id, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
      })
    }
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) { try q.b.concatenation(inputs, axis: n.axis, name: name) }
    return (out, oq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.checkPlain(); try c.noActivation()
    guard !c.inputs.isEmpty else { throw ModelBuilderError.invalidOp("\(c.opName): no inputs") }
    var shape: [Int] = []
    for k in c.inputs.indices {
      let t = try c.required(k, "input")
      guard t.elementType == .int8, t.quantKind == .perTensor else {
        throw ModelBuilderError.invalidOp("\(c.opName): input \(c.label(c.inputs[k]!)) must be int8 with per-tensor quantization")
      }
      if k == 0 {
        shape = t.shape
        guard c.o.axis >= 0, c.o.axis < shape.count else {
          throw ModelBuilderError.invalidOp("\(c.opName): axis \(c.o.axis) outside 0..<\(shape.count) (negative axes: add the rank)")
        }
        continue
      }
      guard t.shape.count == shape.count,
            (0..<shape.count).allSatisfy({ $0 == c.o.axis || t.shape[$0] == shape[$0] }) else {
        throw ModelBuilderError.shapeMismatch(
          "\(c.opName): input \(c.label(c.inputs[k]!)) \(t.shape) does not concatenate with \(shape) along axis \(c.o.axis)")
      }
      shape[c.o.axis] += t.shape[c.o.axis]
    }
    try ModelBuilder.checkShape(shape, what: "\(c.opName) output")
    return shape
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    let out = c.tensor(output)
    for case let id? in c.inputs {
      let x = c.tensor(id)
      guard x.scales == out.scales, x.zeroPoint == out.zeroPoint else {
        throw ModelBuilderError.invalidQuantization(
          "\(c.opName): input \(c.label(id)) is quantized (\(x.scales.first ?? 0), \(x.zeroPoint)), the output "
            + "(\(out.scales[0]), \(out.zeroPoint)); concatenation inputs must have the output's scale and zero point")
      }
    }
  }

  /// The axis in `extra`.
  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) {
    r.extra = UInt32(o.axis)
  }
}

extension ModelBuilder {
  /// TFLite CONCATENATION of `inputs` (int8 activations or constants of one
  /// rank and one quantization, equal but along `axis`) along `axis`
  /// (negative: counted from the end). The output has the inputs' quantization.
  @discardableResult
  public mutating func concatenation(_ inputs: [TensorID], axis: Int, name: String? = nil) throws -> TensorID {
    guard let first = inputs.first else { throw ModelBuilderError.invalidOp("concatenation: no inputs") }
    let x = try tensor(first)
    let rank = x.shape.count
    guard axis >= -rank, axis < rank else {
      throw ModelBuilderError.invalidOp("concatenation: axis \(axis) outside the rank \(rank) of \(label(first))")
    }
    return try addWithNewOutput(.concatenation, inputs, OpOptions(axis: axis < 0 ? axis + rank : axis),
                                scale: x.scales.first ?? 0, zeroPoint: x.zeroPoint, name: name)
  }
}

// MARK: - Quantization shared across a concatenation

extension QuantizerState {
  /// Gives every tensor joined by a concatenation one quantization: the
  /// concatenation's activation inputs and output, and through ops whose
  /// output shares its input's quantization (pooling, reshape, pad, resize,
  /// other concatenations) every tensor tied to them. The quantization is
  /// that of the union of the calibrated ranges of the tensors whose
  /// quantization is chosen (the model input, outputs of conv, add, …), as
  /// the TFLite converter does; a fixed quantization from the source model
  /// (ONNX QDQ) is used when the group has one. When it has several
  /// (ONNX Runtime's quantizer gives each tensor its own), the group is left
  /// as the source quantized it and the concatenation requantizes the inputs
  /// that differ from its output. A group that mixes a tensor whose op fixes
  /// its quantization (softmax, logistic output) with chosen ones is refused.
  mutating func shareConcatenationQuantization() throws {
    guard g.nodes.contains(where: { $0.kind == .concatenation }) else { return }
    var parent = Array(g.tensors.indices)
    func find(_ x: Int) -> Int {
      var r = x
      while parent[r] != r { r = parent[r] }
      var y = x
      while parent[y] != r { let next = parent[y]; parent[y] = r; y = next }
      return r
    }
    var producer: [Int: Int] = [:]
    for (i, n) in g.nodes.enumerated() {
      producer[n.output] = i
      guard ToolOpTable.unit(n.kind).sharesInputQuantization else { continue }
      for t in n.inputs where !g.tensors[t].isConstant { parent[find(t)] = find(n.output) }
    }
    var groups: [Int: [Int]] = [:]
    for t in g.tensors.indices where !g.tensors[t].isConstant { groups[find(t), default: []].append(t) }
    var done = Set<Int>()
    for n in g.nodes where n.kind == .concatenation {
      let root = find(n.output)
      guard done.insert(root).inserted, let members = groups[root] else { continue }
      var chosen: [Int] = [], fixedOutput: [Int] = []
      for t in members {
        if g.inputs.contains(t) { chosen.append(t); continue }
        guard let p = producer[t] else { continue }
        let u = ToolOpTable.unit(g.nodes[p].kind)
        if u.calibratesOutput { chosen.append(t) } else if !u.sharesInputQuantization { fixedOutput.append(t) }
      }
      if let f = fixedOutput.first {
        if chosen.isEmpty { continue }  // only fixed ones: the concatenation checks they are equal
        let p = g.nodes[producer[f]!]
        throw FloatGraphError.unsupported(
          "\(n.origin): '\(g.tensors[f].name)' (output of \(p.kind), \(p.origin)) has a fixed quantization and cannot "
            + "share one quantization with '\(g.tensors[chosen[0]].name)' through this concatenation "
            + "(cnnrt has no requantizing op to put between them)")
      }
      var given: [ActivationQuant] = []
      for t in chosen {
        if let fq = g.tensors[t].fixedQuantization?.activation, !given.contains(fq) { given.append(fq) }
      }
      if given.count > 1 { continue }  // ConcatenationOp.quantize requantizes
      var shared: ActivationQuant
      if let fq = given.first {
        shared = fq
      } else {
        var lo = Float.infinity, hi = -Float.infinity
        for t in chosen {
          let r = try calibratedRange(t)
          lo = Swift.min(lo, r.min); hi = Swift.max(hi, r.max)
        }
        // Constants written in the group's quantization (a Pad after the concatenation).
        for t in members where !chosen.contains(t) {
          if let h = held[t] { lo = Swift.min(lo, h.min); hi = Swift.max(hi, h.max) }
        }
        shared = ActivationQuant(min: lo, max: hi)
      }
      for t in members { self.shared[t] = shared }
    }
  }
}
