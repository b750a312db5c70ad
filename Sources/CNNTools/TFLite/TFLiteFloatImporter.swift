// Float TFLite → FloatGraph: subgraph 0 of a float32 (or weight-only
// quantized / float16-weight) TFLite model as the quantizer's input. This
// file keeps the tensors (constants dequantized to float) and walks the
// operators; each operator is mapped by its tools op unit
// (`ToolOp.importTFLiteFloat`, Ops/*.swift). A DEQUANTIZE of a constant is
// folded into a float constant here (it is a constant rewrite, not an op).

import CNNRuntime

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
    var im = TFLiteFloatImporter(model: model, g: g)
    let inputs = try g.inputs.map { try im.tensorIndex($0, "model input") }
    var nodes: [Node] = []
    for op in g.operators {
      let name = model.operatorName(op)
      let ctx = "operator \(op.index) (\(name))"
      let code = model.operatorCodes[op.opcodeIndex].builtinCode
      guard op.outputs.count == 1 else { throw FloatGraphError.unsupported("\(ctx): \(op.outputs.count) outputs") }
      let out = op.outputs[0]
      if im.map[out] != nil { throw FloatGraphError.invalidModel("\(ctx): output \(im.describe(out)) written twice") }
      if try model.constantData(of: g.tensors[out]) != nil {
        throw FloatGraphError.invalidModel("\(ctx): output \(im.describe(out)) has constant data")
      }
      if code == TFLiteBuiltinOperator.dequantize {
        // DEQUANTIZE of a constant (float16 or int8 weights) folds into a float constant.
        guard op.inputs.count == 1, op.inputs[0] >= 0, let v = try im.floatValues(op.inputs[0], ctx) else {
          throw FloatGraphError.unsupported("\(ctx): DEQUANTIZE of a computed tensor (only of constants)")
        }
        im.tensors.append(Tensor(name: g.tensors[out].name.isEmpty ? "t\(out)" : g.tensors[out].name, shape: g.tensors[out].shape,
                                 data: v))
        im.map[out] = im.tensors.count - 1
        continue
      }
      guard let unit = ToolOpTable.byTFLite[code] else {
        throw FloatGraphError.unsupported("\(ctx): op \(name) is not supported")
      }
      let node = try unit.importTFLiteFloat(TFLiteNode(op: op, code: code, name: name, ctx: ctx), &im)
      for i in node.inputs where i != node.inputs.first && !im.tensors[i].isConstant && !unit.readsSeveralActivations {
        throw FloatGraphError.unsupported("\(ctx): non-constant parameter \(im.tensors[i].name)")
      }
      nodes.append(node)
    }
    let outputs = try g.outputs.map { t -> Int in
      guard let i = im.map[t] else { throw FloatGraphError.invalidModel("model output \(im.describe(t)) is never written") }
      return i
    }
    try self.init(tensors: im.tensors, nodes: nodes, inputs: inputs, outputs: outputs)
  }
}

/// Tensor bookkeeping of the float TFLite import; op units read their
/// inputs and options through it.
struct TFLiteFloatImporter {
  let model: TFLiteModel
  let g: TFLiteSubgraph
  var tensors: [FloatGraph.Tensor] = []
  /// TFLite tensor → FloatGraph tensor.
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
      for i in 0..<n { out[i] = FloatGraph.halfToFloat(UInt16(d[s + 2 * i]) | UInt16(d[s + 2 * i + 1]) << 8) }
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
    return TFLiteModel.littleEndianIntegers(d, size: size)
  }

  mutating func tensorIndex(_ t: Int, _ ctx: String) throws -> Int {
    if let i = map[t] { return i }
    let tensor = g.tensors[t]
    let values = try floatValues(t, ctx)
    if values == nil, tensor.type != .float32 {
      throw FloatGraphError.unsupported("\(ctx): \(describe(t)) is \(tensor.type); only float32 tensors are supported")
    }
    guard tensor.shape.allSatisfy({ $0 >= 1 }) else {
      throw FloatGraphError.unsupported("\(ctx): \(describe(t)) has shape \(tensor.shape) (dynamic or empty dimensions)")
    }
    tensors.append(FloatGraph.Tensor(name: tensor.name.isEmpty ? "t\(t)" : tensor.name, shape: tensor.shape, data: values))
    map[t] = tensors.count - 1
    return tensors.count - 1
  }

  func act(_ a: TFLiteActivation, _ ctx: String) throws -> FloatGraph.Activation {
    switch a {
    case .none: return .none
    case .relu: return .relu
    case .relu6: return .relu6
    default: throw FloatGraphError.unsupported("\(ctx): fused activation \(a) (only NONE, RELU, RELU6)")
    }
  }

  /// FloatGraph tensor of input `i` of `op`.
  mutating func input(_ op: TFLiteNode, _ i: Int) throws -> Int {
    guard i < op.op.inputs.count, op.op.inputs[i] >= 0 else { throw FloatGraphError.invalidModel("\(op.ctx): missing input \(i)") }
    return try tensorIndex(op.op.inputs[i], op.ctx)
  }

  mutating func optionalInput(_ op: TFLiteNode, _ i: Int) throws -> Int? {
    i < op.op.inputs.count && op.op.inputs[i] >= 0 ? try tensorIndex(op.op.inputs[i], op.ctx) : nil
  }

  /// A node of `kind` reading `inputs` and writing the operator's output.
  mutating func node(_ op: TFLiteNode, _ kind: FloatGraph.Kind, _ inputs: [Int]) throws -> FloatGraph.Node {
    FloatGraph.Node(kind: kind, inputs: inputs, output: try tensorIndex(op.op.outputs[0], op.ctx), origin: op.ctx)
  }
}
