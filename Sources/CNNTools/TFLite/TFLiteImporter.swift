// TFLiteImporter: turns an already-quantized (full-integer int8) TFLite model
// into a cnnrt model through ModelBuilder.
//
// Nothing is re-quantized: int8 weights, int32 biases, every scale (f32, as
// stored) and zero point are copied as they are, and the runtime derives
// multipliers and shifts from the scales exactly as TFLite Micro's Prepare
// does. TFLite's layouts are cnnrt's: NHWC activations, OHWI conv filters,
// [1, KH, KW, C·m] depthwise filters, [units, depth] fully-connected weights.
//
// Graph edges: a float (or uint8) model input consumed by a QUANTIZE becomes
// the QUANTIZE's int8 output; a float model output produced by a DEQUANTIZE
// becomes the DEQUANTIZE's int8 input (cnn_output_dequantize gives floats).
// Any other QUANTIZE/DEQUANTIZE, float tensor or unsupported op is an error
// naming the operator index and its TFLite builtin name. Each operator is
// mapped by its tools op unit (Ops/*.swift, `ToolOp.importTFLite`).

import CNNRuntime

public enum TFLiteImporter {
  /// Import settings.
  public struct Options: Sendable {
    /// Model name stored in the metadata (nil = none).
    public var name: String?
    /// Class labels, one per entry of the last dimension of the first output.
    public var labels: [String]
    /// Extra TFLite tensor indices to expose as model outputs, after the
    /// model's own outputs (e.g. to compare intermediate tensors). A model
    /// output is never overwritten by the arena planner.
    public var extraOutputs: [Int]
    /// Image preprocessing (x = (pixel × pixelScale − mean[c]) / std[c]).
    /// nil = derived from the input quantization so that q = pixel − 128.
    public var pixelScale: Float?
    public var mean: [Float]?
    public var std: [Float]?
    public var channelOrder: ChannelOrder
    /// Whether input 0 is an image (stores width/height/channels): nil =
    /// automatic (rank 4, batch 1, 1 or 3 channels).
    public var imageInput: Bool?
    /// Load the result with the runtime and report a refusal as an error.
    public var verifyWithRuntime: Bool

    public init(name: String? = nil, labels: [String] = [], extraOutputs: [Int] = [], pixelScale: Float? = nil,
                mean: [Float]? = nil, std: [Float]? = nil, channelOrder: ChannelOrder = .rgb,
                imageInput: Bool? = nil, verifyWithRuntime: Bool = true) {
      self.name = name; self.labels = labels; self.extraOutputs = extraOutputs
      self.pixelScale = pixelScale; self.mean = mean; self.std = std; self.channelOrder = channelOrder
      self.imageInput = imageInput; self.verifyWithRuntime = verifyWithRuntime
    }
  }

  /// What became of one TFLite operator.
  public struct ImportedOp: Sendable, Equatable {
    /// Index in the TFLite subgraph's operator list.
    public let tfliteIndex: Int
    /// TFLite builtin name ("CONV_2D").
    public let builtinName: String
    /// The cnnrt op, or nil for a QUANTIZE/DEQUANTIZE folded into a model
    /// edge or an op fused into a later one (`fusedInto`).
    public let op: OpCode?
    /// Index in the cnnrt op table (nil when folded or fused).
    public let cnnrtIndex: Int?
    /// TFLite index of the operator this one was fused into (a LOGISTIC
    /// into the MUL of x · LOGISTIC(x), which becomes one LookupTable), or nil.
    public var fusedInto: Int? = nil
  }

  /// Counts the runtime reports for the imported model (when verified).
  public struct RuntimeStats: Sendable, Equatable {
    public let opCount: Int
    public let paramCount: Int64
    public let macs: Int64
    public let arenaBytes: Int
    public let activationBytes: Int
  }

  public struct ImportResult: Sendable {
    /// The cnnrt model file.
    public let bytes: [UInt8]
    /// TFLite tensor index → cnnrt tensor index (activations and the constants used).
    public let tensorMap: [Int: Int]
    /// TFLite tensor indices of the cnnrt model inputs, in order.
    public let inputs: [Int]
    /// TFLite tensor indices of the cnnrt model outputs, in order (model outputs, then extras).
    public let outputs: [Int]
    /// One entry per TFLite operator, in order.
    public let ops: [ImportedOp]
    public let metadata: ModelMetadata?
    /// nil when `verifyWithRuntime` was off.
    public let runtimeStats: RuntimeStats?
    /// The builder the model was serialized from.
    public let builder: ModelBuilder
  }

  /// Imports subgraph 0 of a TFLite model.
  public static func importModel(bytes: [UInt8], options: Options = Options()) throws -> ImportResult {
    let model = try TFLiteModel(bytes: bytes)
    var importer = TFLiteInt8Importer(model: model, options: options)
    return try importer.run()
  }
}

// MARK: - Implementation

/// Tensor bookkeeping and graph edges of the int8 import; each operator is
/// mapped by its tools op unit (`ToolOp.importTFLite`, Ops/*.swift), which
/// reads its inputs and adds its op through the helpers below.
struct TFLiteInt8Importer {
  let model: TFLiteModel
  let options: TFLiteImporter.Options
  var graph: TFLiteSubgraph! = nil
  var builder = ModelBuilder()
  var map: [Int: TensorID] = [:]
  /// Operators folded into model edges.
  var foldedOps: Set<Int> = []
  /// MUL operators that absorb their LOGISTIC input (Ops/Logistic.swift).
  var swish: [Int: SwishFusion] = [:]
  var importedOps: [TFLiteImporter.ImportedOp] = []

  init(model: TFLiteModel, options: TFLiteImporter.Options) {
    self.model = model
    self.options = options
  }

  typealias E = TFLiteError

  mutating func run() throws -> TFLiteImporter.ImportResult {
    guard let g = model.subgraphs.first else { throw E.invalidModel("the model has no subgraph") }
    graph = g
    guard !g.operators.isEmpty else { throw E.invalidModel("subgraph 0 has no operators") }
    guard !g.inputs.isEmpty else { throw E.invalidModel("subgraph 0 has no inputs") }
    guard !g.outputs.isEmpty else { throw E.invalidModel("subgraph 0 has no outputs") }

    // Model inputs (and QUANTIZE ops folded into them).
    var inputTensors: [Int] = []
    for t in g.inputs {
      let tensor = g.tensors[t]
      if tensor.type == .int8 {
        inputTensors.append(t)
        continue
      }
      let consumers = g.operators.filter { $0.inputs.contains(t) }
      guard consumers.count == 1, let q = consumers.first, builtin(q) == TFLiteBuiltinOperator.quantize,
            q.outputs.count == 1, g.tensors[q.outputs[0]].type == .int8 else {
        let uses = consumers.map { "\(model.operatorName($0)) (operator \($0.index))" }.joined(separator: ", ")
        throw E.unsupported(
          "model input \(describe(t)) is \(tensor.type); only int8 inputs, or a non-int8 input read by a single "
            + "QUANTIZE to int8, are supported" + (uses.isEmpty ? "" : " (read by \(uses))"))
      }
      foldedOps.insert(q.index)
      inputTensors.append(q.outputs[0])
    }
    // Model outputs (and DEQUANTIZE ops folded into them).
    var outputTensors: [Int] = []
    for t in g.outputs {
      let tensor = g.tensors[t]
      if tensor.type == .int8 {
        outputTensors.append(t)
        continue
      }
      let producers = g.operators.filter { $0.outputs.contains(t) }
      let code = producers.first.map(builtin)
      guard producers.count == 1, let d = producers.first,
            code == TFLiteBuiltinOperator.dequantize || code == TFLiteBuiltinOperator.quantize,
            d.inputs.count == 1, d.inputs[0] >= 0, g.tensors[d.inputs[0]].type == .int8 else {
        throw E.unsupported(
          "model output \(describe(t)) is \(tensor.type); only int8 outputs, or a non-int8 output made by a "
            + "DEQUANTIZE of an int8 tensor, are supported")
      }
      foldedOps.insert(d.index)
      outputTensors.append(d.inputs[0])
    }

    for t in inputTensors where map[t] == nil {
      let id = try newActivation(t, context: "model input")
      let shape = g.tensors[t].shape
      if shape.count == 4, shape[0] != 1 {
        throw E.unsupported("model input \(describe(t)) has batch size \(shape[0]) (\(shape)); only batch 1 is supported")
      }
      try Self.wrap("model input \(describe(t))") { try builder.markInput(id) }
    }

    swish = LogisticOp.swishFusions(self, keep: Set(options.extraOutputs))
    let fusedInto = Dictionary(uniqueKeysWithValues: swish.map { ($0.value.logistic, $0.key) })
    for op in g.operators {
      if let m = fusedInto[op.index] {
        importedOps.append(.init(tfliteIndex: op.index, builtinName: model.operatorName(op), op: nil, cnnrtIndex: nil,
                                 fusedInto: m))
        continue
      }
      if foldedOps.contains(op.index) {
        importedOps.append(.init(tfliteIndex: op.index, builtinName: model.operatorName(op), op: nil, cnnrtIndex: nil))
        continue
      }
      let before = builder.ops.count
      try importOp(op)
      let code = builder.ops.count > before ? builder.ops.last!.code : nil
      importedOps.append(.init(tfliteIndex: op.index, builtinName: model.operatorName(op), op: code,
                               cnnrtIndex: builder.ops.count > before ? builder.ops.count - 1 : nil))
    }

    var outputs: [Int] = []
    for t in outputTensors where !outputs.contains(t) {
      guard let id = map[t] else {
        throw E.unsupported("model output \(describe(t)) is not written by any imported operator")
      }
      try Self.wrap("model output \(describe(t))") { try builder.markOutput(id) }
      outputs.append(t)
    }
    for t in options.extraOutputs where !outputs.contains(t) {
      guard t >= 0, t < g.tensors.count else {
        throw E.invalidOptions("extra output: tensor index \(t) out of range (subgraph has \(g.tensors.count) tensors)")
      }
      guard let id = map[t], !builder.tensors[id.index].isConstant else {
        throw E.invalidOptions("extra output \(describe(t)) is not an int8 activation of the imported model "
                              + "(constant, \(g.tensors[t].type) or folded tensor)")
      }
      try Self.wrap("extra output \(describe(t))") { try builder.markOutput(id) }
      outputs.append(t)
    }
    guard outputs.count <= ModelFormat.maxModelIO else {
      throw E.invalidOptions("\(outputs.count) model outputs; the model format allows at most \(ModelFormat.maxModelIO) (fewer extraOutputs)")
    }
    if !options.labels.isEmpty {
      let shape = builder.tensors[map[outputs[0]]!.index].shape
      guard shape.last == options.labels.count else {
        throw E.invalidOptions("\(options.labels.count) labels, but the first output \(describe(outputs[0])) "
                                 + "has shape \(shape) (\(shape.last ?? 0) classes)")
      }
    }

    builder.metadata = try makeMetadata(inputTensor: inputTensors[0])
    let bytes = try Self.wrap("serializing") { try builder.serialize() }

    var stats: TFLiteImporter.RuntimeStats? = nil
    if options.verifyWithRuntime {
      do {
        let rt = try RuntimeModel(bytes: bytes)
        let ops = rt.ops
        stats = .init(opCount: rt.opCount, paramCount: ops.reduce(0) { $0 + $1.paramCount },
                      macs: ops.reduce(0) { $0 + $1.macs }, arenaBytes: rt.arenaBytes,
                      activationBytes: rt.activationBytes)
      } catch {
        throw E.unsupported("the cnnrt runtime refused the imported model: \(error)")
      }
    }
    return TFLiteImporter.ImportResult(
      bytes: bytes, tensorMap: map.mapValues(\.index), inputs: inputTensors, outputs: outputs, ops: importedOps,
      metadata: builder.metadata, runtimeStats: stats, builder: builder)
  }

  // MARK: Metadata

  func makeMetadata(inputTensor t: Int) throws -> ModelMetadata? {
    let shape = graph.tensors[t].shape
    let autoImage = shape.count == 4 && shape[0] == 1 && (shape[3] == 1 || shape[3] == 3)
    let isImage = options.imageInput ?? autoImage
    if isImage && !(shape.count == 4 && shape[0] == 1 && shape[3] >= 1 && shape[3] <= 4) {
      throw E.invalidOptions("input \(describe(t)) \(shape) is not an image [1, H, W, C] with C <= 4")
    }
    guard isImage || options.name != nil || !options.labels.isEmpty else { return nil }
    var m = ModelMetadata(name: options.name, labels: options.labels)
    if isImage {
      let (scale, zp) = try int8Quant(t, context: "model input")
      m.imageHeight = shape[1]
      m.imageWidth = shape[2]
      m.imageChannels = shape[3]
      m.channelOrder = shape[3] == 1 ? .gray : options.channelOrder
      // TFLite's convention for int8 image inputs: q = pixel − 128 (the uint8
      // pixel shifted into int8). With x = p·s − s·(128 + zp) the runtime's
      // round(x / s) + zp is exactly p − 128 (for s = 1, zp = −128: x = p).
      let derivedMean = Float(Double(scale) * Double(128 + Int(zp)))
      m.pixelScale = options.pixelScale ?? scale
      m.mean = options.mean ?? [Float](repeating: derivedMean, count: shape[3])
      m.std = options.std ?? [Float](repeating: 1, count: shape[3])
      if m.mean.count == 1, shape[3] > 1 { m.mean = [Float](repeating: m.mean[0], count: shape[3]) }
      if m.std.count == 1, shape[3] > 1 { m.std = [Float](repeating: m.std[0], count: shape[3]) }
    }
    return m
  }

  // MARK: Operators

  func builtin(_ op: TFLiteOperator) -> Int32 { model.operatorCodes[op.opcodeIndex].builtinCode }

  mutating func importOp(_ op: TFLiteOperator) throws {
    let name = model.operatorName(op)
    let ctx = "operator \(op.index) (\(name))"
    let B = TFLiteBuiltinOperator.self
    let code = builtin(op)
    if let c = model.operatorCodes[op.opcodeIndex].customCode, code == B.custom {
      throw E.unsupported("\(ctx): custom op \"\(c)\" is not supported")
    }
    if code == B.quantize, op.inputs.count == 1, op.inputs[0] >= 0, graph.tensors[op.inputs[0]].type == .int8 {
      // int8 -> int8 requantization: an op of its own (Ops/Quantize.swift).
      try QuantizeOp.importTFLite(TFLiteNode(op: op, code: code, name: name, ctx: ctx), &self)
      return
    }
    if code == B.quantize || code == B.dequantize {
      // Folded into the model edges above; anywhere else they would need float tensors.
      throw E.unsupported("\(ctx): \(name) is only supported right after a model input or right before a model output, "
                            + "not in the middle of the graph")
    }
    if let fusion = swish[op.index] {
      try LogisticOp.importSwish(TFLiteNode(op: op, code: code, name: name, ctx: ctx), fusion, &self)
      return
    }
    guard let unit = ToolOpTable.byTFLite[code] else { throw E.unsupported("\(ctx): op \(name) is not supported") }
    try unit.importTFLite(TFLiteNode(op: op, code: code, name: name, ctx: ctx), &self)
  }

  // MARK: Tensors

  func describe(_ t: Int) -> String {
    guard t >= 0, t < graph.tensors.count else { return "tensor \(t)" }
    let n = graph.tensors[t].name
    return n.isEmpty ? "tensor \(t)" : "tensor \(t) \"\(n)\""
  }

  /// Scale and zero point of a per-tensor quantized int8 tensor.
  func int8Quant(_ t: Int, context: String) throws -> (Float, Int32) {
    let tensor = graph.tensors[t]
    guard tensor.type == .int8 else {
      throw E.unsupported("\(context): \(describe(t)) is \(tensor.type); only int8 activations are supported "
                            + (tensor.type.isFloatingPoint ? "(float tensors in the middle of the graph: import a full-integer model)" : ""))
    }
    guard let q = tensor.quantization, !q.scale.isEmpty else {
      throw E.unsupported("\(context): int8 tensor \(describe(t)) has no quantization parameters")
    }
    guard !q.hasDetails else { throw E.unsupported("\(context): \(describe(t)) uses custom quantization") }
    guard q.scale.count == 1 || Set(q.scale).count == 1, q.zeroPoint.count <= 1 || Set(q.zeroPoint).count == 1 else {
      throw E.unsupported("\(context): activation \(describe(t)) is quantized per channel (\(q.scale.count) scales); "
                            + "activations must be per tensor")
    }
    let s = q.scale[0]
    guard s.isFinite, s > 0 else { throw E.invalidModel("\(context): \(describe(t)) has scale \(s)") }
    let zp = q.zeroPoint.first ?? 0
    guard (-128...127).contains(zp) else { throw E.invalidModel("\(context): \(describe(t)) has zero point \(zp) outside int8") }
    return (s, Int32(zp))
  }

  func checkedShape(_ t: Int, context: String) throws -> [Int] {
    let tensor = graph.tensors[t]
    // A scalar (rank 0, e.g. a MUL's constant 1/6) holds one element and
    // broadcasts as [1].
    let shape = tensor.shape.isEmpty ? [1] : tensor.shape
    guard (1...ModelFormat.maxRank).contains(shape.count) else {
      throw E.unsupported("\(context): \(describe(t)) has rank \(shape.count) (shape \(shape)); cnnrt supports rank 1 to \(ModelFormat.maxRank)")
    }
    guard shape.allSatisfy({ $0 >= 1 && $0 <= ModelBuilder.maxDimension }) else {
      throw E.unsupported("\(context): \(describe(t)) has shape \(shape); dimensions must be 1...\(ModelBuilder.maxDimension)")
    }
    guard let count = tensor.elementCount, count <= ModelFormat.maxElements else {
      throw E.unsupported("\(context): \(describe(t)) has shape \(shape): too many elements")
    }
    guard !tensor.isSparse else { throw E.unsupported("\(context): \(describe(t)) is sparse") }
    return shape
  }

  /// Creates the cnnrt activation for TFLite tensor `t` (int8, per tensor).
  mutating func newActivation(_ t: Int, context: String) throws -> TensorID {
    let tensor = graph.tensors[t]
    guard try model.constantData(of: tensor) == nil else {
      throw E.invalidModel("\(context): \(describe(t)) has constant data but is written by an operator")
    }
    guard !tensor.isVariable else { throw E.unsupported("\(context): \(describe(t)) is a variable tensor") }
    let (scale, zp) = try int8Quant(t, context: context)
    let shape = try checkedShape(t, context: context)
    let id = try Self.wrap(context) {
      try builder.addActivation(shape: shape, scale: scale, zeroPoint: zp, name: tensor.name.isEmpty ? nil : tensor.name)
    }
    map[t] = id
    return id
  }

  /// The output tensor of a single-output op.
  mutating func outputActivation(_ op: TFLiteOperator, _ ctx: String) throws -> TensorID {
    let t = op.outputs[0]
    if map[t] != nil { throw E.invalidModel("\(ctx): output \(describe(t)) is already written by an earlier operator") }
    return try newActivation(t, context: "\(ctx) output")
  }

  /// An activation input: a model input or an earlier op's output.
  func activationInput(_ t: Int, _ ctx: String) throws -> TensorID {
    if let id = map[t], !builder.tensors[id.index].isConstant { return id }
    let tensor = graph.tensors[t]
    if tensor.type != .int8 {
      _ = try int8Quant(t, context: "\(ctx) input")  // throws the type message
    }
    if try model.constantData(of: tensor) != nil {
      throw E.unsupported("\(ctx): input \(describe(t)) is a constant; this op needs a computed (activation) input")
    }
    throw E.invalidModel("\(ctx): input \(describe(t)) is read before any operator writes it")
  }

  /// Constant int8 weights; per-channel scales must lie along `channelAxis`.
  mutating func weights(_ t: Int, channelAxis: Int, allowZeroPoint: Bool = false, _ ctx: String) throws -> TensorID {
    if let id = map[t], builder.tensors[id.index].isConstant { return id }
    let tensor = graph.tensors[t]
    let what = "\(ctx): weights \(describe(t))"
    guard tensor.type == .int8 else {
      throw E.unsupported("\(what) are \(tensor.type); only int8 weights are supported")
    }
    guard let data = try model.constantData(of: tensor) else {
      throw E.unsupported("\(what) are not constant (computed weights are not supported)")
    }
    let shape = try checkedShape(t, context: ctx)
    let count = shape.reduce(1, *)
    guard data.count == count else {
      throw E.invalidModel("\(what): buffer \(tensor.buffer) holds \(data.count) bytes, shape \(shape) needs \(count)")
    }
    guard let q = tensor.quantization, !q.scale.isEmpty, !q.hasDetails else {
      throw E.unsupported("\(what) have no (standard) quantization parameters")
    }
    guard q.scale.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw E.invalidModel("\(what) have a non-positive or non-finite scale") }
    let values = data.map { Int8(bitPattern: $0) }
    let name = tensor.name.isEmpty ? nil : tensor.name
    let id: TensorID
    if q.scale.count == 1 {
      guard q.zeroPoint.count <= 1 else { throw E.invalidModel("\(what): \(q.zeroPoint.count) zero points for one scale") }
      let zp = q.zeroPoint.first ?? 0
      guard zp == 0 || allowZeroPoint else {
        throw E.unsupported("\(what) have zero point \(zp); convolution weights must be symmetric (zero point 0)")
      }
      guard (-128...127).contains(zp) else { throw E.invalidModel("\(what) have zero point \(zp) outside int8") }
      // FULLY_CONNECTED may have asymmetric per-tensor weights: the kernel applies the filter offset.
      id = try Self.wrap(ctx) {
        try builder.addConstant(values, shape: shape, scale: q.scale[0], zeroPoint: Int32(zp), name: name)
      }
    } else {
      guard q.quantizedDimension == channelAxis, q.scale.count == shape[channelAxis] else {
        throw E.unsupported("\(what): \(q.scale.count) per-channel scales along dimension \(q.quantizedDimension) of \(shape); "
                              + "expected \(shape[channelAxis]) along dimension \(channelAxis)")
      }
      guard q.zeroPoint.allSatisfy({ $0 == 0 }) else {
        throw E.unsupported("\(what): per-channel weights must have zero point 0")
      }
      id = try Self.wrap(ctx) { try builder.addConstant(values, shape: shape, scales: q.scale, axis: channelAxis, name: name) }
    }
    map[t] = id
    return id
  }

  /// Constant int32 bias of `count` values.
  mutating func bias(_ t: Int, count: Int, _ ctx: String) throws -> TensorID {
    if let id = map[t], builder.tensors[id.index].isConstant { return id }
    let tensor = graph.tensors[t]
    let what = "\(ctx): bias \(describe(t))"
    guard tensor.type == .int32 else {
      throw E.unsupported("\(what) is \(tensor.type); only int32 biases (int8 models) are supported")
    }
    guard let data = try model.constantData(of: tensor) else { throw E.unsupported("\(what) is not constant") }
    guard tensor.elementCount == count, data.count == 4 * count else {
      throw E.invalidModel("\(what): shape \(tensor.shape) with \(data.count) bytes, expected \(count) int32 values")
    }
    var values = [Int32](repeating: 0, count: count)
    var p = data.startIndex
    for i in 0..<count {
      values[i] = Int32(bitPattern: UInt32(data[p]) | UInt32(data[p + 1]) << 8 | UInt32(data[p + 2]) << 16 | UInt32(data[p + 3]) << 24)
      p += 4
    }
    let id = try Self.wrap(ctx) { try builder.addConstant(values, shape: [count], name: tensor.name.isEmpty ? nil : tensor.name) }
    map[t] = id
    return id
  }

  /// Values of a small constant int32/int64 tensor (axes, paddings).
  func intConstant(_ t: Int, _ role: String, _ ctx: String) throws -> [Int] {
    let tensor = graph.tensors[t]
    guard let data = try model.constantData(of: tensor) else {
      throw E.unsupported("\(ctx): \(role) \(describe(t)) must be constant")
    }
    let size: Int
    switch tensor.type {
    case .int32: size = 4
    case .int64: size = 8
    default: throw E.unsupported("\(ctx): \(role) \(describe(t)) is \(tensor.type), expected INT32 or INT64")
    }
    guard data.count % size == 0, data.count / size <= 64, tensor.elementCount == data.count / size else {
      throw E.invalidModel("\(ctx): \(role) \(describe(t)) has \(data.count) bytes for shape \(tensor.shape)")
    }
    return TFLiteModel.littleEndianIntegers(data, size: size)
  }

  /// Imports a single-activation-input op (input 0 → the operator's output).
  mutating func addUnaryOp(_ op: TFLiteNode, _ code: OpCode, _ o: OpOptions = OpOptions()) throws {
    let x = try activationInput(try op.input(0), op.ctx)
    let out = try outputActivation(op.op, op.ctx)
    try addOp(op, code, [x], out, o)
  }

  // MARK: Options

  func padding(_ p: TFLitePadding) throws -> Padding { p == .same ? .same : .valid }

  func activation(_ a: TFLiteActivation, _ ctx: String) throws -> FusedActivation {
    switch a {
    case .none: return .none
    case .relu: return .relu
    case .relu6: return .relu6
    default: throw E.unsupported("\(ctx): fused activation \(a) is not supported (only NONE, RELU, RELU6)")
    }
  }

  func checkStrides(_ o: OpOptions, _ ctx: String) throws {
    let limit = ModelBuilder.maxSpatialParameter
    for (v, what) in [(o.strideH, "stride_h"), (o.strideW, "stride_w"), (o.dilationH, "dilation_h"), (o.dilationW, "dilation_w")] {
      guard v >= 1, v <= limit else { throw E.invalidModel("\(ctx): \(what) \(v) outside 1...\(limit)") }
    }
    guard o.filterH <= limit, o.filterW <= limit else {
      throw E.unsupported("\(ctx): filter \(o.filterH)x\(o.filterW) exceeds \(limit)")
    }
  }

  /// Adds the op a unit imported, with the operator named in a builder error.
  mutating func addOp(_ op: TFLiteNode, _ code: OpCode, _ inputs: [TensorID], _ out: TensorID,
                      _ o: OpOptions = OpOptions()) throws {
    try Self.wrap(op.ctx) { try builder.addOp(code, inputs: inputs, output: out, options: o) }
  }

  /// Runs a builder call, turning its errors into import errors with context.
  @discardableResult
  static func wrap<T>(_ ctx: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ModelBuilderError {
      throw E.unsupported("\(ctx): \(e)")
    }
  }
}
