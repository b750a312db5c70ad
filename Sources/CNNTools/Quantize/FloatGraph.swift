// FloatGraph: a small float32 CNN graph IR (NHWC activations), the input of
// the quantizer. Built from a float TFLite model (`init(tflite:)`) or an
// ONNX model (`init(onnx:)`, ONNX/ONNXImporter.swift; NCHW converted to NHWC).
//
// Layouts are TFLite's (and cnnrt's): conv filters [Cout, KH, KW, Cin/groups],
// depthwise filters [1, KH, KW, C·multiplier], fully-connected weights
// [units, depth]. Every constant is stored as [Float].

import CNNRuntime

/// Errors building, validating or running a float graph.
public enum FloatGraphError: Error, Equatable, CustomStringConvertible {
  case unsupported(String)
  case invalidModel(String)
  case invalidInput(String)

  public var description: String {
    switch self {
    case .unsupported(let m): return "unsupported float model: \(m)"
    case .invalidModel(let m): return "invalid float model: \(m)"
    case .invalidInput(let m): return "invalid input: \(m)"
    }
  }
}

public struct FloatGraph: Sendable {
  public struct Tensor: Sendable {
    public var name: String
    public var shape: [Int]
    /// Constant values (row-major), nil for activations.
    public var data: [Float]?
    /// Quantization fixed by the source model (an ONNX QDQ model), used by
    /// the quantizer instead of calibrated ranges / computed weight scales.
    public var fixedQuantization: FixedQuantization?
    public var elementCount: Int { shape.reduce(1, *) }
    public var isConstant: Bool { data != nil }

    public init(name: String, shape: [Int], data: [Float]? = nil, fixedQuantization: FixedQuantization? = nil) {
      self.name = name; self.shape = shape; self.data = data; self.fixedQuantization = fixedQuantization
    }
  }

  /// Affine int8 quantization given by the source model: real = scale × (q − zeroPoint),
  /// per tensor (one scale, `axis` nil) or per channel along `axis` of the
  /// tensor's FloatGraph layout. Zero points are int8 (uint8 sources are
  /// stored shifted by −128, which is exact). int32 biases keep their scales
  /// here for reference; the quantizer derives bias scales as TFLite does.
  public struct FixedQuantization: Sendable, Equatable {
    public var scales: [Float]
    public var zeroPoints: [Int32]
    public var axis: Int?

    public init(scales: [Float], zeroPoints: [Int32], axis: Int? = nil) {
      self.scales = scales; self.zeroPoints = zeroPoints; self.axis = axis
    }

    /// The per-tensor activation parameters (nil when per channel).
    public var activation: ActivationQuant? {
      guard axis == nil, scales.count == 1, zeroPoints.count == 1 else { return nil }
      return ActivationQuant(scale: scales[0], zeroPoint: zeroPoints[0])
    }
  }

  public enum Activation: Sendable, Equatable {
    case none, relu, relu6
  }

  public enum Kind: Sendable, Equatable {
    /// inputs: x [N,H,W,Cin], filter [Cout,KH,KW,Cin/groups], bias [Cout]?
    case conv2D
    /// inputs: x [N,H,W,C], filter [1,KH,KW,C·m], bias [C·m]?
    case depthwiseConv2D
    /// inputs: x (flattened to [batches, depth]), weights [units, depth], bias [units]?
    case fullyConnected
    /// inputs: a, b (same shape or broadcast along size-1 dimensions)
    case add
    case maxPool2D
    case averagePool2D
    /// Mean over H and W of [N,H,W,C]: [N,1,1,C] (keepDims) or [N,C].
    case meanHW
    case reshape
    /// Constant pad of H, W and C (`pads`: top, bottom, left, right, channel before, channel after).
    case pad
    /// Standalone ReLU / ReLU6 (the activation is in `activation`).
    case activation
    case softmax
    case logistic
  }

  public struct Node: Sendable {
    public var kind: Kind
    public var inputs: [Int]
    public var output: Int
    public var strideH = 1, strideW = 1
    public var dilationH = 1, dilationW = 1
    public var filterH = 0, filterW = 0
    public var padding: PaddingKind = .valid
    public var activation: Activation = .none
    public var beta: Float = 1
    /// Pad: [top, bottom, left, right, channelsBefore, channelsAfter].
    public var pads: [Int] = []
    public var padValue: Float = 0
    /// Where the node came from ("operator 3 (CONV_2D)").
    public var origin: String

    public init(kind: Kind, inputs: [Int], output: Int, origin: String) {
      self.kind = kind; self.inputs = inputs; self.output = output; self.origin = origin
    }
  }

  public var tensors: [Tensor]
  public var nodes: [Node]
  public var inputs: [Int]
  public var outputs: [Int]

  public init(tensors: [Tensor], nodes: [Node], inputs: [Int], outputs: [Int]) throws {
    self.tensors = tensors; self.nodes = nodes; self.inputs = inputs; self.outputs = outputs
    try validate()
  }

  /// Checks indices, topological order and shapes (as the executor needs them).
  public func validate() throws {
    var written = Set<Int>()
    for t in inputs {
      guard t >= 0, t < tensors.count, !tensors[t].isConstant else {
        throw FloatGraphError.invalidModel("model input \(t) is not an activation tensor")
      }
      written.insert(t)
    }
    for n in nodes {
      for i in n.inputs {
        guard i >= 0, i < tensors.count else { throw FloatGraphError.invalidModel("\(n.origin): input tensor \(i) out of range") }
        guard tensors[i].isConstant || written.contains(i) else {
          throw FloatGraphError.invalidModel("\(n.origin): input \(tensors[i].name) is read before it is written")
        }
      }
      guard n.output >= 0, n.output < tensors.count, !tensors[n.output].isConstant, !written.contains(n.output) else {
        throw FloatGraphError.invalidModel("\(n.origin): bad output tensor \(n.output)")
      }
      try checkShapes(n)
      written.insert(n.output)
    }
    for t in outputs where !written.contains(t) {
      throw FloatGraphError.invalidModel("model output \(t) is never written")
    }
  }

  private func checkShapes(_ n: Node) throws {
    let out = tensors[n.output].shape
    let x = tensors[n.inputs.first ?? n.output].shape
    func fail(_ m: String) -> FloatGraphError { .invalidModel("\(n.origin): \(m)") }
    func spatial(kh: Int, kw: Int) throws {
      guard x.count == 4, out.count == 4, x[0] == out[0] else { throw fail("input \(x) / output \(out) must be 4-D NHWC") }
      let (ph, _) = Self.padding(n.padding, input: x[1], filter: kh, stride: n.strideH, dilation: n.dilationH)
      let (pw, _) = Self.padding(n.padding, input: x[2], filter: kw, stride: n.strideW, dilation: n.dilationW)
      _ = ph; _ = pw
      let oh = ModelBuilder.outputSize(input: x[1], filter: kh, stride: n.strideH, dilation: n.dilationH, padding: n.padding)
      let ow = ModelBuilder.outputSize(input: x[2], filter: kw, stride: n.strideW, dilation: n.dilationW, padding: n.padding)
      guard oh == out[1], ow == out[2] else { throw fail("output \(out) does not match input \(x), filter \(kh)x\(kw)") }
    }
    switch n.kind {
    case .conv2D, .depthwiseConv2D:
      guard n.inputs.count >= 2 else { throw fail("needs input and filter") }
      let f = tensors[n.inputs[1]]
      guard f.isConstant, f.shape.count == 4 else { throw fail("filter must be a constant 4-D tensor") }
      try spatial(kh: f.shape[1], kw: f.shape[2])
      let cout = n.kind == .conv2D ? f.shape[0] : f.shape[3]
      guard out[3] == cout else { throw fail("output channels \(out[3]) != filter's \(cout)") }
      if n.kind == .conv2D {
        guard f.shape[3] > 0, x[3] % f.shape[3] == 0, cout % (x[3] / f.shape[3]) == 0 else {
          throw fail("input channels \(x[3]) not a multiple of the filter's \(f.shape[3]) (groups)")
        }
      } else {
        guard f.shape[0] == 1, cout % x[3] == 0 else { throw fail("depthwise filter \(f.shape) vs input \(x)") }
      }
      if n.inputs.count > 2 {
        guard let b = tensors[n.inputs[2]].data, b.count == cout else { throw fail("bias must be \(cout) constants") }
      }
    case .fullyConnected:
      guard n.inputs.count >= 2, let w = tensors[n.inputs[1]].data, tensors[n.inputs[1]].shape.count == 2 else {
        throw fail("weights must be a constant [units, depth] tensor")
      }
      let units = tensors[n.inputs[1]].shape[0], depth = tensors[n.inputs[1]].shape[1]
      _ = w
      let count = x.reduce(1, *)
      guard depth > 0, count % depth == 0, out.reduce(1, *) == count / depth * units, out.last == units else {
        throw fail("input \(x) / output \(out) do not match weights [\(units), \(depth)]")
      }
      if n.inputs.count > 2 {
        guard let b = tensors[n.inputs[2]].data, b.count == units else { throw fail("bias must be \(units) constants") }
      }
    case .add:
      guard n.inputs.count == 2 else { throw fail("needs 2 inputs") }
      let b = tensors[n.inputs[1]].shape
      var ok = x.count == out.count && b.count == out.count
      if ok {
        for d in 0..<out.count {
          let okA: Bool = x[d] == out[d] || x[d] == 1
          let okB: Bool = b[d] == out[d] || b[d] == 1
          if !(okA && okB) { ok = false }
        }
      }
      guard ok else {
        throw fail("shapes \(x) + \(b) → \(out) do not broadcast")
      }
    case .maxPool2D, .averagePool2D:
      try spatial(kh: n.filterH, kw: n.filterW)
      guard x[3] == out[3] else { throw fail("pooling changes the channel count") }
    case .meanHW:
      guard x.count == 4, out.reduce(1, *) == x[0] * x[3], out.last == x[3] else { throw fail("mean of \(x) to \(out)") }
    case .reshape, .activation, .softmax, .logistic:
      guard out.reduce(1, *) == x.reduce(1, *) else { throw fail("element counts of \(x) and \(out) differ") }
      if n.kind != .reshape { guard x == out else { throw fail("shape \(x) changes to \(out)") } }
    case .pad:
      let p = n.pads
      guard x.count == 4, out.count == 4, p.count == 6, p.allSatisfy({ $0 >= 0 }) else { throw fail("pad \(p) of \(x) to \(out)") }
      let h: Int = x[1] + p[0] + p[1]
      let w: Int = x[2] + p[2] + p[3]
      let c: Int = x[3] + p[4] + p[5]
      guard out == [x[0], h, w, c] else {
        throw fail("pad \(p) of \(x) to \(out)")
      }
    }
    if case .activation = n.kind, n.activation == .none { throw fail("standalone activation NONE") }
  }

  /// TFLite padding: (before, after) along one axis.
  static func padding(_ kind: PaddingKind, input: Int, filter: Int, stride: Int, dilation: Int) -> (Int, Int) {
    guard kind == .same else { return (0, 0) }
    let out = (input + stride - 1) / stride
    let eff = (filter - 1) * dilation + 1
    let total = max((out - 1) * stride + eff - input, 0)
    return (total / 2, total - total / 2)
  }

  /// Indices of the nodes reading tensor `t`.
  public func consumers(of t: Int) -> [Int] {
    nodes.indices.filter { nodes[$0].inputs.contains(t) }
  }

  /// A copy where each standalone ReLU/ReLU6 whose input is written by a conv,
  /// depthwise conv, fully connected, add or pool with no fused activation
  /// and read by nothing else is fused into that producer (as TFLite's
  /// converter does); the int8 model has no standalone activation op.
  public func fusingActivations() -> FloatGraph {
    var g = self
    var i = 0
    while i < g.nodes.count {
      let n = g.nodes[i]
      if n.kind == .activation, let p = g.nodes.firstIndex(where: { $0.output == n.inputs[0] }),
         [.conv2D, .depthwiseConv2D, .fullyConnected, .add, .maxPool2D, .averagePool2D].contains(g.nodes[p].kind),
         g.nodes[p].activation == .none, g.consumers(of: n.inputs[0]) == [i], !g.outputs.contains(n.inputs[0]) {
        g.nodes[p].activation = n.activation
        g.nodes[p].output = n.output
        g.nodes.remove(at: i)
        continue
      }
      i += 1
    }
    return g
  }
}

// MARK: - From TFLite

extension FloatGraph {
  /// IEEE 754 binary16 → Float.
  static func halfToFloat(_ h: UInt16) -> Float {
    let sign: Float = h & 0x8000 != 0 ? -1 : 1
    let e = Int((h >> 10) & 0x1F), m = Float(h & 0x3FF)
    if e == 0 { return sign * m * 0x1p-24 }
    if e == 31 { return m == 0 ? sign * .infinity : .nan }
    return sign * (1 + m / 1024) * Float(sign: .plus, exponent: e - 15, significand: 1)
  }

  /// Builds the IR from subgraph 0 of a float32 TFLite model. Unsupported
  /// ops fail with their name and operator index.
  public init(tflite bytes: [UInt8]) throws {
    let model = try TFLiteModel(bytes: bytes)
    try self.init(tflite: model)
  }

  public init(tflite model: TFLiteModel) throws {
    guard let g = model.subgraphs.first else { throw FloatGraphError.invalidModel("the model has no subgraph") }
    guard !g.operators.isEmpty else { throw FloatGraphError.invalidModel("subgraph 0 has no operators") }
    var tensors: [Tensor] = []
    var map: [Int: Int] = [:]
    func describe(_ t: Int) -> String { g.tensors[t].name.isEmpty ? "tensor \(t)" : "tensor \(t) \"\(g.tensors[t].name)\"" }

    func floatValues(_ t: Int, _ ctx: String) throws -> [Float]? {
      let tensor = g.tensors[t]
      guard let d = try model.constantData(of: tensor) else { return nil }
      let n = tensor.elementCount ?? -1
      func u32(_ p: Int) -> UInt32 { UInt32(d[p]) | UInt32(d[p + 1]) << 8 | UInt32(d[p + 2]) << 16 | UInt32(d[p + 3]) << 24 }
      func check(_ size: Int) throws {
        guard n >= 0, d.count == size * n else {
          throw FloatGraphError.invalidModel("\(ctx): \(describe(t)) has \(d.count) bytes for shape \(tensor.shape)")
        }
      }
      var out = [Float](repeating: 0, count: max(n, 0))
      let s = d.startIndex
      switch tensor.type {
      case .float32:
        try check(4)
        for i in 0..<n { out[i] = Float(bitPattern: u32(s + 4 * i)) }
        return out
      case .float16:
        try check(2)
        for i in 0..<n { out[i] = Self.halfToFloat(UInt16(d[s + 2 * i]) | UInt16(d[s + 2 * i + 1]) << 8) }
        return out
      case .int8, .uint8, .int32:
        // Weight-only ("hybrid") quantized constants: dequantized with their
        // per-tensor or per-axis scales and zero points.
        guard let q = tensor.quantization, !q.scale.isEmpty, !q.hasDetails else {
          throw FloatGraphError.unsupported("\(ctx): constant \(describe(t)) is \(tensor.type) without quantization parameters")
        }
        let size = tensor.type == .int32 ? 4 : 1
        try check(size)
        let axis = q.scale.count > 1 ? q.quantizedDimension : 0
        guard q.scale.count == 1 || (axis < tensor.shape.count && tensor.shape[axis] == q.scale.count) else {
          throw FloatGraphError.invalidModel("\(ctx): \(describe(t)) has \(q.scale.count) scales for shape \(tensor.shape)")
        }
        let inner = q.scale.count > 1 ? tensor.shape[(axis + 1)...].reduce(1, *) : 1
        for i in 0..<n {
          let c = q.scale.count > 1 ? (i / inner) % q.scale.count : 0
          let zp = q.zeroPoint.isEmpty ? 0 : Float(q.zeroPoint[min(c, q.zeroPoint.count - 1)])
          let v: Float = tensor.type == .int8 ? Float(Int8(bitPattern: d[s + i]))
            : tensor.type == .uint8 ? Float(d[s + i]) : Float(Int32(bitPattern: u32(s + 4 * i)))
          out[i] = q.scale[c] * (v - zp)
        }
        return out
      default:
        throw FloatGraphError.unsupported("\(ctx): constant \(describe(t)) is \(tensor.type); only float32/float16 or quantized int8 constants are supported")
      }
    }
    func intValues(_ t: Int, _ ctx: String) throws -> [Int] {
      let tensor = g.tensors[t]
      guard let d = try model.constantData(of: tensor) else {
        throw FloatGraphError.unsupported("\(ctx): \(describe(t)) must be constant")
      }
      let size = tensor.type == .int32 ? 4 : tensor.type == .int64 ? 8 : 0
      guard size > 0, d.count % size == 0 else {
        throw FloatGraphError.unsupported("\(ctx): \(describe(t)) is \(tensor.type), expected INT32 or INT64")
      }
      var out: [Int] = []
      var p = d.startIndex
      while p < d.endIndex {
        var v: UInt64 = 0
        for k in 0..<size { v |= UInt64(d[p + k]) << (8 * UInt64(k)) }
        out.append(size == 4 ? Int(Int32(truncatingIfNeeded: v)) : Int(Int64(bitPattern: v)))
        p += size
      }
      return out
    }
    func tensorIndex(_ t: Int, _ ctx: String, constantOK: Bool = true) throws -> Int {
      if let i = map[t] { return i }
      let tensor = g.tensors[t]
      let values = try floatValues(t, ctx)
      if values == nil, tensor.type != .float32 {
        throw FloatGraphError.unsupported("\(ctx): \(describe(t)) is \(tensor.type); only float32 tensors are supported")
      }
      guard tensor.shape.allSatisfy({ $0 >= 1 }) else {
        throw FloatGraphError.unsupported("\(ctx): \(describe(t)) has shape \(tensor.shape) (dynamic or empty dimensions)")
      }
      tensors.append(Tensor(name: tensor.name.isEmpty ? "t\(t)" : tensor.name, shape: tensor.shape, data: values))
      map[t] = tensors.count - 1
      return tensors.count - 1
    }
    func act(_ a: TFLiteActivation, _ ctx: String) throws -> Activation {
      switch a {
      case .none: return .none
      case .relu: return .relu
      case .relu6: return .relu6
      default: throw FloatGraphError.unsupported("\(ctx): fused activation \(a) (only NONE, RELU, RELU6)")
      }
    }

    let inputs = try g.inputs.map { try tensorIndex($0, "model input") }
    var nodes: [Node] = []
    let B = TFLiteBuiltinOperator.self
    for op in g.operators {
      let name = model.operatorName(op)
      let ctx = "operator \(op.index) (\(name))"
      let code = model.operatorCodes[op.opcodeIndex].builtinCode
      guard op.outputs.count == 1 else { throw FloatGraphError.unsupported("\(ctx): \(op.outputs.count) outputs") }
      func input(_ i: Int) throws -> Int {
        guard i < op.inputs.count, op.inputs[i] >= 0 else { throw FloatGraphError.invalidModel("\(ctx): missing input \(i)") }
        return try tensorIndex(op.inputs[i], ctx)
      }
      func optionalInput(_ i: Int) throws -> Int? {
        i < op.inputs.count && op.inputs[i] >= 0 ? try tensorIndex(op.inputs[i], ctx) : nil
      }
      var kind: Kind
      var ins: [Int]
      var node: Node
      let out = op.outputs[0]
      if map[out] != nil { throw FloatGraphError.invalidModel("\(ctx): output \(describe(out)) written twice") }
      if try model.constantData(of: g.tensors[out]) != nil {
        throw FloatGraphError.invalidModel("\(ctx): output \(describe(out)) has constant data")
      }
      if code == B.dequantize {
        // DEQUANTIZE of a constant (float16 or int8 weights) folds into a float constant.
        guard op.inputs.count == 1, op.inputs[0] >= 0, let v = try floatValues(op.inputs[0], ctx) else {
          throw FloatGraphError.unsupported("\(ctx): DEQUANTIZE of a computed tensor (only of constants)")
        }
        tensors.append(Tensor(name: g.tensors[out].name.isEmpty ? "t\(out)" : g.tensors[out].name, shape: g.tensors[out].shape,
                              data: v))
        map[out] = tensors.count - 1
        continue
      }
      switch code {
      case B.conv2D, B.depthwiseConv2D:
        kind = code == B.conv2D ? .conv2D : .depthwiseConv2D
        ins = [try input(0), try input(1)] + (try optionalInput(2).map { [$0] } ?? [])
        guard tensors[ins[1]].isConstant else { throw FloatGraphError.unsupported("\(ctx): non-constant filter") }
        node = Node(kind: kind, inputs: ins, output: try tensorIndex(out, ctx), origin: ctx)
        switch op.options {
        case .conv2D(let c) where kind == .conv2D:
          node.strideH = c.strideH; node.strideW = c.strideW; node.dilationH = c.dilationH; node.dilationW = c.dilationW
          node.padding = c.padding == .same ? .same : .valid; node.activation = try act(c.activation, ctx)
        case .depthwiseConv2D(let c) where kind == .depthwiseConv2D:
          node.strideH = c.strideH; node.strideW = c.strideW; node.dilationH = c.dilationH; node.dilationW = c.dilationW
          node.padding = c.padding == .same ? .same : .valid; node.activation = try act(c.activation, ctx)
        default: throw FloatGraphError.invalidModel("\(ctx): missing or wrong builtin options")
        }
      case B.fullyConnected:
        guard case .fullyConnected(let fc) = op.options else { throw FloatGraphError.invalidModel("\(ctx): missing options") }
        guard fc.weightsFormat == 0 else { throw FloatGraphError.unsupported("\(ctx): shuffled weights format") }
        ins = [try input(0), try input(1)] + (try optionalInput(2).map { [$0] } ?? [])
        guard tensors[ins[1]].isConstant else { throw FloatGraphError.unsupported("\(ctx): non-constant weights") }
        node = Node(kind: .fullyConnected, inputs: ins, output: try tensorIndex(out, ctx), origin: ctx)
        node.activation = try act(fc.activation, ctx)
      case B.add:
        ins = [try input(0), try input(1)]
        guard !tensors[ins[0]].isConstant, !tensors[ins[1]].isConstant else {
          throw FloatGraphError.unsupported("\(ctx): ADD of a constant")
        }
        node = Node(kind: .add, inputs: ins, output: try tensorIndex(out, ctx), origin: ctx)
        if case .add(let a) = op.options { node.activation = try act(a, ctx) }
      case B.averagePool2D, B.maxPool2D:
        guard case .pool2D(let p) = op.options else { throw FloatGraphError.invalidModel("\(ctx): missing options") }
        node = Node(kind: code == B.maxPool2D ? .maxPool2D : .averagePool2D, inputs: [try input(0)],
                    output: try tensorIndex(out, ctx), origin: ctx)
        node.strideH = p.strideH; node.strideW = p.strideW; node.filterH = p.filterHeight; node.filterW = p.filterWidth
        node.padding = p.padding == .same ? .same : .valid; node.activation = try act(p.activation, ctx)
      case B.mean:
        let x = try input(0)
        let axes = try intValues(op.inputs[1], ctx).map { $0 < 0 ? $0 + 4 : $0 }
        guard tensors[x].shape.count == 4, Set(axes) == [1, 2], axes.count == 2 else {
          throw FloatGraphError.unsupported("\(ctx): MEAN over axes \(axes) of \(tensors[x].shape) (only [1, 2] of 4-D)")
        }
        node = Node(kind: .meanHW, inputs: [x], output: try tensorIndex(out, ctx), origin: ctx)
      case B.pad, B.padV2:
        let x = try input(0)
        let p = try intValues(op.inputs[1], ctx)
        guard tensors[x].shape.count == 4, p.count == 8, p[0] == 0, p[1] == 0 else {
          throw FloatGraphError.unsupported("\(ctx): only 4-D padding of H, W and C (paddings \(p))")
        }
        node = Node(kind: .pad, inputs: [x], output: try tensorIndex(out, ctx), origin: ctx)
        node.pads = [p[2], p[3], p[4], p[5], p[6], p[7]]
        if code == B.padV2, op.inputs.count > 2, op.inputs[2] >= 0 {
          guard let v = try floatValues(op.inputs[2], ctx), v.count == 1 else {
            throw FloatGraphError.unsupported("\(ctx): constant_values must be a float scalar constant")
          }
          node.padValue = v[0]
        }
      case B.reshape, B.squeeze:
        node = Node(kind: .reshape, inputs: [try input(0)], output: try tensorIndex(out, ctx), origin: ctx)
      case 19, 21:  // RELU, RELU6
        node = Node(kind: .activation, inputs: [try input(0)], output: try tensorIndex(out, ctx), origin: ctx)
        node.activation = code == 19 ? .relu : .relu6
      case B.softmax:
        guard case .softmax(let beta) = op.options, beta.isFinite, beta > 0 else {
          throw FloatGraphError.unsupported("\(ctx): missing or bad softmax beta")
        }
        node = Node(kind: .softmax, inputs: [try input(0)], output: try tensorIndex(out, ctx), origin: ctx)
        node.beta = beta
      case B.logistic:
        node = Node(kind: .logistic, inputs: [try input(0)], output: try tensorIndex(out, ctx), origin: ctx)
      default:
        throw FloatGraphError.unsupported("\(ctx): op \(name) is not supported")
      }
      for i in node.inputs where i != node.inputs.first && !tensors[i].isConstant && node.kind != .add {
        throw FloatGraphError.unsupported("\(ctx): non-constant parameter \(tensors[i].name)")
      }
      nodes.append(node)
    }
    let outputs = try g.outputs.map { t -> Int in
      guard let i = map[t] else { throw FloatGraphError.invalidModel("model output \(describe(t)) is never written") }
      return i
    }
    try self.init(tensors: tensors, nodes: nodes, inputs: inputs, outputs: outputs)
  }
}
