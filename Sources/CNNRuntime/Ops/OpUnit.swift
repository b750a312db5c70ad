// The op unit: everything the runtime knows about one op lives in one file
// under Sources/CNNRuntime/Ops/ — decoding its record, validating and
// preparing it at load, its reference kernel and the dispatch to faster
// kernels — and is registered by one line of `OpCode.visit` (OpTable.swift).
// The loader (Format/ModelLoader.swift, Runtime/Prepare.swift) and the run
// loop (Runtime/Interpreter.swift) are generic: they reach an op only
// through `RuntimeOp`, much as a TensorFlow Lite Micro kernel keeps Prepare
// and Eval together behind one registration.
//
// Embedded Swift has no existentials, so the table is a `switch` that hands
// the op's type to a generic visitor (fully specialised at compile time, no
// allocation, no indirect call).
//
// Memory: each op gets one region of the model block, sized in pass 1 by
// `extraBytes` (from the records alone) plus its `Data`; `prepare` fills
// `Data` and may carve requantization tables or packed weights out of the
// extra bytes (`OpPrepareContext.allocate`). `eval` gets a pointer to `Data`.

/// One op kind of the runtime.
protocol RuntimeOp {
  /// What `prepare` computes and `eval` reads (stored in the model block).
  associatedtype Data
  /// Human-readable name (Keras-like), shown by inspection calls and in load errors.
  static var name: StaticString { get }
  /// How many inputs (absent optional ones included) and outputs the op
  /// takes; checked before `prepare`.
  static var arity: OpArity { get }
  /// Pass 1: bytes beyond `Data` that `prepare` may allocate for this op
  /// (tables, packed weights). Reads only records that pass 1 has checked on
  /// their own (tensor shapes are not yet checked against each other), so it
  /// must not trap on any values and may over-estimate. Default 0.
  static func extraBytes(_ plan: inout OpPlanContext) -> Int
  /// Pass 2: validates the op against its tensors and computes its data.
  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> Data
  /// Runs the op. No allocation, no floating point.
  static func eval(_ data: UnsafePointer<Data>, _ ctx: OpEvalContext)
}

extension RuntimeOp {
  static func extraBytes(_ plan: inout OpPlanContext) -> Int { 0 }
}

/// The input and output counts an op accepts.
struct OpArity {
  var inputs: ClosedRange<Int>
  var outputs: ClosedRange<Int> = 1...1
}

/// The `Data` of an op that needs nothing prepared.
struct NoOpData {}

/// Something done for one op kind, by `OpCode.visit`.
protocol OpVisitor {
  associatedtype Result
  mutating func visit<Op: RuntimeOp>(_ op: Op.Type) -> Result
  /// An op left out of this build (`make lib OPS=...`, OpTable.swift). The
  /// loader refuses such a model (`isCompiledIn`) before any other visitor
  /// could reach one.
  mutating func unavailable() -> Result
}

/// Whether the op is compiled into this build.
struct OpPresence: OpVisitor {
  mutating func visit<Op: RuntimeOp>(_ op: Op.Type) -> Bool { true }
  mutating func unavailable() -> Bool { false }
}

extension OpCode {
  /// False for an op left out of a reduced build (`make lib OPS=...`).
  var isCompiledIn: Bool {
    var v = OpPresence()
    return visit(&v)
  }
}

// MARK: - Pass 1

/// What an op sees in pass 1 (`RuntimeOp.extraBytes`).
struct OpPlanContext {
  let data: UnsafeRawPointer
  let header: FileHeader
  let rec: OpRecord
  /// Kernel path of this load, as selected; read it through `isa`.
  let selectedISA: Int32
  /// Kernel path of this load (portable, known at compile time, in a build
  /// without SIMD kernel modules; see `buildISA`).
  @inline(__always) var isa: Int32 { buildISA(selectedISA) }
  /// Packed convolution weights planned so far (all ops), for `maxPackedConvBytes`.
  var packedConvBytes: Int
  /// Of the packed regions planned so far, the bytes of their packed filter
  /// copies (conv2DPackedSize), and the file bytes of those filters.
  var packedWeightBytes = 0
  var packedFilterFileBytes = 0

  /// Counts one packed convolution's filter copy (`packedBytes` in the block)
  /// and the filter's own bytes in the file (int8, one per element).
  mutating func countPackedWeights(_ packedBytes: Int, filter: TensorRecord) {
    guard packedBytes > 0 else { return }
    var elements = 1
    var d = 0
    while d < Int(filter.rank) { elements *= Int(filter.dim(d)); d += 1 }  // checked in pass 1: <= maxElements
    packedWeightBytes += packedBytes
    packedFilterFileBytes += elements
  }

  /// Record of input `k`, nil when absent (indices were checked in pass 1).
  func inputRecord(_ k: Int) -> TensorRecord? {
    let idx = rec.input(k, in: data)
    if idx == ModelFormat.noTensor { return nil }
    return tensorRecord(Int(idx))
  }

  /// Record of the first output.
  var outputRecord: TensorRecord { tensorRecord(Int(rec.output(0, in: data))) }

  func tensorRecord(_ i: Int) -> TensorRecord {
    TensorRecord.read(from: data + Int(header.tensorTableOffset) + i * ModelFormat.tensorRecordSize)
  }
}

/// Pass 1 bytes of one op's region: its `Data` and its extra bytes, each a
/// multiple of 16 (an op that wants 64-byte aligned extra bytes, e.g. packed
/// weights, plans 64 bytes of slack).
struct OpRegionSize: OpVisitor {
  var plan: OpPlanContext
  mutating func visit<Op: RuntimeOp>(_ op: Op.Type) -> (data: Int, extra: Int) {
    (alignUp(MemoryLayout<Op.Data>.stride, 16), alignUp(Op.extraBytes(&plan), 16))
  }
  mutating func unavailable() -> (data: Int, extra: Int) { (0, 0) }
}

// MARK: - Pass 2

/// What an op sees in pass 2 (`RuntimeOp.prepare`).
struct OpPrepareContext {
  let state: UnsafeMutablePointer<ModelState>
  let index: Int
  let rec: OpRecord
  let name: StaticString
  let activation: FusedActivation
  let padding: PaddingKind
  /// Kernel path of this load (KernelISA numbering), as selected; read it through `isa`.
  let selectedISA: Int32
  /// Kernel path of this load (portable, known at compile time, in a build
  /// without SIMD kernel modules; see `buildISA`).
  @inline(__always) var isa: Int32 { buildISA(selectedISA) }
  /// Extra bytes of this op's region (`extraBytes`), handed out by `allocate`.
  let extra: UnsafeMutableRawPointer
  let extraCapacity: Int
  var extraUsed = 0
  /// Set by `prepare` for inspection (cnn_model_op_info).
  var paramCount: Int64 = 0
  var macs: Int64 = 0

  func tensor(_ i: Int) -> TensorInfo { state.pointee.tensors[i] }
  /// Tensor index of input `k` (noTensor when absent).
  func inputIndex(_ k: Int) -> UInt32 { rec.input(k, in: state.pointee.data) }
  /// Tensor index of output `k`.
  func outputIndex(_ k: Int) -> Int { Int(rec.output(k, in: state.pointee.data)) }
  /// The first output.
  var output: TensorInfo { tensor(outputIndex(0)) }
  /// Fused-activation clamp bounds in the output's quantized units.
  var activationRange: (Int32, Int32) {
    activationRangeOf(activation, scale: output.scale, zeroPoint: output.zeroPoint)
  }
  func hasInput(_ k: Int) -> Bool { inputIndex(k) != ModelFormat.noTensor }

  func fail(_ s: CNNStatus, _ detail: StaticString) -> LoadError {
    var e = LoadError(s, "op", index: index, detail)
    e.opName = name
    return e
  }

  /// A failure about tensor `t` (named in the message).
  func fail(_ s: CNNStatus, tensor t: Int, _ detail: StaticString) -> LoadError {
    var e = fail(s, detail)
    e.tensor = t
    e.tensorName = state.pointee.string(tensor(t).nameOffset)
    return e
  }

  /// `bytes` (rounded up to 16) of this op's extra region, at an address
  /// aligned to `alignment` (16 by default; 64 for packed weights). Exceeding what `extraBytes` planned is a
  /// malformed model, not a trap.
  mutating func allocate(bytes: Int, alignment: Int = 16) throws(LoadError) -> UnsafeMutableRawPointer {
    let start = alignedStart(alignment)
    if bytes < 0 || start > extraCapacity || bytes > extraCapacity - start {
      throw fail(.malformedModel, "op data larger than planned")
    }
    extraUsed = start + alignUp(bytes, 16)
    return extra + start
  }

  /// The first offset at or after `extraUsed` whose address is a multiple of
  /// `alignment` (a power of two).
  private func alignedStart(_ alignment: Int) -> Int {
    let address = Int(bitPattern: extra) + extraUsed
    return extraUsed + (alignUp(address, alignment) - address)
  }

  /// Whether `bytes` more (at `alignment`) fit the extra region.
  func canAllocate(bytes: Int, alignment: Int = 16) -> Bool {
    let start = alignedStart(alignment)
    return bytes >= 0 && start <= extraCapacity && bytes <= extraCapacity - start
  }

  /// Input `k`, which must be an activation (rank 4 when `rank4`).
  func activationInput(_ k: Int, rank4: Bool = false) throws(LoadError) -> TensorInfo {
    let idx = inputIndex(k)
    if idx == ModelFormat.noTensor { throw fail(.badOp, "missing required input") }
    let t = tensor(Int(idx))
    if !t.isActivation { throw fail(.badOp, "data input must be an activation tensor") }
    if rank4 && t.rank != 4 { throw fail(.shapeMismatch, "input must be rank 4 (NHWC)") }
    return t
  }

  /// Places input `k`'s bytes inside the output's, `offset` bytes in, so the
  /// op's copy of it becomes a no-op (the op must then skip copying bytes
  /// onto themselves). Done only when that is safe whatever the graph: the
  /// input is an int8 activation written by an earlier op (not a model
  /// input), not already placed in another tensor, and lies within the
  /// output. The planner then keeps the output's bytes alive from the
  /// input's first write to the last read of either (Memory/Planner.swift).
  /// Returns whether the input was placed.
  @discardableResult
  func placeInputInOutput(_ k: Int, offset: Int) -> Bool {
    let idx = inputIndex(k)
    if idx == ModelFormat.noTensor { return false }
    let t = state.pointee.tensors + Int(idx)
    let out = outputIndex(0)
    if Int(idx) == out || !t.pointee.isActivation || t.pointee.isModelInput || t.pointee.producer < 0
      || t.pointee.aliasRoot >= 0 || t.pointee.type != .int8 || tensor(out).type != .int8
      || offset < 0 || offset > tensor(out).byteSize - t.pointee.byteSize {
      return false
    }
    t.pointee.aliasRoot = out
    t.pointee.aliasOffset = offset
    return true
  }

  /// Constant input `k` (nil when absent).
  func constantInput(_ k: Int) -> TensorInfo? {
    hasInput(k) ? tensor(Int(inputIndex(k))) : nil
  }

  func requireNoActivation() throws(LoadError) {
    if activation != .none { throw fail(.badOp, "no fused activation allowed") }
  }

  func requireRank4Output() throws(LoadError) {
    if output.rank != 4 { throw fail(.shapeMismatch, "output must be rank 4 (NHWC)") }
  }

  /// Constant int32 bias (input 2), one value per output channel, or nil.
  func bias(channels: Int) throws(LoadError) -> UnsafePointer<Int32>? {
    guard let b = constantInput(2) else { return nil }
    if b.constData == nil || b.type != .int32 || b.count != channels {
      throw fail(.badOp, "bias must be a constant int32 tensor with one value per output channel")
    }
    return UnsafePointer(b.constData!.assumingMemoryBound(to: Int32.self))
  }

  func checkStrides() throws(LoadError) {
    let r = rec
    if r.strideH < 1 || r.strideW < 1 || r.strideH > maxSpatialParam || r.strideW > maxSpatialParam {
      throw fail(.badOp, "stride must be 1 to 4096")
    }
    if r.dilationH < 1 || r.dilationW < 1 || r.dilationH > maxSpatialParam || r.dilationW > maxSpatialParam {
      throw fail(.badOp, "dilation must be 1 to 4096")
    }
  }

  /// Checks that the output's H and W follow from the input, filter, stride,
  /// dilation and padding, and returns the leading pads.
  func checkSpatial(input: Dims4, output: Dims4, filterH: Int, filterW: Int,
                    dilationH: Int, dilationW: Int) throws(LoadError) -> (Int, Int) {
    let r = rec
    if padding == .explicit {
      if r.padTop < 0 || r.padLeft < 0 || r.padBottom < 0 || r.padRight < 0 {
        throw fail(.badOp, "padding must not be negative")
      }
      let effH = (filterH - 1) * dilationH + 1, effW = (filterW - 1) * dilationW + 1
      if Int(r.padTop) >= effH || Int(r.padBottom) >= effH || Int(r.padLeft) >= effW || Int(r.padRight) >= effW {
        throw fail(.badOp, "padding must be smaller than the filter extent")
      }
    }
    guard let oh = spatialOutput(input: input.h, filter: filterH, stride: Int(r.strideH), dilation: dilationH,
                                 padding: padding, explicitBefore: Int(r.padTop), explicitAfter: Int(r.padBottom)),
          let ow = spatialOutput(input: input.w, filter: filterW, stride: Int(r.strideW), dilation: dilationW,
                                 padding: padding, explicitBefore: Int(r.padLeft), explicitAfter: Int(r.padRight))
    else { throw fail(.shapeMismatch, "filter larger than the padded input") }
    if oh.size != output.h || ow.size != output.w {
      throw fail(.shapeMismatch, "output height/width differ from (W - F + 2P) / S + 1")
    }
    return (oh.padBefore, ow.padBefore)
  }

  /// Per-channel multipliers and shifts of a convolution-like op (allocated
  /// from the op's extra region), exactly as TFLite Micro's Prepare:
  /// effective = double(s_in) × double(s_w[c]) / double(s_out). Refuses
  /// multipliers outside `checkRequantShift`'s range.
  mutating func channelRequant(input: TensorInfo, filter: TensorInfo, channels: Int) throws(LoadError) -> ChannelRequant {
    let multipliers = try allocate(bytes: 4 * channels).bindMemory(to: Int32.self, capacity: channels)
    let shifts = try allocate(bytes: 4 * channels).bindMemory(to: Int32.self, capacity: channels)
    let s = state.pointee
    var c = 0
    while c < channels {
      let fs = filter.quantKind == .perChannel ? s.scale(of: filter, channel: c) : filter.scale
      let (m, sh) = convRequant(inputScale: input.scale, filterScale: fs, outputScale: output.scale)
      try checkRequantShift(sh)
      multipliers[c] = m
      shifts[c] = sh
      c += 1
    }
    return ChannelRequant(multiplier: UnsafePointer(multipliers), shift: UnsafePointer(shifts))
  }

  /// The accepted requantization range: a multiplier/shift pair from
  /// QuantizeMultiplier is used only when its shift is at most
  /// `maxRequantLeftShift` (real multiplier below 2^31). Larger shifts are
  /// undefined in TFLite Micro (x × 2^shift overflows its int) and are not
  /// computed alike by every kernel path (a masked scalar shift versus a
  /// vector shift that gives 0), so the model is refused, naming the op and
  /// its output tensor. Shifts below -31 never reach here (QuantizeMultiplier
  /// turns them into multiplier 0).
  func checkRequantShift(_ shift: Int32) throws(LoadError) {
    if shift > maxRequantLeftShift {
      throw fail(.badOp, tensor: outputIndex(0),
                 "requantization multiplier >= 2^31 (input scale x weight scale / output scale too large; accepted: below 2^31, shift <= 31)")
    }
  }
}

/// Largest left shift a requantization may use (see `checkRequantShift`).
let maxRequantLeftShift: Int32 = 31

/// Prepares one op through its unit and stores its data in its region.
struct OpPreparer: OpVisitor {
  var ctx: OpPrepareContext
  let dataRegion: UnsafeMutableRawPointer
  var error: LoadError? = nil

  mutating func visit<Op: RuntimeOp>(_ op: Op.Type) {
    do throws(LoadError) {
      if !Op.arity.inputs.contains(Int(ctx.rec.inputCount)) {
        throw ctx.fail(.badOp, "wrong number of inputs for this op")
      }
      if !Op.arity.outputs.contains(Int(ctx.rec.outputCount)) {
        throw ctx.fail(.badOp, "wrong number of outputs for this op")
      }
      let d = try Op.prepare(&ctx)
      dataRegion.bindMemory(to: Op.Data.self, capacity: 1).initialize(to: d)
    } catch {
      self.error = error
    }
  }
  mutating func unavailable() { error = ctx.fail(.badOp, Self.notInBuild) }
  static let notInBuild: StaticString =
    "op not in this build's op set (the library was built with a reduced OPS list; `cnnrt export-c` prints the ops a model needs)"
}

// MARK: - Run time

/// What an op sees when it runs (`RuntimeOp.eval`).
struct OpEvalContext {
  let context: ContextState
  let op: PreparedOp

  /// Kernel path of the model (KernelISA numbering).
  @inline(__always) var isa: Int32 { buildISA(context.model.pointee.kernelISA) }

  @inline(__always) func input(_ k: Int) -> UnsafePointer<Int8> {
    UnsafePointer(context.tensorData(Int(op.input(k))).assumingMemoryBound(to: Int8.self))
  }
  @inline(__always) func inputDims(_ k: Int) -> Dims4 { context.model.pointee.tensors[Int(op.input(k))].dims }
  /// The optional int32 bias at input `k`.
  @inline(__always) func bias(_ k: Int) -> UnsafePointer<Int32>? {
    op.input(k) < 0 ? nil
      : UnsafePointer(context.tensorData(Int(op.input(k))).assumingMemoryBound(to: Int32.self))
  }
  @inline(__always) var output: UnsafeMutablePointer<Int8> {
    context.tensorData(Int(op.output)).assumingMemoryBound(to: Int8.self)
  }
  @inline(__always) var outputDims: Dims4 { context.model.pointee.tensors[Int(op.output)].dims }
  /// Output `k` (k < the op's output count).
  @inline(__always) func output(_ k: Int) -> UnsafeMutablePointer<Int8> {
    context.tensorData(Int(op.output(k))).assumingMemoryBound(to: Int8.self)
  }
  @inline(__always) var outputCount: Int { context.model.pointee.tensors[Int(op.output)].count }
}

/// Runs one op through its unit.
struct OpRunner: OpVisitor {
  let ctx: OpEvalContext
  @inline(__always)
  mutating func visit<Op: RuntimeOp>(_ op: Op.Type) {
    Op.eval(UnsafePointer(ctx.op.data.assumingMemoryBound(to: Op.Data.self)), ctx)
  }
  mutating func unavailable() {}
}

/// The op's name.
struct OpNamer: OpVisitor {
  mutating func visit<Op: RuntimeOp>(_ op: Op.Type) -> StaticString { Op.name }
  mutating func unavailable() -> StaticString { "(op not in this build)" }
}

extension OpCode {
  /// Human-readable op name (Keras-like).
  public var staticName: StaticString {
    var v = OpNamer()
    return visit(&v)
  }
}

// MARK: - Helpers shared by several op units

@inline(__always)
func sameQuantization(_ a: TensorInfo, _ b: TensorInfo) -> Bool {
  a.scale == b.scale && a.zeroPoint == b.zeroPoint
}

/// Every dimension of `d` equals the output's or is 1.
func broadcasts(_ d: Dims4, to out: Dims4) -> Bool {
  (d.n == out.n || d.n == 1) && (d.h == out.h || d.h == 1) && (d.w == out.w || d.w == 1) && (d.c == out.c || d.c == 1)
}

/// Output size along one axis and the leading pad, TFLite conventions.
/// Returns nil when the op cannot produce any output.
func spatialOutput(input: Int, filter: Int, stride: Int, dilation: Int, padding: PaddingKind,
                   explicitBefore: Int, explicitAfter: Int) -> (size: Int, padBefore: Int)? {
  let effective = (filter - 1) * dilation + 1
  switch padding {
  case .valid:
    if input < effective { return nil }
    return ((input - effective) / stride + 1, 0)
  case .same:
    let out = (input + stride - 1) / stride
    let total = max((out - 1) * stride + effective - input, 0)
    return (out, total / 2)
  case .explicit:
    // The notes' (W − F + 2P) / S + 1, with possibly unequal pads.
    let padded = input + explicitBefore + explicitAfter
    if padded < effective { return nil }
    return ((padded - effective) / stride + 1, explicitBefore)
  }
}

/// Clamp bounds of a fused activation in the output's quantized units.
func activationRangeOf(_ act: FusedActivation, scale: Float, zeroPoint: Int32) -> (Int32, Int32) {
  let r: (min: Int32, max: Int32)
  switch act {
  case .none: r = quantizedActivationRange(realMin: nil, realMax: nil, outputScale: scale, outputZeroPoint: zeroPoint)
  case .relu: r = quantizedActivationRange(realMin: 0, realMax: nil, outputScale: scale, outputZeroPoint: zeroPoint)
  case .relu6: r = quantizedActivationRange(realMin: 0, realMax: 6, outputScale: scale, outputZeroPoint: zeroPoint)
  }
  return (r.min, r.max)
}
