// ModelBuilder: builds a model in memory and serializes it as format v2.
//
// The layout itself lives in CNNRuntime/Format/ModelFormat.swift: this file
// only decides where each table, string and blob goes and fills the record
// types, which write their own bytes. Everything the runtime loader will
// refuse is refused here first, with a message naming the tensor or op.
//
// Placement chosen by this writer (all offsets from the start of the file):
//
//   header (64) | io table (u32 × (inputs + outputs)) | tensor table (16-aligned)
//   | op table (16-aligned) | metadata record (16-aligned) | label offsets (u32 ×
//   class count) | string table | f32 scale arrays (4-aligned)
//   | constant blobs (each 64-aligned) | zero padding to a multiple of 64.
//
// String references (tensor names, model name, labels) are byte offsets into
// the string table; every string is UTF-8, NUL-terminated, stored once.
//
// Per-op shape inference, output checks, record fields and convenience
// builders (`conv2D(...)`, `pad(...)`, …) are in the tools op units
// (Ops/*.swift); this file keeps tensors, the graph checks and serialization.

import CNNRuntime

// MARK: - Public types

/// Index of a tensor in a `ModelBuilder` (and in the serialized tensor table).
public struct TensorID: Hashable, Sendable, CustomStringConvertible {
  public let index: Int
  public init(_ index: Int) { self.index = index }
  public var description: String { "tensor #\(index)" }
}

/// Spatial padding of a convolution or pooling op.
public enum Padding: Equatable, Sendable {
  /// No padding: out = (in − ((k − 1)·d + 1)) / s + 1.
  case valid
  /// TFLite SAME: out = ceil(in / s).
  case same
  /// Explicit pads: out = (in + top + bottom − ((k − 1)·d + 1)) / s + 1 (height; width likewise).
  case explicit(top: Int, left: Int, bottom: Int, right: Int)

  public var kind: PaddingKind {
    switch self {
    case .valid: return .valid
    case .same: return .same
    case .explicit: return .explicit
    }
  }
}

/// Options of one op. Fields an op does not use must keep their defaults.
public struct OpOptions: Equatable, Sendable {
  public var strideH = 1
  public var strideW = 1
  public var dilationH = 1
  public var dilationW = 1
  /// Pooling window (max / average pool only).
  public var filterH = 0
  public var filterW = 0
  public var padding: Padding = .valid
  public var activation: FusedActivation = .none
  /// Softmax only.
  public var beta: Float = 1
  /// Pad only: the int8 fill value (TFLite PADV2 constant, in the output's
  /// quantization); nil fills with the zero point (TFLite PAD).
  public var padValue: Int8? = nil
  /// Pad only: channels added before / after the input's channels
  /// (stored in the op record's filter H / W fields).
  public var padChannelsBefore = 0
  public var padChannelsAfter = 0
  /// Mean, Sum and ReduceMax: the reduced input axes as a bit mask (bit k =
  /// axis k); 0 = axes [1, 2] of a rank-4 input.
  public var meanAxisMask: UInt32 = 0
  /// Split and gather: the axis (stored in the op record's `extra`).
  public var axis = 0
  /// LeakyReLU only: the slope for negative inputs (stored in the record's `extra`).
  public var alpha: Float = 0
  // join
  /// Resize only: TFLite align_corners / half_pixel_centers (bits 0 / 1 of `extra`).
  public var alignCorners = false
  public var halfPixelCenters = false

  public init(strideH: Int = 1, strideW: Int = 1, dilationH: Int = 1, dilationW: Int = 1,
              filterH: Int = 0, filterW: Int = 0, padding: Padding = .valid,
              activation: FusedActivation = .none, beta: Float = 1, padValue: Int8? = nil,
              padChannelsBefore: Int = 0, padChannelsAfter: Int = 0, axis: Int = 0, alpha: Float = 0,
              alignCorners: Bool = false, halfPixelCenters: Bool = false) {
    self.alpha = alpha; self.alignCorners = alignCorners; self.halfPixelCenters = halfPixelCenters
    self.padChannelsBefore = padChannelsBefore; self.padChannelsAfter = padChannelsAfter
    self.axis = axis
    self.strideH = strideH; self.strideW = strideW
    self.dilationH = dilationH; self.dilationW = dilationW
    self.filterH = filterH; self.filterW = filterW
    self.padding = padding; self.activation = activation; self.beta = beta
    self.padValue = padValue
  }
}

/// Model-level metadata: name, class labels and the input preprocessing
/// (x = (pixel × pixelScale − mean[c]) / std[c]).
public struct ModelMetadata: Equatable, Sendable {
  public var name: String?
  public var labels: [String]
  public var imageWidth: Int
  public var imageHeight: Int
  public var imageChannels: Int
  public var channelOrder: ChannelOrder
  public var pixelScale: Float
  /// One entry per image channel, or empty for 0.
  public var mean: [Float]
  /// One entry per image channel, or empty for 1.
  public var std: [Float]

  public init(name: String? = nil, labels: [String] = [], imageWidth: Int = 0, imageHeight: Int = 0,
              imageChannels: Int = 0, channelOrder: ChannelOrder = .rgb, pixelScale: Float = 1,
              mean: [Float] = [], std: [Float] = []) {
    self.name = name; self.labels = labels
    self.imageWidth = imageWidth; self.imageHeight = imageHeight; self.imageChannels = imageChannels
    self.channelOrder = channelOrder; self.pixelScale = pixelScale
    self.mean = mean; self.std = std
  }
}

/// Why the builder refused something. The message names the tensor or op.
public enum ModelBuilderError: Error, Equatable, CustomStringConvertible {
  case badTensorIndex(String)
  case invalidShape(String)
  case shapeMismatch(String)
  case invalidQuantization(String)
  case invalidData(String)
  case invalidOp(String)
  case invalidGraph(String)
  case invalidMetadata(String)
  case invalidString(String)
  case tooLarge(String)

  public var description: String {
    switch self {
    case .badTensorIndex(let m): return "bad tensor index: \(m)"
    case .invalidShape(let m): return "invalid shape: \(m)"
    case .shapeMismatch(let m): return "shape mismatch: \(m)"
    case .invalidQuantization(let m): return "invalid quantization: \(m)"
    case .invalidData(let m): return "invalid constant data: \(m)"
    case .invalidOp(let m): return "invalid op: \(m)"
    case .invalidGraph(let m): return "invalid graph: \(m)"
    case .invalidMetadata(let m): return "invalid metadata: \(m)"
    case .invalidString(let m): return "invalid string: \(m)"
    case .tooLarge(let m): return "model too large: \(m)"
    }
  }
}

// MARK: - Builder

/// Builds an int8 model in code and serializes it as format v2.
///
/// ```swift
/// var b = ModelBuilder()
/// let x = try b.addActivation(shape: [1, 28, 28, 1], scale: 1 / 255, zeroPoint: -128, name: "image")
/// let w = try b.addConstant(weights, shape: [4, 3, 3, 1], scales: scales, axis: 0)
/// let y = try b.conv2D(x, filter: w, bias: nil, padding: .same, activation: .relu,
///                      outputScale: 4 / 255, outputZeroPoint: -128)
/// try b.markInput(x); try b.markOutput(y)
/// let bytes = try b.serialize()
/// ```
public struct ModelBuilder: Sendable {
  /// One tensor as the builder holds it.
  public struct Tensor: Sendable {
    public let elementType: ElementType
    public let shape: [Int]
    public let quantKind: QuantKind
    /// Empty (no quantization), one (per tensor) or shape[quantAxis] (per channel).
    public let scales: [Float]
    public let zeroPoint: Int32
    public let quantAxis: Int
    /// Little-endian bytes of a constant tensor; nil for activations.
    public let data: [UInt8]?
    public internal(set) var name: String?

    public var isConstant: Bool { data != nil }
    public var elementCount: Int { shape.reduce(1, *) }
  }

  /// One op as the builder holds it.
  public struct Op: Sendable {
    public let code: OpCode
    /// Up to `ModelFormat.maxOpInputs` entries; nil = absent optional input.
    public let inputs: [TensorID?]
    /// One or more (Split) outputs.
    public let outputs: [TensorID]
    public let options: OpOptions
    /// The first output.
    public var output: TensorID { outputs[0] }
  }

  public private(set) var tensors: [Tensor] = []
  public private(set) var ops: [Op] = []
  public private(set) var inputs: [TensorID] = []
  public private(set) var outputs: [TensorID] = []
  public var metadata: ModelMetadata?

  public init() {}

  // MARK: Tensors

  /// Adds a non-constant int8 tensor with per-tensor quantization.
  @discardableResult
  public mutating func addActivation(shape: [Int], scale: Float, zeroPoint: Int32,
                                     name: String? = nil) throws -> TensorID {
    try Self.checkShape(shape, what: "activation \(name ?? "#\(tensors.count)")")
    try Self.checkScale(scale, what: "activation \(name ?? "#\(tensors.count)")")
    try Self.checkInt8ZeroPoint(zeroPoint, what: "activation \(name ?? "#\(tensors.count)")")
    try Self.checkName(name)
    return append(Tensor(elementType: .int8, shape: shape, quantKind: .perTensor, scales: [scale],
                         zeroPoint: zeroPoint, quantAxis: 0, data: nil, name: name))
  }

  /// Adds a constant int8 tensor with one scale (weights use zero point 0).
  @discardableResult
  public mutating func addConstant(_ values: [Int8], shape: [Int], scale: Float, zeroPoint: Int32 = 0,
                                   name: String? = nil) throws -> TensorID {
    let what = "constant \(name ?? "#\(tensors.count)")"
    try Self.checkShape(shape, what: what)
    try Self.checkScale(scale, what: what)
    try Self.checkInt8ZeroPoint(zeroPoint, what: what)
    try Self.checkCount(values.count, shape: shape, what: what)
    try Self.checkName(name)
    return append(Tensor(elementType: .int8, shape: shape, quantKind: .perTensor, scales: [scale],
                         zeroPoint: zeroPoint, quantAxis: 0, data: values.map { UInt8(bitPattern: $0) },
                         name: name))
  }

  /// Adds a constant int8 tensor quantized per channel along `axis`
  /// (symmetric: zero point 0, one scale per index of `shape[axis]`).
  @discardableResult
  public mutating func addConstant(_ values: [Int8], shape: [Int], scales: [Float], axis: Int,
                                   name: String? = nil) throws -> TensorID {
    let what = "constant \(name ?? "#\(tensors.count)")"
    try Self.checkShape(shape, what: what)
    guard axis >= 0, axis < shape.count else {
      throw ModelBuilderError.invalidQuantization("\(what): quantization axis \(axis) outside rank \(shape.count)")
    }
    guard scales.count == shape[axis] else {
      throw ModelBuilderError.invalidQuantization(
        "\(what): \(scales.count) scales for dimension \(axis) of size \(shape[axis])")
    }
    for s in scales { try Self.checkScale(s, what: what) }
    try Self.checkCount(values.count, shape: shape, what: what)
    try Self.checkName(name)
    return append(Tensor(elementType: .int8, shape: shape, quantKind: .perChannel, scales: scales,
                         zeroPoint: 0, quantAxis: axis, data: values.map { UInt8(bitPattern: $0) }, name: name))
  }

  /// Adds a constant int32 tensor (a bias: no quantization parameters, its
  /// scale is input scale × weight scale). `shape` defaults to `[values.count]`.
  @discardableResult
  public mutating func addConstant(_ values: [Int32], shape: [Int]? = nil, name: String? = nil) throws -> TensorID {
    let what = "constant \(name ?? "#\(tensors.count)")"
    let shape = shape ?? [values.count]
    try Self.checkShape(shape, what: what)
    try Self.checkCount(values.count, shape: shape, what: what)
    try Self.checkName(name)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(values.count * 4)
    for v in values {
      let u = UInt32(bitPattern: v)
      bytes += [UInt8(truncatingIfNeeded: u), UInt8(truncatingIfNeeded: u >> 8),
                UInt8(truncatingIfNeeded: u >> 16), UInt8(truncatingIfNeeded: u >> 24)]
    }
    return append(Tensor(elementType: .int32, shape: shape, quantKind: .none, scales: [],
                         zeroPoint: 0, quantAxis: 0, data: bytes, name: name))
  }

  public mutating func setName(_ name: String?, for id: TensorID) throws {
    try checkIndex(id, "setName")
    try Self.checkName(name)
    tensors[id.index].name = name
  }

  public func tensor(_ id: TensorID) throws -> Tensor {
    try checkIndex(id, "tensor lookup")
    return tensors[id.index]
  }

  /// Appends `id` to the model inputs (a non-constant int8 tensor, listed once).
  public mutating func markInput(_ id: TensorID) throws {
    try checkIndex(id, "model input")
    guard !tensors[id.index].isConstant else {
      throw ModelBuilderError.invalidGraph("model input \(label(id)) is a constant")
    }
    guard !inputs.contains(id) else { throw ModelBuilderError.invalidGraph("\(label(id)) is already an input") }
    inputs.append(id)
  }

  /// Appends `id` to the model outputs (a non-constant int8 tensor, listed once).
  public mutating func markOutput(_ id: TensorID) throws {
    try checkIndex(id, "model output")
    guard !tensors[id.index].isConstant else {
      throw ModelBuilderError.invalidGraph("model output \(label(id)) is a constant")
    }
    guard !outputs.contains(id) else { throw ModelBuilderError.invalidGraph("\(label(id)) is already an output") }
    outputs.append(id)
  }

  // MARK: Ops (low level)

  /// Appends an op writing into an existing tensor. Inputs are positional as
  /// documented on `OpCode` (nil = absent optional bias). Shapes and
  /// quantization are checked against what the runtime computes.
  public mutating func addOp(_ code: OpCode, inputs opInputs: [TensorID?], output: TensorID,
                             options: OpOptions = OpOptions()) throws {
    if let unit = ToolOpTable.byOpCode[code], unit.multipleOutputs {
      return try addOp(code, inputs: opInputs, outputs: [output], options: options)
    }
    let expected = try inferOutputShape(code, inputs: opInputs, options: options)
    try checkIndex(output, "output of op #\(ops.count) (\(code))")
    let out = tensors[output.index]
    guard !out.isConstant, out.elementType == .int8, out.quantKind == .perTensor else {
      throw ModelBuilderError.invalidOp("op #\(ops.count) (\(code)): output \(label(output)) must be a non-constant int8 tensor")
    }
    try checkOutput(code, inputs: opInputs, output: output, expected: expected, options: options)
    ops.append(Op(code: code, inputs: opInputs, outputs: [output], options: options))
  }

  /// Appends an op with several outputs (Split), writing into existing
  /// tensors; the op's unit checks the inputs, options and every output.
  public mutating func addOp(_ code: OpCode, inputs opInputs: [TensorID?], outputs: [TensorID],
                             options: OpOptions = OpOptions()) throws {
    let opName = "op #\(ops.count) (\(code))"
    guard let unit = ToolOpTable.byOpCode[code] else {
      throw ModelBuilderError.invalidOp("\(opName): no tools op unit builds this op")
    }
    guard unit.multipleOutputs else {
      guard outputs.count == 1 else { throw ModelBuilderError.invalidOp("\(opName): this op has exactly one output") }
      return try addOp(code, inputs: opInputs, output: outputs[0], options: options)
    }
    guard (1...ModelFormat.maxOpOutputs).contains(outputs.count), Set(outputs).count == outputs.count else {
      throw ModelBuilderError.invalidOp("\(opName): 1 to \(ModelFormat.maxOpOutputs) distinct outputs, got \(outputs)")
    }
    for case let id? in opInputs { try checkIndex(id, "input of \(opName)") }
    for id in outputs {
      try checkIndex(id, "output of \(opName)")
      let out = tensors[id.index]
      guard !out.isConstant, out.elementType == .int8, out.quantKind == .perTensor else {
        throw ModelBuilderError.invalidOp("\(opName): output \(label(id)) must be a non-constant int8 tensor")
      }
    }
    try unit.checkOutputs(BuilderOpCheck(builder: self, code: code, inputs: opInputs, options: options, opName: opName),
                          outputs: outputs)
    ops.append(Op(code: code, inputs: opInputs, outputs: outputs, options: options))
  }

  /// The output shape the runtime computes for `code` on these inputs; throws
  /// if the inputs or options are inconsistent.
  public func inferOutputShape(_ code: OpCode, inputs opInputs: [TensorID?], options o: OpOptions) throws -> [Int] {
    let opName = "op #\(ops.count) (\(code))"
    guard opInputs.count <= ModelFormat.maxOpInputs else {
      throw ModelBuilderError.invalidOp("\(opName): \(opInputs.count) inputs, at most \(ModelFormat.maxOpInputs)")
    }
    for case let id? in opInputs { try checkIndex(id, "input of \(opName)") }
    guard let unit = ToolOpTable.byOpCode[code] else {
      throw ModelBuilderError.invalidOp("\(opName): no tools op unit builds this op")
    }
    if !unit.acceptsBeta {
      guard o.beta == 1 else { throw ModelBuilderError.invalidOp("\(opName): beta applies to softmax only") }
    }
    guard o.axis == 0 || unit.acceptsAxis else {
      throw ModelBuilderError.invalidOp("\(opName): axis applies to concatenation, split and gather only")
    }
    if !unit.acceptsPadValue {
      guard o.padValue == nil, o.padChannelsBefore == 0, o.padChannelsAfter == 0 else {
        throw ModelBuilderError.invalidOp("\(opName): padValue and channel pads apply to pad only")
      }
    }
    // join
    if !unit.acceptsResizeOptions, o.alignCorners || o.halfPixelCenters {
      throw ModelBuilderError.invalidOp("\(opName): alignCorners / halfPixelCenters apply to resize only")
    }
    return try unit.inferOutputShape(BuilderOpCheck(builder: self, code: code, inputs: opInputs, options: o, opName: opName))
  }

  private func checkOutput(_ code: OpCode, inputs opInputs: [TensorID?], output: TensorID, expected: [Int],
                           options: OpOptions) throws {
    let c = BuilderOpCheck(builder: self, code: code, inputs: opInputs, options: options, opName: "op #\(ops.count) (\(code))")
    try ToolOpTable.byOpCode[code]!.checkOutput(c, output: output, expected: expected)
  }

  /// Adds op `code` writing a new activation with the shape the runtime
  /// computes (the convenience builders in Ops/*.swift).
  mutating func addWithNewOutput(_ code: OpCode, _ opInputs: [TensorID?], _ o: OpOptions, scale: Float,
                                 zeroPoint: Int32, name: String?, shape given: [Int]? = nil) throws -> TensorID {
    var opInputs = opInputs
    if opInputs.count == 3, opInputs[2] == nil { opInputs.removeLast() }
    let shape = try given ?? inferOutputShape(code, inputs: opInputs, options: o)
    let out = try addActivation(shape: shape, scale: scale, zeroPoint: zeroPoint, name: name)
    do { try addOp(code, inputs: opInputs, output: out, options: o) } catch { tensors.removeLast(); throw error }
    return out
  }

  /// Drops the last tensor (a convenience builder undoing the constant it
  /// added for an op the builder then refused; nothing may refer to it).
  mutating func removeLastTensor() { tensors.removeLast() }

  // MARK: Limits (the same as the runtime loader's)

  /// Largest accepted tensor dimension.
  public static let maxDimension = ModelFormat.maxDimension
  /// Largest accepted stride, dilation and pooling window.
  public static let maxSpatialParameter = ModelFormat.maxSpatialParameter

  // MARK: Output size (the runtime's formula)

  /// Output extent of a convolution / pooling window along one axis, or nil if
  /// the (padded) input is smaller than the effective filter (k − 1)·d + 1.
  /// VALID: (in − eff) / s + 1; SAME: ceil(in / s); explicit: (in + before + after − eff) / s + 1.
  public static func outputSize(input: Int, filter: Int, stride: Int, dilation: Int, padding: PaddingKind,
                                padBefore: Int = 0, padAfter: Int = 0) -> Int? {
    guard input >= 1, filter >= 1, stride >= 1, dilation >= 1 else { return nil }
    let eff = (filter - 1) * dilation + 1
    switch padding {
    case .same:
      return (input + stride - 1) / stride
    case .valid:
      return input >= eff ? (input - eff) / stride + 1 : nil
    case .explicit:
      let padded = input + padBefore + padAfter
      return padded >= eff ? (padded - eff) / stride + 1 : nil
    }
  }

  // MARK: Quantization helpers (TFLite conventions)

  /// Symmetric per-channel int8 quantization along `axis`: scale[c] = max|w| / 127
  /// (1 for an all-zero channel), q = round-half-away(w / scale[c]) clamped to [-127, 127].
  public static func quantizeWeightsPerChannel(_ weights: [Float], shape: [Int], axis: Int) throws
    -> (data: [Int8], scales: [Float]) {
    try checkShape(shape, what: "weights")
    try checkCount(weights.count, shape: shape, what: "weights")
    guard axis >= 0, axis < shape.count else {
      throw ModelBuilderError.invalidQuantization("weights: axis \(axis) outside rank \(shape.count)")
    }
    guard weights.allSatisfy(\.isFinite) else { throw ModelBuilderError.invalidData("weights: non-finite value") }
    let channels = shape[axis]
    let inner = shape[(axis + 1)...].reduce(1, *)
    func channel(_ i: Int) -> Int { (i / inner) % channels }
    var maxAbs = [Float](repeating: 0, count: channels)
    for (i, w) in weights.enumerated() { maxAbs[channel(i)] = max(maxAbs[channel(i)], abs(w)) }
    let scales = maxAbs.map { $0 > 0 ? $0 / 127 : 1 }
    var data = [Int8](repeating: 0, count: weights.count)
    for (i, w) in weights.enumerated() { data[i] = quantizeSymmetric(w, scale: scales[channel(i)]) }
    return (data, scales)
  }

  /// q = round-half-away(w / scale) clamped to [-127, 127].
  public static func quantizeSymmetric(_ w: Float, scale: Float) -> Int8 {
    let q = (Double(w) / Double(scale)).rounded(.toNearestOrAwayFromZero)
    return Int8(max(-127, min(127, q)))
  }

  /// int32 bias: q[c] = round-half-away(bias[c] / (inputScale × weightScales[c]))
  /// clamped to ±(2^31 − 1). `weightScales` has one entry (per tensor) or one per bias entry.
  public static func quantizeBias(_ bias: [Float], inputScale: Float, weightScales: [Float]) throws -> [Int32] {
    guard weightScales.count == 1 || weightScales.count == bias.count else {
      throw ModelBuilderError.invalidQuantization("bias: \(weightScales.count) weight scales for \(bias.count) bias values")
    }
    try checkScale(inputScale, what: "bias input scale")
    for s in weightScales { try checkScale(s, what: "bias weight scale") }
    guard bias.allSatisfy(\.isFinite) else { throw ModelBuilderError.invalidData("bias: non-finite value") }
    return bias.enumerated().map { i, b in
      let s = Double(inputScale) * Double(weightScales.count == 1 ? weightScales[0] : weightScales[i])
      let q = (Double(b) / s).rounded(.toNearestOrAwayFromZero)
      return Int32(max(-Double(Int32.max), min(Double(Int32.max), q)))
    }
  }

  // MARK: Serialization

  /// Serializes the model as format v2 (see the file comment for placement).
  public func serialize() throws -> [UInt8] {
    try validateGraph()
    let meta = try validatedMetadata()

    var strings = StringTable()
    var tensorNames: [UInt32] = []
    for t in tensors { tensorNames.append(t.name.map { strings.add($0) } ?? ModelFormat.noString) }
    let modelName = meta?.name.map { strings.add($0) } ?? ModelFormat.noString
    let labelOffsets = meta?.labels.map { strings.add($0) } ?? []

    // Placement.
    var pos = ModelFormat.headerSize
    let ioOffset = pos
    pos += 4 * (inputs.count + outputs.count)
    pos = Self.align(pos, 16)
    let tensorTableOffset = pos
    pos += ModelFormat.tensorRecordSize * tensors.count
    pos = Self.align(pos, 16)
    let opTableOffset = pos
    pos += ModelFormat.opRecordSize * ops.count
    // Each op's tensor list (u32 inputs, then outputs), one after another.
    var opListOffsets: [Int] = []
    for op in ops {
      opListOffsets.append(pos)
      pos += 4 * (op.inputs.count + op.outputs.count)
    }
    var metadataOffset = 0, labelsOffset = 0
    if meta != nil {
      pos = Self.align(pos, 16)
      metadataOffset = pos
      pos += ModelFormat.metadataSize
      if !labelOffsets.isEmpty { labelsOffset = pos; pos += 4 * labelOffsets.count }
    }
    let stringTableOffset = pos
    pos += strings.bytes.count
    var scalesOffsets = [Int](repeating: 0, count: tensors.count)
    for (i, t) in tensors.enumerated() where !t.scales.isEmpty {
      pos = Self.align(pos, 4)
      scalesOffsets[i] = pos
      pos += 4 * t.scales.count
    }
    var dataOffsets = [Int](repeating: 0, count: tensors.count)
    for (i, t) in tensors.enumerated() {
      guard let d = t.data else { continue }
      pos = Self.align(pos, ModelFormat.dataAlignment)
      dataOffsets[i] = pos
      pos += d.count
    }
    let fileSize = Self.align(pos, ModelFormat.dataAlignment)
    guard fileSize <= Int(UInt32.max) else {
      throw ModelBuilderError.tooLarge("\(fileSize) bytes exceed the 4 GiB limit of the model format")
    }

    // Records.
    var header = FileHeader()
    header.fileSize = UInt32(fileSize)
    header.tensorCount = UInt32(tensors.count)
    header.tensorTableOffset = UInt32(tensorTableOffset)
    header.opCount = UInt32(ops.count)
    header.opTableOffset = UInt32(opTableOffset)
    header.inputCount = UInt32(inputs.count)
    header.outputCount = UInt32(outputs.count)
    header.ioTableOffset = UInt32(ioOffset)
    header.metadataOffset = UInt32(metadataOffset)
    header.stringTableOffset = UInt32(stringTableOffset)
    header.stringTableSize = UInt32(strings.bytes.count)

    var bytes = [UInt8](repeating: 0, count: fileSize)
    bytes.withUnsafeMutableBytes { buf in
      let base = buf.baseAddress!
      func putU32(_ off: Int, _ v: UInt32) { base.storeBytes(of: v.littleEndian, toByteOffset: off, as: UInt32.self) }

      for (i, id) in (inputs + outputs).enumerated() { putU32(ioOffset + 4 * i, UInt32(id.index)) }

      for (i, t) in tensors.enumerated() {
        var r = TensorRecord()
        r.elementType = t.elementType.rawValue
        r.rank = UInt8(t.shape.count)
        r.quantKind = t.quantKind.rawValue
        r.flags = t.isConstant ? TensorRecord.flagConstant : 0
        let d = t.shape.map { Int32($0) } + [Int32](repeating: 0, count: ModelFormat.maxRank - t.shape.count)
        r.dims = (d[0], d[1], d[2], d[3], d[4])
        r.zeroPoint = t.zeroPoint
        r.quantAxis = UInt32(t.quantAxis)
        r.scalesOffset = UInt32(scalesOffsets[i])
        r.dataOffset = UInt32(dataOffsets[i])
        r.dataSize = UInt32(t.data?.count ?? 0)
        r.nameOffset = tensorNames[i]
        r.write(to: base + tensorTableOffset + i * ModelFormat.tensorRecordSize)
        for (k, s) in t.scales.enumerated() { putU32(scalesOffsets[i] + 4 * k, s.bitPattern) }
        if let data = t.data {
          data.withUnsafeBytes { src in (base + dataOffsets[i]).copyMemory(from: src.baseAddress!, byteCount: src.count) }
        }
      }

      for (i, op) in ops.enumerated() {
        var r = op.record
        r.tensorListOffset = UInt32(opListOffsets[i])
        r.write(to: base + opTableOffset + i * ModelFormat.opRecordSize)
        let list = op.inputs.map { $0.map { UInt32($0.index) } ?? ModelFormat.noTensor } + op.outputs.map { UInt32($0.index) }
        for (k, idx) in list.enumerated() { putU32(opListOffsets[i] + 4 * k, idx) }
      }

      if let meta {
        var m = MetadataRecord()
        m.nameOffset = modelName
        m.classCount = UInt32(meta.labels.count)
        m.labelsOffset = UInt32(labelsOffset)
        m.imageWidth = UInt32(meta.imageWidth)
        m.imageHeight = UInt32(meta.imageHeight)
        m.imageChannels = UInt32(meta.imageChannels)
        m.channelOrder = meta.channelOrder.rawValue
        m.pixelScale = meta.pixelScale
        let mean = meta.mean + [Float](repeating: 0, count: 4 - meta.mean.count)
        let std = meta.std + [Float](repeating: 1, count: 4 - meta.std.count)
        m.mean = (mean[0], mean[1], mean[2], mean[3])
        m.std = (std[0], std[1], std[2], std[3])
        m.write(to: base + metadataOffset)
        for (k, off) in labelOffsets.enumerated() { putU32(labelsOffset + 4 * k, off) }
      }

      strings.bytes.withUnsafeBytes { src in
        if src.count > 0 { (base + stringTableOffset).copyMemory(from: src.baseAddress!, byteCount: src.count) }
      }

      // The checksum covers the header fields after it too: write them first.
      header.checksum = 0
      header.write(to: base)
      header.checksum = crc32(UnsafeRawPointer(base + ModelFormat.checksumStart),
                              count: fileSize - ModelFormat.checksumStart)
      header.write(to: base)
    }
    return bytes
  }

  // MARK: Validation

  /// Whole-graph checks: inputs/outputs present, every op reads only tensors
  /// that exist before it runs (constants, model inputs, earlier outputs),
  /// every activation is written exactly once.
  public func validateGraph() throws {
    guard !inputs.isEmpty else { throw ModelBuilderError.invalidGraph("no model inputs (call markInput)") }
    guard !outputs.isEmpty else { throw ModelBuilderError.invalidGraph("no model outputs (call markOutput)") }
    guard !ops.isEmpty else { throw ModelBuilderError.invalidGraph("no ops") }
    var available = Set(inputs)
    for (i, op) in ops.enumerated() {
      for case let id? in op.inputs where !tensors[id.index].isConstant {
        guard available.contains(id) else {
          throw ModelBuilderError.invalidGraph(
            "op #\(i) (\(op.code)) reads \(label(id)) before any op writes it and it is not a model input")
        }
      }
      for out in op.outputs {
        guard !inputs.contains(out) else {
          throw ModelBuilderError.invalidGraph("op #\(i) (\(op.code)) writes model input \(label(out))")
        }
        guard !available.contains(out) else {
          throw ModelBuilderError.invalidGraph("op #\(i) (\(op.code)) writes \(label(out)), already written by an earlier op")
        }
        available.insert(out)
      }
    }
    for (i, t) in tensors.enumerated() where !t.isConstant && !available.contains(TensorID(i)) {
      throw ModelBuilderError.invalidGraph("\(label(TensorID(i))) is neither a model input nor written by any op")
    }
  }

  private func validatedMetadata() throws -> ModelMetadata? {
    guard let m = metadata else { return nil }
    guard m.imageChannels >= 0, m.imageChannels <= 4 else {
      throw ModelBuilderError.invalidMetadata("image channels \(m.imageChannels) outside 0...4")
    }
    guard m.imageWidth >= 0, m.imageHeight >= 0, m.imageWidth <= Int(UInt32.max), m.imageHeight <= Int(UInt32.max) else {
      throw ModelBuilderError.invalidMetadata("negative or too large image size")
    }
    guard m.pixelScale.isFinite, m.pixelScale > 0 else {
      throw ModelBuilderError.invalidMetadata("pixel scale \(m.pixelScale) must be finite and > 0")
    }
    let channels = max(m.imageChannels, 1)
    guard m.mean.isEmpty || m.mean.count == channels, m.std.isEmpty || m.std.count == channels else {
      throw ModelBuilderError.invalidMetadata("mean/std need one entry per image channel (\(channels)) or none")
    }
    guard m.mean.allSatisfy(\.isFinite) else { throw ModelBuilderError.invalidMetadata("mean is not finite") }
    guard m.std.allSatisfy({ $0.isFinite && $0 != 0 }) else {
      throw ModelBuilderError.invalidMetadata("std values must be finite and non-zero")
    }
    for l in m.labels {
      guard !l.isEmpty else { throw ModelBuilderError.invalidMetadata("empty class label") }
      try Self.checkName(l)
    }
    try Self.checkName(m.name)
    if !m.labels.isEmpty, let out = outputs.first {
      guard tensors[out.index].shape.last == m.labels.count else {
        throw ModelBuilderError.invalidMetadata(
          "\(m.labels.count) labels but the first output \(label(out)) is \(tensors[out.index].shape)")
      }
    }
    if m.imageWidth > 0 || m.imageHeight > 0 || m.imageChannels > 0, let inp = inputs.first {
      let s = tensors[inp.index].shape
      guard s.count == 4, s[1] == m.imageHeight, s[2] == m.imageWidth, s[3] == m.imageChannels else {
        throw ModelBuilderError.invalidMetadata(
          "image \(m.imageWidth)x\(m.imageHeight)x\(m.imageChannels) does not match the first input \(label(inp)) \(s) (NHWC)")
      }
    }
    return m
  }

  func checkIndex(_ id: TensorID, _ context: String) throws {
    guard id.index >= 0, id.index < tensors.count else {
      throw ModelBuilderError.badTensorIndex("\(context): \(id) does not exist (\(tensors.count) tensors)")
    }
  }

  func label(_ id: TensorID) -> String {
    if id.index >= 0, id.index < tensors.count, let n = tensors[id.index].name { return "\(id) \"\(n)\"" }
    return id.description
  }

  private mutating func append(_ t: Tensor) -> TensorID {
    tensors.append(t)
    return TensorID(tensors.count - 1)
  }

  static func checkShape(_ shape: [Int], what: String) throws {
    guard (1...ModelFormat.maxRank).contains(shape.count) else {
      throw ModelBuilderError.invalidShape("\(what): rank \(shape.count) outside 1...\(ModelFormat.maxRank)")
    }
    guard shape.allSatisfy({ $0 >= 1 && $0 <= maxDimension }) else {
      throw ModelBuilderError.invalidShape("\(what): dimensions \(shape) must be in 1...\(maxDimension)")
    }
    var n = 1
    for d in shape {
      let (p, o) = n.multipliedReportingOverflow(by: d)
      guard !o, p <= Int(Int32.max) else { throw ModelBuilderError.tooLarge("\(what): \(shape) has too many elements") }
      n = p
    }
  }

  private static func checkScale(_ s: Float, what: String) throws {
    guard s.isFinite, s > 0 else { throw ModelBuilderError.invalidQuantization("\(what): scale \(s) must be finite and > 0") }
  }

  private static func checkInt8ZeroPoint(_ z: Int32, what: String) throws {
    guard (-128...127).contains(z) else {
      throw ModelBuilderError.invalidQuantization("\(what): zero point \(z) outside int8 range")
    }
  }

  private static func checkCount(_ n: Int, shape: [Int], what: String) throws {
    guard n == shape.reduce(1, *) else {
      throw ModelBuilderError.invalidData("\(what): \(n) values for shape \(shape) (\(shape.reduce(1, *)) elements)")
    }
  }

  private static func checkName(_ s: String?) throws {
    if let s, s.utf8.contains(0) { throw ModelBuilderError.invalidString("\"\(s)\" contains a NUL byte") }
  }

  static func align(_ x: Int, _ a: Int) -> Int { (x + a - 1) / a * a }
}

/// One op being checked by the builder (`ToolOp.inferOutputShape` and
/// `checkOutput`): its inputs and options, and the checks several ops share.
struct BuilderOpCheck {
  let builder: ModelBuilder
  let code: OpCode
  let inputs: [TensorID?]
  let options: OpOptions
  /// "op #3 (conv2D)".
  let opName: String

  var o: OpOptions { options }
  func label(_ id: TensorID) -> String { builder.label(id) }
  func tensor(_ id: TensorID) -> ModelBuilder.Tensor { builder.tensors[id.index] }

  func required(_ i: Int, _ role: String) throws -> ModelBuilder.Tensor {
    guard i < inputs.count, let id = inputs[i] else {
      throw ModelBuilderError.invalidOp("\(opName): missing \(role) (input \(i))")
    }
    return builder.tensors[id.index]
  }

  func int8Activation(_ i: Int, _ role: String) throws -> ModelBuilder.Tensor {
    let t = try required(i, role)
    guard !t.isConstant, t.elementType == .int8, t.quantKind == .perTensor else {
      throw ModelBuilderError.invalidOp(
        "\(opName): \(role) \(label(inputs[i]!)) must be a non-constant int8 tensor with per-tensor quantization")
    }
    return t
  }

  /// The input `x` is rank 4 (NHWC).
  func checkNHWC(_ x: ModelBuilder.Tensor, _ what: String = "") throws {
    guard x.shape.count == 4 else {
      throw ModelBuilderError.invalidShape("\(opName): input must be rank 4 NHWC\(what), got \(x.shape)")
    }
  }

  func expectInputs(_ n: Int) throws {
    guard inputs.count == n else {
      throw ModelBuilderError.invalidOp("\(opName): expects \(n) input(s), got \(inputs.count)")
    }
  }

  func noActivation() throws {
    guard o.activation == .none else {
      throw ModelBuilderError.invalidOp("\(opName): fused activation is not supported on this op")
    }
  }

  /// Strides, dilations, window (`window`: pooling) and explicit pads of a spatial op.
  func checkSpatial(window: Bool) throws {
    let limit = ModelBuilder.maxSpatialParameter
    guard [o.strideH, o.strideW, o.dilationH, o.dilationW, o.filterH, o.filterW].allSatisfy({ $0 <= limit }) else {
      throw ModelBuilderError.invalidOp("\(opName): stride, dilation and window must be at most \(limit)")
    }
    guard o.strideH >= 1, o.strideW >= 1 else { throw ModelBuilderError.invalidOp("\(opName): stride must be >= 1") }
    guard o.dilationH >= 1, o.dilationW >= 1 else { throw ModelBuilderError.invalidOp("\(opName): dilation must be >= 1") }
    if window {
      guard o.filterH >= 1, o.filterW >= 1 else { throw ModelBuilderError.invalidOp("\(opName): pooling window must be >= 1") }
      guard o.dilationH == 1, o.dilationW == 1 else { throw ModelBuilderError.invalidOp("\(opName): pooling has no dilation") }
    } else {
      guard o.filterH == 0, o.filterW == 0 else {
        throw ModelBuilderError.invalidOp("\(opName): filter size comes from the filter tensor; leave filterH/filterW 0")
      }
    }
    if case .explicit(let t, let l, let b, let r) = o.padding {
      guard [t, l, b, r].allSatisfy({ $0 >= 0 }) else {
        throw ModelBuilderError.invalidOp("\(opName): explicit pads must not be negative")
      }
    }
  }

  /// No stride, dilation, window or padding options.
  func checkPlain() throws {
    guard o.strideH == 1, o.strideW == 1, o.dilationH == 1, o.dilationW == 1, o.filterH == 0, o.filterW == 0,
          o.padding == .valid else {
      throw ModelBuilderError.invalidOp("\(opName): stride/dilation/filter/padding options do not apply to this op")
    }
  }

  /// Explicit pads (top, left, bottom, right), zeros otherwise.
  var pads: (t: Int, l: Int, b: Int, r: Int) {
    if case .explicit(let t, let l, let b, let r) = o.padding { return (t, l, b, r) }
    return (0, 0, 0, 0)
  }

  /// Output height and width of a window op on NHWC `x` with a `kh` × `kw` window.
  func spatialOutput(_ x: [Int], kh: Int, kw: Int, dilationH: Int, dilationW: Int) throws -> (Int, Int) {
    let p = pads
    let oh = try spatialOut(x[1], kh, stride: o.strideH, dilation: dilationH, before: p.t, after: p.b, "height")
    let ow = try spatialOut(x[2], kw, stride: o.strideW, dilation: dilationW, before: p.l, after: p.r, "width")
    return (oh, ow)
  }

  func spatialOut(_ input: Int, _ k: Int, stride: Int, dilation: Int, before: Int, after: Int, _ axis: String) throws -> Int {
    let eff = (k - 1) * dilation + 1
    if o.padding.kind == .explicit, before >= eff || after >= eff {
      throw ModelBuilderError.invalidOp(
        "\(opName): explicit \(axis) pads (\(before), \(after)) must be smaller than the effective filter \(eff)")
    }
    guard let n = ModelBuilder.outputSize(input: input, filter: k, stride: stride, dilation: dilation,
                                          padding: o.padding.kind, padBefore: before, padAfter: after) else {
      throw ModelBuilderError.shapeMismatch(
        "\(opName): \(axis) \(input) is smaller than the effective filter \((k - 1) * dilation + 1) with this padding")
    }
    return n
  }

  /// Optional int32 bias (input 2) of `count` values.
  func checkBias(count: Int) throws {
    if inputs.count == 3, let bid = inputs[2] {
      let b = tensor(bid)
      guard b.isConstant, b.elementType == .int32, b.shape == [count] else {
        throw ModelBuilderError.shapeMismatch("\(opName): bias \(label(bid)) must be a constant int32 [\(count)], got \(b.shape)")
      }
    }
  }

  // Output checks.

  func expectShape(_ output: TensorID, _ expected: [Int]) throws {
    let out = tensor(output)
    guard out.shape == expected else {
      throw ModelBuilderError.shapeMismatch("\(opName): output \(label(output)) is \(out.shape), expected \(expected)")
    }
  }

  /// The output has the first input's scale and zero point.
  func sameQuant(_ output: TensorID) throws {
    let out = tensor(output), x = tensor(inputs[0]!)
    guard out.scales == x.scales, out.zeroPoint == x.zeroPoint else {
      throw ModelBuilderError.invalidQuantization(
        "\(opName): output \(label(output)) must have the input's scale and zero point (\(x.scales[0]), \(x.zeroPoint))")
    }
  }

  /// The output is quantized at scale 1/256, zero point −128 (softmax, logistic).
  func unitIntervalQuant(_ output: TensorID) throws {
    let out = tensor(output)
    guard out.scales == [Float(1) / 256], out.zeroPoint == -128 else {
      throw ModelBuilderError.invalidQuantization("\(opName): output \(label(output)) must have scale 1/256 and zero point -128")
    }
  }
}

extension ModelBuilder.Op {
  /// The op as a format v2 record (the caller sets `tensorListOffset` and
  /// writes the list: inputs, absent ones as noTensor, then the output).
  var record: OpRecord {
    var r = OpRecord()
    r.opCode = code.rawValue
    r.activation = options.activation.rawValue
    r.padding = options.padding.kind.rawValue
    r.inputCount = UInt16(inputs.count)
    r.outputCount = UInt16(outputs.count)
    r.strideH = Int32(options.strideH); r.strideW = Int32(options.strideW)
    r.dilationH = Int32(options.dilationH); r.dilationW = Int32(options.dilationW)
    r.filterH = Int32(options.filterH); r.filterW = Int32(options.filterW)  // pad: overwritten by `encode`
    if case .explicit(let t, let l, let b, let rt) = options.padding {
      r.padTop = Int32(t); r.padLeft = Int32(l); r.padBottom = Int32(b); r.padRight = Int32(rt)
    }
    r.extra = 0
    ToolOpTable.byOpCode[code]?.encode(options, code, into: &r)
    return r
  }
}

/// NUL-terminated UTF-8 strings, each stored once; offsets relative to the table start.
struct StringTable {
  var bytes: [UInt8] = []
  var index: [String: UInt32] = [:]

  mutating func add(_ s: String) -> UInt32 {
    if let o = index[s] { return o }
    let o = UInt32(bytes.count)
    bytes += Array(s.utf8) + [0]
    index[s] = o
    return o
  }
}
