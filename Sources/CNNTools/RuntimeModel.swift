// A Swift view of a model loaded through the runtime's C API — the same
// entry points C users call (cnn_model_load_*, cnn_classify, ...), so the
// CLI and tests exercise exactly what ships in libcnnrt.so.
import CNNRuntime
import Foundation
import _CNNRuntimeShims

/// A runtime failure with its status and the loader's message.
public struct RuntimeError: Error, CustomStringConvertible, Equatable {
  public let status: CNNStatus
  public let message: String

  public var description: String {
    let what = String(cString: cnnStatusString(status.rawValue))
    return message.isEmpty ? what : "\(what): \(message)"
  }
}

/// Shape and quantization of one tensor.
public struct TensorSummary: Sendable, Equatable {
  public let name: String
  public let shape: [Int]
  public let isInt8: Bool
  public let scale: Float
  public let zeroPoint: Int32
  public let perChannel: Bool
  public let isConstant: Bool
  public let byteSize: Int
}

/// One op as the runtime prepared it.
public struct OpSummary: Sendable, Equatable {
  public let index: Int
  /// The op's code in the model format (`OpCode` raw value).
  public let code: Int
  public let typeName: String
  public let outputName: String
  public let outputShape: [Int]
  public let paramCount: Int64
  public let macs: Int64
  /// Tensor indices of its inputs, in order (-1 for an absent optional one).
  public let inputs: [Int]
}

/// One class and its score.
public struct ClassScore: Sendable, Equatable {
  public let index: Int
  public let label: String
  public let probability: Float
}

/// A loaded model plus one context (allocated arena).
public final class RuntimeModel {
  private let model: UnsafeMutablePointer<cnn_model>
  private let context: UnsafeMutablePointer<cnn_context>
  private let bytes: UnsafeMutableRawBufferPointer
  public let fileSize: Int

  /// Loads model bytes (copied into an aligned buffer kept alive by this object).
  public init(bytes data: [UInt8]) throws(RuntimeError) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
    buffer.copyBytes(from: data)
    var m: UnsafeMutablePointer<cnn_model>? = nil
    var message = [CChar](repeating: 0, count: 512)
    let st = message.withUnsafeMutableBufferPointer { msg in
      cnnModelLoadMemory(UnsafeRawPointer(buffer.baseAddress), UInt(data.count), &m, msg.baseAddress, UInt(msg.count))
    }
    guard st == .ok, let m else {
      buffer.deallocate()
      let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      throw RuntimeError(status: st, message: text)
    }
    var c: UnsafeMutablePointer<cnn_context>? = nil
    let cs = cnnContextCreate(m, &c)
    guard cs == .ok, let c else {
      cnnModelFree(m)
      buffer.deallocate()
      throw RuntimeError(status: cs, message: "cannot create a context")
    }
    self.model = m
    self.context = c
    self.bytes = buffer
    self.fileSize = data.count
  }

  /// Loads a model file.
  public convenience init(path: String) throws(RuntimeError) {
    guard let data = readWholeFile(path) else {
      throw RuntimeError(status: .ioError, message: path)
    }
    try self.init(bytes: data)
  }

  deinit {
    cnnContextFree(context)
    cnnModelFree(model)
    bytes.deallocate()
  }

  public var name: String { String(cString: cnnModelName(model)!) }
  public var classCount: Int { Int(cnnModelClassCount(model)) }
  /// Class labels, read once from the model.
  public private(set) lazy var labels: [String] = (0..<classCount).map { String(cString: cnnModelClassLabel(model, Int32($0))!) }
  public var opCount: Int { Int(cnnModelOpCount(model)) }
  public var activationBytes: Int { Int(cnnModelActivationBytes(model)) }
  public var unplannedActivationBytes: Int { Int(cnnModelUnplannedActivationBytes(model)) }
  /// Bytes of the prepared-model block (tensor table, prepared ops,
  /// per-channel multipliers): what cnn_model_load_static needs.
  public var modelBlockBytes: Int {
    var n: UInt = 0
    _ = cnnModelMemorySize(UnsafeRawPointer(bytes.baseAddress), UInt(fileSize), &n)
    return Int(n)
  }

  /// The packed-weight share of the model block, on the kernel path a load
  /// would choose now, as `modelBlockBytes` (nil if the model does not load).
  public var packedWeights: PackedWeightSummary? {
    packedWeightSummary(UnsafeRawPointer(bytes.baseAddress!), fileSize)
  }

  /// The packed-weight share of the model block laid out for every kernel
  /// path of both architectures (portable, avx2, avx512, neon, dotprod), as
  /// `packedWeights` but whatever the CPU: only sizes are computed.
  /// `onThisCPU`: a load asked for that path (CNNRT_ISA) would take it here.
  public var packedWeightsPerPath: [(summary: PackedWeightSummary, onThisCPU: Bool)] {
    [KernelISA.portable, KernelISA.avx2, KernelISA.avx512, KernelISA.neon, KernelISA.dotprod].compactMap { isa in
      packedWeightSummary(UnsafeRawPointer(bytes.baseAddress!), fileSize, isa: isa)
        .map { ($0, resolvedKernelISA(request: isa) == isa) }
    }
  }

  public var arenaBytes: Int {
    var n: UInt = 0
    _ = cnnContextArenaSize(model, &n)
    return Int(n)
  }

  public var inputs: [TensorSummary] {
    (0..<Int(cnnModelInputCount(model))).map { i in
      var info = cnn_tensor_info()
      _ = cnnModelInputInfo(model, Int32(i), &info)
      return Self.summary(info)
    }
  }

  public var outputs: [TensorSummary] {
    (0..<Int(cnnModelOutputCount(model))).map { i in
      var info = cnn_tensor_info()
      _ = cnnModelOutputInfo(model, Int32(i), &info)
      return Self.summary(info)
    }
  }

  public func tensor(_ index: Int) -> TensorSummary {
    var info = cnn_tensor_info()
    _ = cnnModelTensorInfo(model, Int32(index), &info)
    return Self.summary(info)
  }

  public var ops: [OpSummary] {
    (0..<opCount).map { i in
      var info = cnn_op_info()
      _ = cnnModelOpInfo(model, Int32(i), &info)
      let out = tensor(Int(info.output))
      return OpSummary(index: i, code: Int(info.type), typeName: String(cString: info.type_name), outputName: out.name,
                       outputShape: out.shape,
                       paramCount: info.param_count, macs: info.macs,
                       inputs: (0..<Int(info.input_count)).map { Int(cnnModelOpInput(model, Int32(i), Int32($0))) })
    }
  }

  private static func summary(_ info: cnn_tensor_info) -> TensorSummary {
    let d = [info.dims.0, info.dims.1, info.dims.2, info.dims.3, info.dims.4].prefix(Int(info.rank)).map { Int($0) }
    return TensorSummary(name: info.name.map { String(cString: $0) } ?? "", shape: d,
                         isInt8: info.dtype == 1, scale: info.scale, zeroPoint: info.zero_point,
                         perChannel: info.per_channel != 0, isConstant: info.is_constant != 0,
                         byteSize: info.byte_size)
  }

  /// Runs cnn_classify on an 8-bit image; returns every class, best first.
  public func classify(pixels: [UInt8], width: Int, height: Int, channels: Int) throws(RuntimeError) -> [ClassScore] {
    try Self.classify(context, labels: labels, pixels: pixels, width: width, height: height, channels: channels)
  }

  /// A further context on this model (its own arena) for another thread: the
  /// C API's rule is one context per thread, the model shared. Keeps the
  /// model alive.
  public func makeContext() throws(RuntimeError) -> ModelContext {
    var c: UnsafeMutablePointer<cnn_context>? = nil
    let st = cnnContextCreate(model, &c)
    guard st == .ok, let c else { throw RuntimeError(status: st, message: "cannot create a context") }
    return ModelContext(owner: self, context: c, labels: labels)
  }

  fileprivate static func classify(_ context: UnsafeMutablePointer<cnn_context>, labels: [String], pixels: [UInt8],
                                   width: Int, height: Int, channels: Int) throws(RuntimeError) -> [ClassScore] {
    var result = cnn_classification()
    let n = labels.count
    var probs = [Float](repeating: 0, count: max(n, 1))
    let st = pixels.withUnsafeBufferPointer { px in
      probs.withUnsafeMutableBufferPointer { p in
        cnnClassify(context, px.baseAddress, Int32(clamping: width), Int32(clamping: height), Int32(clamping: channels),
                    0, &result, p.baseAddress, UInt(n))
      }
    }
    guard st == .ok else { throw RuntimeError(status: st, message: "") }
    return (0..<n).map { ClassScore(index: $0, label: labels[$0], probability: probs[$0]) }
      .sorted { $0.probability != $1.probability ? $0.probability > $1.probability : $0.index < $1.index }
  }

  /// Runs the model on raw int8 input 0 and returns raw int8 output `index`.
  public func run(input: [Int8], output index: Int = 0) throws(RuntimeError) -> [Int8] {
    let st = input.withUnsafeBufferPointer { cnnSetInput(context, 0, $0.baseAddress, UInt($0.count)) }
    guard st == .ok else { throw RuntimeError(status: st, message: "input size mismatch") }
    _ = cnnRun(context)
    var p: UnsafePointer<Int8>? = nil
    var count: UInt = 0
    let os = cnnOutputRaw(context, Int32(index), &p, &count)
    guard os == .ok, let p else { throw RuntimeError(status: os, message: "") }
    return Array(UnsafeBufferPointer(start: p, count: Int(count)))
  }

  /// Runs the model on raw int8 data for every input, in order, and returns
  /// every output's raw int8 data, in order.
  public func run(inputs: [[Int8]]) throws(RuntimeError) -> [[Int8]] {
    for (i, data) in inputs.enumerated() {
      let st = data.withUnsafeBufferPointer { cnnSetInput(context, Int32(i), $0.baseAddress, UInt($0.count)) }
      guard st == .ok else { throw RuntimeError(status: st, message: "input \(i): size or index mismatch") }
    }
    _ = cnnRun(context)
    var outs: [[Int8]] = []
    for o in 0..<Int(cnnModelOutputCount(model)) {
      var p: UnsafePointer<Int8>? = nil
      var count: UInt = 0
      let os = cnnOutputRaw(context, Int32(o), &p, &count)
      guard os == .ok, let p else { throw RuntimeError(status: os, message: "output \(o)") }
      outs.append(Array(UnsafeBufferPointer(start: p, count: Int(count))))
    }
    return outs
  }

  /// The index of op `op`'s output tensor.
  public func opOutputIndex(_ op: Int) -> Int {
    var info = cnn_op_info()
    _ = cnnModelOpInfo(model, Int32(op), &info)
    return Int(info.output)
  }

  /// The output tensor of op `op`.
  public func outputTensorOf(op: Int) -> TensorSummary { tensor(opOutputIndex(op)) }

  /// The model's metadata record (name, labels, image preprocessing); nil
  /// when the file has none.
  public var metadata: MetadataRecord? {
    let header = FileHeader.read(from: UnsafeRawPointer(bytes.baseAddress!))
    guard header.metadataOffset != 0 else { return nil }
    return MetadataRecord.read(from: UnsafeRawPointer(bytes.baseAddress!) + Int(header.metadataOffset))
  }

  /// The dequantized values ((q − zero point) × scale, the scale of each
  /// value's channel when quantized per channel) of constant int8 tensor
  /// `index`, read from the model bytes the runtime validated at load; nil
  /// for activations and other element types.
  public func constantValues(_ index: Int) -> [Float]? {
    let base = UnsafeRawPointer(bytes.baseAddress!)
    let header = FileHeader.read(from: base)
    guard index >= 0, index < Int(header.tensorCount) else { return nil }
    let r = TensorRecord.read(from: base + Int(header.tensorTableOffset) + index * ModelFormat.tensorRecordSize)
    guard r.isConstant, r.elementType == ElementType.int8.rawValue else { return nil }
    let dims = (0..<Int(r.rank)).map { Int(r.dim($0)) }
    let count = dims.reduce(1, *)
    let perChannel = r.quantKind == QuantKind.perChannel.rawValue
    let axis = perChannel ? Int(r.quantAxis) : 0
    let scaleCount = r.scalesOffset == 0 ? 0 : (perChannel ? dims[axis] : 1)
    let scales = (0..<scaleCount).map { base.loadUnaligned(fromByteOffset: Int(r.scalesOffset) + 4 * $0, as: Float.self) }
    let inner = perChannel ? dims[(axis + 1)...].reduce(1, *) : 1
    let q = base + Int(r.dataOffset)
    return (0..<count).map { i in
      let scale = scales.isEmpty ? 1 : scales[perChannel ? (i / inner) % scales.count : 0]
      return Float(Int32(q.load(fromByteOffset: i, as: Int8.self)) - r.zeroPoint) * scale
    }
  }

  /// Calls `body(op, output)` after each op of the runs made inside
  /// `work` (cnn_context_set_op_observer); the buffer is valid only during
  /// the call.
  public func observingOps<R>(_ body: @escaping (Int, UnsafeBufferPointer<Int8>) -> Void,
                              during work: () throws -> R) rethrows -> R {
    let box = Unmanaged.passRetained(OpObserverBox(body))
    defer {
      _ = cnnContextSetOpObserver(context, nil, nil)
      box.release()
    }
    _ = cnnContextSetOpObserver(context, { user, op, data, count in
      Unmanaged<OpObserverBox>.fromOpaque(user!).takeUnretainedValue().body(Int(op), UnsafeBufferPointer(start: data, count: count))
    }, box.toOpaque())
    return try work()
  }

  /// Like `observingOps`, but `body` may overwrite the op's output: the
  /// buffer is the output tensor's bytes in this context's arena (memory
  /// the context owns and the runtime wrote), which the later ops of the
  /// run then read. For error analysis (`cnnrt eval`'s per-op error with
  /// float inputs); the C observer sees the same bytes read-only.
  public func rewritingOps<R>(_ body: @escaping (Int, UnsafeMutableBufferPointer<Int8>) -> Void,
                              during work: () throws -> R) rethrows -> R {
    try observingOps({ op, out in body(op, UnsafeMutableBufferPointer(mutating: out)) }, during: work)
  }

  /// Per-op times of the last run, in nanoseconds.
  public var lastOpTimesNs: [UInt64] {
    (0..<opCount).map { i in
      var ns: UInt64 = 0
      _ = cnnContextOpTimeNs(context, Int32(i), &ns)
      return ns
    }
  }
}

/// One more context on a RuntimeModel, for use by one thread at a time
/// (RuntimeModel.makeContext()).
public final class ModelContext: @unchecked Sendable {
  private let owner: RuntimeModel
  private let context: UnsafeMutablePointer<cnn_context>
  private let labels: [String]

  fileprivate init(owner: RuntimeModel, context: UnsafeMutablePointer<cnn_context>, labels: [String]) {
    self.owner = owner
    self.context = context
    self.labels = labels
  }

  deinit { cnnContextFree(context) }

  /// cnn_classify on this context; see RuntimeModel.classify.
  public func classify(pixels: [UInt8], width: Int, height: Int, channels: Int) throws(RuntimeError) -> [ClassScore] {
    try RuntimeModel.classify(context, labels: labels, pixels: pixels, width: width, height: height, channels: channels)
  }
}

private final class OpObserverBox {
  let body: (Int, UnsafeBufferPointer<Int8>) -> Void
  init(_ body: @escaping (Int, UnsafeBufferPointer<Int8>) -> Void) { self.body = body }
}

/// Reads a whole file without Foundation (nil when unreadable).
func readWholeFile(_ path: String) -> [UInt8]? {
  guard let f = fopen(path, "rb") else { return nil }
  defer { fclose(f) }
  var out: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
    if n > 0 { out.append(contentsOf: chunk[0..<n]) }
    if n < chunk.count { break }
  }
  return ferror(f) == 0 ? out : nil
}
