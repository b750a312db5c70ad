// Model loading: validate every byte that is used, then prepare.
//
// Pass 1 (`inspectLayout`) checks the header and every table without any
// memory of its own and computes the size of the model block. Pass 2
// (`prepare`) fills the block: tensors, graph checks, op preparation
// (requantization multipliers and shifts, padding, clamp bounds) and the
// arena plan. Every offset and size is checked before use with overflow-safe
// arithmetic; a bad model yields a LoadError, never a trap.
import _CNNRuntimeShims

let maxDim = ModelFormat.maxDimension
let maxElements = ModelFormat.maxElements
let maxSpatialParam = ModelFormat.maxSpatialParameter

struct LayoutSummary {
  var header: FileHeader
  var blockBytes: Int
  var tensorsOffset: Int
  var opsOffset: Int
  var orderOffset: Int
  /// Kernel path chosen for this load (cnnrt_cpu.h numbering).
  var isa: Int32
  /// The ops' regions (each op's prepared data and extra bytes: requantization
  /// tables, load-time packed weights), one after another in op order.
  var opRegionsOffset: Int
  var opRegionsBytes: Int
  /// The input pixel tables (`pixelTableBytes`).
  var pixelTableOffset: Int
  /// Of `opRegionsBytes`, the packed filter copies (weights repacked for the
  /// kernel path, int8 with their padding), and the file bytes of the
  /// filters they copy (OpPlanContext.countPackedWeights).
  var packedWeightBytes = 0
  var packedFilterFileBytes = 0
}

/// `offset + count * stride <= limit`, without overflow.
@inline(__always)
func rangeFits(_ offset: Int, _ count: Int, _ stride: Int, within limit: Int) -> Bool {
  if offset < 0 || count < 0 || offset > limit { return false }
  let (bytes, o1) = count.multipliedReportingOverflow(by: stride)
  if o1 { return false }
  let (end, o2) = offset.addingReportingOverflow(bytes)
  return !o2 && end <= limit
}

/// Pass 1: header and table bounds, string table, tensor and op records in
/// isolation. Returns the sizes needed for pass 2, for the kernel path a load
/// would choose now, or for `isa` (sizes only: a block laid out for a path
/// the CPU lacks must not be prepared).
func inspectLayout(_ data: UnsafeRawPointer, _ size: Int, isa requestedISA: Int32? = nil) throws(LoadError)
  -> LayoutSummary {
  if size < 8 { throw LoadError(.truncated, "model", "shorter than the 64-byte header") }
  if readLE(data, 0, as: UInt64.self) != ModelFormat.magic {
    throw LoadError(.badMagic, "model", "does not start with CNNRTMDL")
  }
  if size < ModelFormat.headerSize { throw LoadError(.truncated, "model", "shorter than the 64-byte header") }
  let h = FileHeader.read(from: data)
  if h.formatVersion == 1 {
    throw LoadError(.unsupportedVersion, "model format version", index: 1,
                    "written by an older cnnrt; re-import or re-quantize the model with this cnnrt (cnnrt import / cnnrt quantize)")
  }
  if h.formatVersion != ModelFormat.formatVersion {
    throw LoadError(.unsupportedVersion, "model format version", index: Int(h.formatVersion),
                    "this library reads version 2; re-export the model with a matching cnnrt")
  }
  if h.quantSchemeVersion != ModelFormat.quantSchemeVersion {
    throw LoadError(.unsupportedVersion, "quantization scheme version", index: Int(h.quantSchemeVersion),
                    "this library reads version 1")
  }
  let fileSize = Int(h.fileSize)
  if fileSize < ModelFormat.headerSize { throw LoadError(.malformedModel, "header", "file size smaller than the header") }
  if size < fileSize { throw LoadError(.truncated, "model", "buffer shorter than the file size in the header") }
  if crc32(data + ModelFormat.checksumStart, count: fileSize - ModelFormat.checksumStart) != h.checksum {
    throw LoadError(.checksumMismatch, "model", "CRC-32 does not match the contents")
  }

  let tensorCount = Int(h.tensorCount), opCount = Int(h.opCount)
  let inputCount = Int(h.inputCount), outputCount = Int(h.outputCount)
  if tensorCount < 1 || tensorCount > 1 << 20 { throw LoadError(.malformedModel, "tensor count", index: tensorCount, "out of range") }
  if opCount < 1 || opCount > 1 << 20 { throw LoadError(.malformedModel, "op count", index: opCount, "out of range") }
  if inputCount < 1 || inputCount > ModelFormat.maxModelIO {
    throw LoadError(.malformedModel, "input count", index: inputCount, "must be 1 to 256")
  }
  if outputCount < 1 || outputCount > ModelFormat.maxModelIO {
    throw LoadError(.malformedModel, "output count", index: outputCount, "must be 1 to 256")
  }
  if !rangeFits(Int(h.tensorTableOffset), tensorCount, ModelFormat.tensorRecordSize, within: fileSize) {
    throw LoadError(.malformedModel, "tensor table", "outside the file")
  }
  if !rangeFits(Int(h.opTableOffset), opCount, ModelFormat.opRecordSize, within: fileSize) {
    throw LoadError(.malformedModel, "op table", "outside the file")
  }
  if !rangeFits(Int(h.ioTableOffset), inputCount + outputCount, 4, within: fileSize) {
    throw LoadError(.malformedModel, "input/output table", "outside the file")
  }
  let strOff = Int(h.stringTableOffset), strSize = Int(h.stringTableSize)
  if !rangeFits(strOff, strSize, 1, within: fileSize) {
    throw LoadError(.malformedModel, "string table", "outside the file")
  }
  if h.metadataOffset != 0 && !rangeFits(Int(h.metadataOffset), 1, ModelFormat.metadataSize, within: fileSize) {
    throw LoadError(.malformedModel, "metadata", "outside the file")
  }

  // Tensors, each on its own.
  var t = 0
  while t < tensorCount {
    let rec = TensorRecord.read(from: data + Int(h.tensorTableOffset) + t * ModelFormat.tensorRecordSize)
    try checkTensorRecord(rec, index: t, data: data, header: h)
    t += 1
  }
  // Model inputs and outputs.
  var i = 0
  while i < inputCount + outputCount {
    let idx = Int(readLE(data, Int(h.ioTableOffset) + 4 * i, as: UInt32.self))
    if idx >= tensorCount {
      throw LoadError(.badTensorIndex, i < inputCount ? "model input" : "model output",
                      index: i < inputCount ? i : i - inputCount, "refers to a tensor that does not exist")
    }
    i += 1
  }
  // Ops: codes known, indices in range; the bytes of each op's region.
  let isa = requestedISA ?? selectedKernelISA()
  var regions = OpRegionCursor(data: data, header: h, isa: isa)
  var o = 0
  while o < opCount {
    let rec = OpRecord.read(from: data + Int(h.opTableOffset) + o * ModelFormat.opRecordSize)
    guard let code = OpCode(rawValue: rec.opCode) else {
      throw LoadError(.badOp, "op", index: o, "unknown op code (model needs a newer cnnrt)")
    }
    guard code.isCompiledIn else { throw LoadError(.badOp, "op", index: o, OpPreparer.notInBuild) }
    let inputs = Int(rec.inputCount), outputs = Int(rec.outputCount)
    if inputs > ModelFormat.maxOpInputs { throw LoadError(.badOp, "op", index: o, "more than 1024 inputs") }
    if outputs < 1 || outputs > ModelFormat.maxOpOutputs {
      throw LoadError(.badOp, "op", index: o, "output count must be 1 to 1024")
    }
    if rec.tensorListOffset % 4 != 0 || !rangeFits(Int(rec.tensorListOffset), inputs + outputs, 4, within: fileSize) {
      throw LoadError(.malformedModel, "op", index: o, "tensor list outside the file or misaligned")
    }
    var k = 0
    while k < inputs + outputs {
      let idx = readLE(data, Int(rec.tensorListOffset) + 4 * k, as: UInt32.self)
      if k < inputs {
        if idx != ModelFormat.noTensor && Int(idx) >= tensorCount {
          throw LoadError(.badTensorIndex, "op", index: o, "input tensor index out of range")
        }
      } else if idx == ModelFormat.noTensor || Int(idx) >= tensorCount {
        throw LoadError(.badTensorIndex, "op", index: o, "output tensor index out of range")
      }
      k += 1
    }
    _ = regions.next(code, rec)
    o += 1
  }
  if h.metadataOffset != 0 {
    let m = MetadataRecord.read(from: data + Int(h.metadataOffset))
    try checkString(m.nameOffset, data: data, header: h, what: "model name")
    if m.labelsOffset != 0 {
      if !rangeFits(Int(m.labelsOffset), Int(m.classCount), 4, within: fileSize) {
        throw LoadError(.malformedModel, "class labels", "outside the file")
      }
      var c = 0
      while c < Int(m.classCount) {
        try checkString(readLE(data, Int(m.labelsOffset) + 4 * c, as: UInt32.self), data: data, header: h, what: "class label")
        c += 1
      }
    }
    if m.channelOrder > ChannelOrder.gray.rawValue { throw LoadError(.malformedModel, "metadata", "unknown channel order") }
    if !(m.pixelScale.isFinite && m.pixelScale > 0) { throw LoadError(.malformedModel, "metadata", "pixel scale must be finite and positive") }
    var c = 0
    while c < 4 {
      let s = m.stdValue(c), mu = m.meanValue(c)
      if !(s.isFinite && s != 0 && mu.isFinite) { throw LoadError(.malformedModel, "metadata", "mean/std must be finite, std non-zero") }
      c += 1
    }
  }

  // Block layout.
  var off = alignUp(MemoryLayout<ModelState>.stride, 16)
  let tensorsOffset = off
  off += alignUp(tensorCount * MemoryLayout<TensorInfo>.stride, 16)
  let opsOffset = off
  off += alignUp(opCount * MemoryLayout<PreparedOp>.stride, 16)
  let orderOffset = off
  off += alignUp(tensorCount * 4, 16)
  let pixelTableOffset = off
  off += pixelTableBytes
  off = alignUp(off, 64)
  let opRegionsOffset = off
  off += regions.total
  return LayoutSummary(header: h, blockBytes: off, tensorsOffset: tensorsOffset, opsOffset: opsOffset,
                       orderOffset: orderOffset, isa: isa, opRegionsOffset: opRegionsOffset,
                       opRegionsBytes: regions.total, pixelTableOffset: pixelTableOffset,
                       packedWeightBytes: regions.plan.packedWeightBytes,
                       packedFilterFileBytes: regions.plan.packedFilterFileBytes)
}

/// How much of a prepared model's block (cnn_model_memory_size) is packed
/// weights, on the kernel path a load would choose now (CNNRT_ISA and the
/// CPU). The measure behind "packed weights stay int8-sized": on every path
/// `packedWeightBytes` is at most a few percent above `packedFilterFileBytes`
/// (zero padding to whole lane blocks and pairs, 64-byte rounding); the rest
/// of the block grows with tensors, ops and channels, not with weights.
public struct PackedWeightSummary {
  /// Kernel path (KernelISA numbering).
  public var isa: Int32
  /// The whole prepared-model block: cnn_model_memory_size().
  public var blockBytes: Int
  /// Bytes of the block holding packed filter copies (the kernels' weight
  /// layouts: int8 with their zero padding, each rounded up to 64 bytes).
  public var packedWeightBytes: Int
  /// Bytes of the filters those copies were made from, in the file (int8:
  /// one byte per weight). Filters used in place are in neither count.
  public var packedFilterFileBytes: Int
}

/// The packed-weight share of a model's block (nil: the model does not load;
/// `data` must be 16-byte aligned, as for cnn_model_memory_size), on the
/// kernel path a load would choose now, or laid out for `isa` (any path,
/// whatever the CPU: only sizes are computed, nothing is packed or run).
public func packedWeightSummary(_ data: UnsafeRawPointer, _ size: Int, isa: Int32? = nil) -> PackedWeightSummary? {
  guard size > 0, UInt(bitPattern: data) % 16 == 0 else { return nil }
  do throws(LoadError) {
    let l = try inspectLayout(data, size, isa: isa)
    return PackedWeightSummary(isa: l.isa, blockBytes: l.blockBytes, packedWeightBytes: l.packedWeightBytes,
                               packedFilterFileBytes: l.packedFilterFileBytes)
  } catch {
    return nil
  }
}

/// Walks the ops in order and gives each its region of the model block
/// (offsets from the start of the op regions). Pass 1 and pass 2 walk the
/// same records with the same cursor, so they agree on every offset.
struct OpRegionCursor {
  var plan: OpPlanContext
  /// Bytes of all regions so far.
  var total = 0

  init(data: UnsafeRawPointer, header: FileHeader, isa: Int32) {
    plan = OpPlanContext(data: data, header: header, rec: OpRecord(), selectedISA: isa, packedConvBytes: 0)
  }

  /// The next op's region: data offset, extra bytes offset and extra size.
  /// Region sizes are bounded by the file's shapes (each at most a few
  /// times a tensor or the packed-weights cap), so the sums cannot overflow.
  mutating func next(_ code: OpCode, _ rec: OpRecord) -> (data: Int, extra: Int, extraBytes: Int) {
    plan = OpPlanContext(data: plan.data, header: plan.header, rec: rec, selectedISA: plan.selectedISA,
                         packedConvBytes: plan.packedConvBytes, packedWeightBytes: plan.packedWeightBytes,
                         packedFilterFileBytes: plan.packedFilterFileBytes)
    var sizer = OpRegionSize(plan: plan)
    let (dataBytes, extraBytes) = code.visit(&sizer)
    plan = sizer.plan
    let start = total
    total += dataBytes + extraBytes
    return (start, start + dataBytes, extraBytes)
  }
}

func checkString(_ offset: UInt32, data: UnsafeRawPointer, header h: FileHeader, what: StaticString) throws(LoadError) {
  if offset == ModelFormat.noString { return }
  let size = Int(h.stringTableSize)
  var i = Int(offset)
  if i >= size { throw LoadError(.malformedModel, what, "string offset outside the string table") }
  let base = data + Int(h.stringTableOffset)
  while i < size {
    if base.load(fromByteOffset: i, as: UInt8.self) == 0 { return }
    i += 1
  }
  throw LoadError(.malformedModel, what, "string not NUL-terminated inside the string table")
}

func checkTensorRecord(_ r: TensorRecord, index t: Int, data: UnsafeRawPointer, header h: FileHeader) throws(LoadError) {
  guard let type = ElementType(rawValue: r.elementType) else { throw LoadError(.badTensor, "tensor", index: t, "unknown element type") }
  guard let qk = QuantKind(rawValue: r.quantKind) else { throw LoadError(.badTensor, "tensor", index: t, "unknown quantization kind") }
  let rank = Int(r.rank)
  if rank < 1 || rank > ModelFormat.maxRank { throw LoadError(.badTensor, "tensor", index: t, "rank must be 1 to 5") }
  var count = 1
  var d = 0
  while d < ModelFormat.maxRank {
    let v = Int(r.dim(d))
    if d < rank {
      if v < 1 || v > maxDim { throw LoadError(.badTensor, "tensor", index: t, "dimension must be 1 to 65536") }
      let (c, o) = count.multipliedReportingOverflow(by: v)
      if o || c > maxElements { throw LoadError(.badTensor, "tensor", index: t, "too many elements") }
      count = c
    } else if v != 0 {
      throw LoadError(.badTensor, "tensor", index: t, "dimension past the rank must be 0")
    }
    d += 1
  }
  try checkString(r.nameOffset, data: data, header: h, what: "tensor name")
  if type == .int8 && (r.zeroPoint < -128 || r.zeroPoint > 127) {
    throw LoadError(.badTensor, "tensor", index: t, "int8 zero point outside [-128, 127]")
  }
  if qk != .none {
    let scaleCount: Int
    if qk == .perChannel {
      if Int(r.quantAxis) >= rank { throw LoadError(.badTensor, "tensor", index: t, "quantization axis past the rank") }
      scaleCount = Int(r.dim(Int(r.quantAxis)))
    } else {
      scaleCount = 1
    }
    let so = Int(r.scalesOffset)
    if so == 0 || so % 4 != 0 || !rangeFits(so, scaleCount, 4, within: Int(h.fileSize)) {
      throw LoadError(.malformedModel, "tensor", index: t, "scales outside the file or misaligned")
    }
    var i = 0
    while i < scaleCount {
      let s = Float(bitPattern: readLE(data, so + 4 * i, as: UInt32.self))
      if !(s.isFinite && s > 0) { throw LoadError(.badTensor, "tensor", index: t, "scale must be finite and positive") }
      i += 1
    }
  }
  if r.isConstant {
    let bytes = count * type.byteSize
    if Int(r.dataSize) != bytes { throw LoadError(.badTensor, "tensor", index: t, "constant data size does not match the shape") }
    if Int(r.dataOffset) % 16 != 0 { throw LoadError(.malformedModel, "tensor", index: t, "constant data not 16-byte aligned") }
    if !rangeFits(Int(r.dataOffset), bytes, 1, within: Int(h.fileSize)) {
      throw LoadError(.malformedModel, "tensor", index: t, "constant data outside the file")
    }
  } else {
    if type != .int8 { throw LoadError(.badTensor, "tensor", index: t, "activations must be int8") }
    if qk != .perTensor { throw LoadError(.badTensor, "tensor", index: t, "activations must be quantized per tensor") }
  }
}
