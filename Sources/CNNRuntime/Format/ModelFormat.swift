// Model format v2: the one definition of the on-disk layout.
//
// Both the runtime loader (reading, in Embedded Swift) and the tools' model
// writer use the record types below: each record has `read(from:)` and
// `write(to:)` over raw little-endian bytes at fixed offsets, so the layout
// exists exactly once. docs/FORMAT.md describes the same layout for people.
//
// File = header (64 B) | io table | tensor table | op table | op tensor lists |
//        metadata | string table | constant data (each blob 64-byte aligned).
//
// v2 (this layout) against v1: an op lists any number of input and output
// tensors (v1: at most 3 inputs and 1 output, inline), and tensors have up
// to 5 dimensions (tensor record 64 bytes, was 48). v1 files are refused
// with a message asking to re-import the model.
// All integers are little-endian. Offsets are from the start of the file.

/// Layout constants of format v2.
public enum ModelFormat {
  /// "CNNRTMDL".
  public static let magic: UInt64 = 0x4C44_4D54_524E_4E43
  /// Layout version written by this build. Readers accept exactly this.
  public static let formatVersion: UInt16 = 2
  /// Quantization scheme version: 1 = TFLite int8 (symmetric per-channel
  /// int8 weights, asymmetric int8 activations, int32 bias, double-rounding
  /// requantization as in TFLite Micro).
  public static let quantSchemeVersion: UInt16 = 1
  public static let headerSize = 64
  public static let tensorRecordSize = 64
  public static let opRecordSize = 64
  public static let metadataSize = 96
  /// Constant data blobs start at multiples of this many bytes.
  public static let dataAlignment = 64
  /// Checksummed bytes start here (everything after the checksum field).
  public static let checksumStart = 20
  public static let noTensor: UInt32 = 0xFFFF_FFFF
  public static let noString: UInt32 = 0xFFFF_FFFF
  public static let maxRank = 5
  /// Largest number of model inputs, and of model outputs.
  public static let maxModelIO = 256
  /// Largest value of one tensor dimension.
  public static let maxDimension = 1 << 16
  /// Largest element count of one tensor.
  public static let maxElements = Int(Int32.max)
  /// Largest stride, dilation or pooling filter extent.
  public static let maxSpatialParameter = 1 << 12
  /// Largest number of inputs of one op, and of outputs.
  public static let maxOpInputs = 1024
  public static let maxOpOutputs = 1024
}

// MARK: - Little-endian access

@inline(__always)
func readLE<T: FixedWidthInteger>(_ base: UnsafeRawPointer, _ offset: Int, as: T.Type) -> T {
  T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
}

@inline(__always)
func writeLE<T: FixedWidthInteger & BitwiseCopyable>(_ base: UnsafeMutableRawPointer, _ offset: Int, _ value: T) {
  base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
}

// MARK: - Header

/// File header, 64 bytes at offset 0.
///
/// | off | type | field |
/// |----:|------|-------|
/// | 0 | u64 | magic "CNNRTMDL" |
/// | 8 | u16 | format version |
/// | 10 | u16 | quantization scheme version |
/// | 12 | u32 | file size in bytes |
/// | 16 | u32 | CRC-32 (IEEE) of bytes [20, file size) |
/// | 20 | u32 | tensor count |
/// | 24 | u32 | tensor table offset |
/// | 28 | u32 | op count |
/// | 32 | u32 | op table offset |
/// | 36 | u32 | model input count |
/// | 40 | u32 | model output count |
/// | 44 | u32 | io table offset (u32 tensor indices: inputs, then outputs) |
/// | 48 | u32 | metadata offset (0 = none) |
/// | 52 | u32 | string table offset |
/// | 56 | u32 | string table size |
/// | 60 | u32 | reserved, 0 |
public struct FileHeader: Equatable, Sendable {
  public var magic: UInt64 = ModelFormat.magic
  public var formatVersion: UInt16 = ModelFormat.formatVersion
  public var quantSchemeVersion: UInt16 = ModelFormat.quantSchemeVersion
  public var fileSize: UInt32 = 0
  public var checksum: UInt32 = 0
  public var tensorCount: UInt32 = 0
  public var tensorTableOffset: UInt32 = 0
  public var opCount: UInt32 = 0
  public var opTableOffset: UInt32 = 0
  public var inputCount: UInt32 = 0
  public var outputCount: UInt32 = 0
  public var ioTableOffset: UInt32 = 0
  public var metadataOffset: UInt32 = 0
  public var stringTableOffset: UInt32 = 0
  public var stringTableSize: UInt32 = 0

  public init() {}

  public static func read(from p: UnsafeRawPointer) -> FileHeader {
    var h = FileHeader()
    h.magic = readLE(p, 0, as: UInt64.self)
    h.formatVersion = readLE(p, 8, as: UInt16.self)
    h.quantSchemeVersion = readLE(p, 10, as: UInt16.self)
    h.fileSize = readLE(p, 12, as: UInt32.self)
    h.checksum = readLE(p, 16, as: UInt32.self)
    h.tensorCount = readLE(p, 20, as: UInt32.self)
    h.tensorTableOffset = readLE(p, 24, as: UInt32.self)
    h.opCount = readLE(p, 28, as: UInt32.self)
    h.opTableOffset = readLE(p, 32, as: UInt32.self)
    h.inputCount = readLE(p, 36, as: UInt32.self)
    h.outputCount = readLE(p, 40, as: UInt32.self)
    h.ioTableOffset = readLE(p, 44, as: UInt32.self)
    h.metadataOffset = readLE(p, 48, as: UInt32.self)
    h.stringTableOffset = readLE(p, 52, as: UInt32.self)
    h.stringTableSize = readLE(p, 56, as: UInt32.self)
    return h
  }

  public func write(to p: UnsafeMutableRawPointer) {
    writeLE(p, 0, magic)
    writeLE(p, 8, formatVersion)
    writeLE(p, 10, quantSchemeVersion)
    writeLE(p, 12, fileSize)
    writeLE(p, 16, checksum)
    writeLE(p, 20, tensorCount)
    writeLE(p, 24, tensorTableOffset)
    writeLE(p, 28, opCount)
    writeLE(p, 32, opTableOffset)
    writeLE(p, 36, inputCount)
    writeLE(p, 40, outputCount)
    writeLE(p, 44, ioTableOffset)
    writeLE(p, 48, metadataOffset)
    writeLE(p, 52, stringTableOffset)
    writeLE(p, 56, stringTableSize)
    writeLE(p, 60, UInt32(0))
  }
}

// MARK: - Tensors

/// Element type of a tensor.
public enum ElementType: UInt8, Sendable {
  case int8 = 1
  case int32 = 2

  public var byteSize: Int {
    switch self {
    case .int8: return 1
    case .int32: return 4
    }
  }
}

/// How a tensor is quantized.
public enum QuantKind: UInt8, Sendable {
  /// No quantization parameters (e.g. int32 bias: scale is implied by
  /// input scale × weight scale).
  case none = 0
  /// One scale and zero point for the whole tensor.
  case perTensor = 1
  /// One scale per index of `quantAxis`; zero point shared (0 for weights).
  case perChannel = 2
}

/// Tensor record, 64 bytes.
///
/// | off | type | field |
/// |----:|------|-------|
/// | 0 | u8 | element type (1 = int8, 2 = int32) |
/// | 1 | u8 | rank (1...5) |
/// | 2 | u8 | quantization kind (0 none, 1 per-tensor, 2 per-channel) |
/// | 3 | u8 | flags (bit 0: constant, data stored in the file) |
/// | 4 | i32×5 | dims (NHWC for rank 4); unused trailing entries are 0 |
/// | 24 | i32 | zero point |
/// | 28 | u32 | quantization axis (per-channel) |
/// | 32 | u32 | offset of the f32 scales (count 1, or dims[axis]); 0 = none |
/// | 36 | u32 | constant data offset (64-byte aligned) |
/// | 40 | u32 | constant data size in bytes |
/// | 44 | u32 | name (string table offset, 0xFFFFFFFF = none) |
/// | 48 | u32×4 | reserved, 0 |
public struct TensorRecord: Equatable, Sendable {
  public var elementType: UInt8 = ElementType.int8.rawValue
  public var rank: UInt8 = 4
  public var quantKind: UInt8 = QuantKind.none.rawValue
  public var flags: UInt8 = 0
  public var dims: (Int32, Int32, Int32, Int32, Int32) = (0, 0, 0, 0, 0)
  public var zeroPoint: Int32 = 0
  public var quantAxis: UInt32 = 0
  public var scalesOffset: UInt32 = 0
  public var dataOffset: UInt32 = 0
  public var dataSize: UInt32 = 0
  public var nameOffset: UInt32 = ModelFormat.noString

  public static let flagConstant: UInt8 = 1

  public init() {}

  public var isConstant: Bool { flags & TensorRecord.flagConstant != 0 }

  public func dim(_ i: Int) -> Int32 {
    switch i {
    case 0: return dims.0
    case 1: return dims.1
    case 2: return dims.2
    case 3: return dims.3
    default: return dims.4
    }
  }

  public static func == (a: TensorRecord, b: TensorRecord) -> Bool {
    a.elementType == b.elementType && a.rank == b.rank && a.quantKind == b.quantKind
      && a.flags == b.flags && a.dims == b.dims && a.zeroPoint == b.zeroPoint
      && a.quantAxis == b.quantAxis && a.scalesOffset == b.scalesOffset
      && a.dataOffset == b.dataOffset && a.dataSize == b.dataSize && a.nameOffset == b.nameOffset
  }

  public static func read(from p: UnsafeRawPointer) -> TensorRecord {
    var t = TensorRecord()
    t.elementType = p.load(fromByteOffset: 0, as: UInt8.self)
    t.rank = p.load(fromByteOffset: 1, as: UInt8.self)
    t.quantKind = p.load(fromByteOffset: 2, as: UInt8.self)
    t.flags = p.load(fromByteOffset: 3, as: UInt8.self)
    t.dims = (readLE(p, 4, as: Int32.self), readLE(p, 8, as: Int32.self), readLE(p, 12, as: Int32.self),
              readLE(p, 16, as: Int32.self), readLE(p, 20, as: Int32.self))
    t.zeroPoint = readLE(p, 24, as: Int32.self)
    t.quantAxis = readLE(p, 28, as: UInt32.self)
    t.scalesOffset = readLE(p, 32, as: UInt32.self)
    t.dataOffset = readLE(p, 36, as: UInt32.self)
    t.dataSize = readLE(p, 40, as: UInt32.self)
    t.nameOffset = readLE(p, 44, as: UInt32.self)
    return t
  }

  public func write(to p: UnsafeMutableRawPointer) {
    p.storeBytes(of: elementType, toByteOffset: 0, as: UInt8.self)
    p.storeBytes(of: rank, toByteOffset: 1, as: UInt8.self)
    p.storeBytes(of: quantKind, toByteOffset: 2, as: UInt8.self)
    p.storeBytes(of: flags, toByteOffset: 3, as: UInt8.self)
    writeLE(p, 4, dims.0); writeLE(p, 8, dims.1); writeLE(p, 12, dims.2); writeLE(p, 16, dims.3)
    writeLE(p, 20, dims.4)
    writeLE(p, 24, zeroPoint)
    writeLE(p, 28, quantAxis)
    writeLE(p, 32, scalesOffset)
    writeLE(p, 36, dataOffset)
    writeLE(p, 40, dataSize)
    writeLE(p, 44, nameOffset)
    var off = 48
    while off < ModelFormat.tensorRecordSize { writeLE(p, off, UInt32(0)); off += 4 }
  }
}

// MARK: - Ops

/// Operator codes. Values are part of the file format: never renumber.
public enum OpCode: UInt16, Sendable {
  /// inputs: input [N,H,W,Cin], filter [Cout,KH,KW,Cin/groups] (int8), bias [Cout] (int32, optional).
  case conv2D = 1
  /// inputs: input [N,H,W,C], filter [1,KH,KW,C*mult] (int8), bias [C*mult] (int32, optional).
  case depthwiseConv2D = 2
  /// inputs: input (any shape, flattened to [batches, depth]), filter [units, depth], bias [units] (optional).
  case fullyConnected = 3
  case maxPool2D = 4
  case averagePool2D = 5
  /// Average over the whole H×W of each channel (output [N,1,1,C]); TFLite average-pool arithmetic.
  case globalAveragePool = 6
  /// inputs: a, b, each with its own scale and zero point; each dimension equals the output's or is 1 (broadcast).
  case add = 7
  /// Same bytes, new shape (element counts equal). Also Flatten.
  case reshape = 8
  /// Over the last dimension; output scale 1/256, zero point -128.
  case softmax = 9
  /// Output scale 1/256, zero point -128.
  case logistic = 10
  /// TFLite MEAN / ONNX ReduceMean over any set of axes of a rank 1–5 input.
  /// `extra` 0: axes [1, 2] of [N,H,W,C]; else `OpRecord.meanAxesFlag | mask`
  /// (bit k = input axis k reduced, bits 0–4). Output: the input shape with the reduced axes 1
  /// (keep_dims) or removed; any per-tensor quantization; no fused
  /// activation. TFLM QuantizedMeanOrSum arithmetic (see `prepareMean`).
  case mean = 11
  /// TFLite PAD / PADV2 of H and W. inputs: input [N,H,W,C]. Pads in the
  /// record's padTop/padLeft/padBottom/padRight (>= 0, padding kind explicit),
  /// channels added before/after in filterH/filterW;
  /// output [N, H+top+bottom, W+left+right, C+before+after] with the input's quantization.
  /// Fill value: `extra` 0 = the zero point (PAD); `extra` =
  /// `OpRecord.padConstantFlag | UInt32(UInt8(bitPattern: v))` = the int8 v (PADV2).
  case pad = 12
  // activations
  /// TFLite RELU: inputs: input. max(x, 0) requantized to the output's
  /// quantization (TFLM ReluQuantized); a 256-entry table built at load.
  case relu = 13
  /// TFLite RELU6: inputs: input. The input bytes clamped to the quantized
  /// 0 and 6 of the input's quantization (TFLM Relu6Quantized); output
  /// quantization equal to the input's.
  case relu6 = 14
  /// TFLite LEAKY_RELU: inputs: input; alpha in `extra` (f32 bits).
  case leakyRelu = 15
  /// TFLite PRELU: inputs: input, alpha (constant int8, per-tensor
  /// quantization, broadcast to the input's shape).
  case prelu = 16
  /// TFLite HARD_SWISH: inputs: input (TFLM int16 fixed-point arithmetic).
  case hardSwish = 17
  /// TFLite TANH: inputs: input. Output scale 1/128, zero point 0.
  case tanh = 18
  /// TFLite QUANTIZE int8 -> int8 (requantization). inputs: input.
  case quantize = 19
  /// cnnrt's own: out = table[in + 128]. inputs: input, table (constant
  /// int8 [256]: the output byte for each input byte -128...127).
  case lookupTable = 20
  // binary
  /// TFLite MUL. inputs: a, b (activations or int8 constants), each with its
  /// own scale and zero point; every dimension equal to the output's or 1
  /// (broadcast, rank <= 5); fused activation. TFLM arithmetic: one
  /// multiplier s_a·s_b/s_out applied to (a − zp_a)(b − zp_b).
  case mul = 21
  /// TFLite SUB: a − b with ADD's arithmetic (each input rescaled to a
  /// common scale, left shift 20); inputs and broadcast as `mul`; fused activation.
  case sub = 22
  /// TFLite MAXIMUM: elementwise max; inputs and output share one scale and
  /// zero point; broadcast as `mul`; no fused activation.
  case maximum = 23
  /// TFLite MINIMUM: elementwise min; as `maximum`.
  case minimum = 24
  /// TFLite TRANSPOSE_CONV. inputs: input [N,H,W,Cin], filter [Cout,KH,KW,Cin]
  /// (int8, symmetric), bias [Cout] (int32, optional); output [N,OH,OW,Cout];
  /// strides, padding SAME or VALID (TFLM's padding from the output size),
  /// fused activation.
  case transposeConv = 33
  // shape
  /// TFLite STRIDED_SLICE / SLICE, ONNX Slice. inputs: input (rank 1…5),
  /// params (constant int32 [rank, 3]: first index, step ≠ 0, count per
  /// input axis, resolved by the writer). Output: the counts, dimensions of
  /// 1 may be dropped or added (shrink_axis). Same quantization.
  case stridedSlice = 40
  /// inputs: input, perm (constant int32 [rank]); output dim k = input dim perm[k].
  case transpose = 41
  /// [N,H,W,C] → [N,H·b,W·b,C/b²] (TFLite / ONNX DCR order); b in stride H = stride W.
  case depthToSpace = 42
  /// [N,H,W,C] → [N,H/b,W/b,C·b²]; b in stride H = stride W.
  case spaceToDepth = 43
  /// TFLite SPLIT / SPLIT_V / UNPACK: one input, several outputs along the
  /// axis in `extra`; each output the input's rank (or one less: unpack).
  case split = 44
  /// TFLite GATHER (batch_dims 0) / ONNX Gather with constant indices.
  /// inputs: input, indices (constant int32, each in [0, dim)); axis in
  /// `extra`; output input[:axis] + indices' shape + input[axis+1:].
  case gather = 46
  /// TFLite TILE / ONNX Tile. inputs: input (rank 1…5), multiples (constant
  /// int32 [rank], each >= 1); output dim k = input dim k × multiples[k];
  /// same quantization (bytes copied).
  case tile = 49
  // reduce
  /// TFLite SUM / ONNX ReduceSum over any axes of a rank 1–5 input; `extra`
  /// and the output shape as `mean`'s (axes need not be adjacent); any
  /// per-tensor quantization; no fused activation. TFLM QuantizedMeanOrSum
  /// arithmetic with compute_sum (see `prepareSum`).
  case sum = 47
  /// TFLite REDUCE_MAX / ONNX ReduceMax: as `sum`, the largest int8 value;
  /// output quantization equal to the input's (TFLM requires it).
  case reduceMax = 48
  // join
  /// TFLite CONCATENATION. inputs: 1 or more int8 tensors (activations or
  /// constants) of the output's rank (1...5) and quantization, equal in every
  /// dimension but the axis; output dims[axis] = the inputs' sum. `extra` =
  /// the axis, 0 ... rank - 1 (negative axes normalised by the writer); no
  /// fused activation (TFLite and TFLM refuse one).
  case concatenation = 30
  /// TFLite RESIZE_NEAREST_NEIGHBOR. inputs: input [N,H,W,C], size (constant
  /// int32 [2]: output height, width, each >= 1). Output [N, size[0], size[1], C]
  /// with the input's quantization. `extra` bit 0 = align_corners, bit 1 =
  /// half_pixel_centers (`OpRecord.resizeAlignCorners` / `resizeHalfPixelCenters`).
  case resizeNearestNeighbor = 31
  /// TFLite RESIZE_BILINEAR: as resizeNearestNeighbor (align_corners and
  /// half_pixel_centers not both set); TFLM's integer arithmetic (10-bit
  /// fixed-point coordinates, see `prepareResizeBilinear`).
  case resizeBilinear = 32
}

/// Fused activation, applied as a clamp in the output's quantized units.
public enum FusedActivation: UInt8, Sendable {
  case none = 0
  case relu = 1
  case relu6 = 2
}

/// How spatial padding is given.
public enum PaddingKind: UInt8, Sendable {
  /// No padding: out = (in − effective filter) / stride + 1.
  case valid = 0
  /// TFLite SAME: out = ceil(in / stride), padding split with the extra row/column at the bottom/right.
  case same = 1
  /// The four pads stored in the record.
  case explicit = 2
}

/// Op record, 64 bytes.
///
/// | off | type | field |
/// |----:|------|-------|
/// | 0 | u16 | op code |
/// | 2 | u8 | fused activation (0 none, 1 ReLU, 2 ReLU6) |
/// | 3 | u8 | padding kind (0 valid, 1 same, 2 explicit) |
/// | 4 | u16 | input count |
/// | 6 | u16 | output count (at least 1) |
/// | 8 | u32 | offset of the op's tensor list: u32 tensor indices, the inputs then the outputs (an absent optional input is 0xFFFFFFFF) |
/// | 12 | u32×2 | reserved, 0 |
/// | 20 | i32 | stride H |
/// | 24 | i32 | stride W |
/// | 28 | i32 | dilation H |
/// | 32 | i32 | dilation W |
/// | 36 | i32 | filter H (pooling) |
/// | 40 | i32 | filter W (pooling) |
/// | 44 | i32×4 | explicit pads: top, left, bottom, right |
/// | 60 | u32 | extra: softmax beta as f32 bits; pad: constant fill value (below); concatenation: axis; resize: align_corners / half_pixel_centers bits (below); otherwise 0 |
public struct OpRecord: Equatable, Sendable {
  public var opCode: UInt16 = 0
  public var activation: UInt8 = 0
  public var padding: UInt8 = 0
  public var inputCount: UInt16 = 0
  public var outputCount: UInt16 = 0
  /// File offset of the op's u32 tensor list (inputs, then outputs).
  public var tensorListOffset: UInt32 = 0
  public var strideH: Int32 = 1
  public var strideW: Int32 = 1
  public var dilationH: Int32 = 1
  public var dilationW: Int32 = 1
  public var filterH: Int32 = 0
  public var filterW: Int32 = 0
  public var padTop: Int32 = 0
  public var padLeft: Int32 = 0
  public var padBottom: Int32 = 0
  public var padRight: Int32 = 0
  public var extra: UInt32 = 0

  /// Pad: bit 8 of `extra` set means its low 8 bits are the int8 fill value
  /// (TFLite PADV2 constant_values); all other bits 0. `extra` 0 fills with
  /// the output zero point (TFLite PAD).
  public static let padConstantFlag: UInt32 = 0x100
  /// Mean, Sum, ReduceMax: `extra` = this flag | a mask of the reduced input
  /// axes (`meanAxesMask`: bit k = axis k, bits 0–4 for ranks up to 5; files
  /// written before rank 5 use bits 0–3 only, which mean the same). `extra` 0
  /// = axes [1, 2] of a rank-4 input.
  public static let meanAxesFlag: UInt32 = 0x200
  /// The axis bits of a reduction's `extra` (one per axis up to `ModelFormat.maxRank`).
  public static let meanAxesMask: UInt32 = 0x1F
  /// Resize (nearest neighbor, bilinear): `extra` bit 0 = TFLite
  /// align_corners, bit 1 = half_pixel_centers; all other bits 0.
  public static let resizeAlignCorners: UInt32 = 0x1
  public static let resizeHalfPixelCenters: UInt32 = 0x2

  public init() {}

  /// Input `k` of the op whose file is at `data` (noTensor past the count).
  /// The list must have been range-checked (the loader does so in pass 1).
  public func input(_ k: Int, in data: UnsafeRawPointer) -> UInt32 {
    k < Int(inputCount) ? readLE(data, Int(tensorListOffset) + 4 * k, as: UInt32.self) : ModelFormat.noTensor
  }

  /// Output `k` (noTensor past the count).
  public func output(_ k: Int, in data: UnsafeRawPointer) -> UInt32 {
    k < Int(outputCount) ? readLE(data, Int(tensorListOffset) + 4 * (Int(inputCount) + k), as: UInt32.self)
      : ModelFormat.noTensor
  }

  public static func == (a: OpRecord, b: OpRecord) -> Bool {
    a.opCode == b.opCode && a.activation == b.activation && a.padding == b.padding
      && a.inputCount == b.inputCount && a.outputCount == b.outputCount
      && a.tensorListOffset == b.tensorListOffset && a.strideH == b.strideH
      && a.strideW == b.strideW && a.dilationH == b.dilationH && a.dilationW == b.dilationW
      && a.filterH == b.filterH && a.filterW == b.filterW && a.padTop == b.padTop
      && a.padLeft == b.padLeft && a.padBottom == b.padBottom && a.padRight == b.padRight
      && a.extra == b.extra
  }

  public static func read(from p: UnsafeRawPointer) -> OpRecord {
    var o = OpRecord()
    o.opCode = readLE(p, 0, as: UInt16.self)
    o.activation = p.load(fromByteOffset: 2, as: UInt8.self)
    o.padding = p.load(fromByteOffset: 3, as: UInt8.self)
    o.inputCount = readLE(p, 4, as: UInt16.self)
    o.outputCount = readLE(p, 6, as: UInt16.self)
    o.tensorListOffset = readLE(p, 8, as: UInt32.self)
    o.strideH = readLE(p, 20, as: Int32.self)
    o.strideW = readLE(p, 24, as: Int32.self)
    o.dilationH = readLE(p, 28, as: Int32.self)
    o.dilationW = readLE(p, 32, as: Int32.self)
    o.filterH = readLE(p, 36, as: Int32.self)
    o.filterW = readLE(p, 40, as: Int32.self)
    o.padTop = readLE(p, 44, as: Int32.self)
    o.padLeft = readLE(p, 48, as: Int32.self)
    o.padBottom = readLE(p, 52, as: Int32.self)
    o.padRight = readLE(p, 56, as: Int32.self)
    o.extra = readLE(p, 60, as: UInt32.self)
    return o
  }

  public func write(to p: UnsafeMutableRawPointer) {
    writeLE(p, 0, opCode)
    p.storeBytes(of: activation, toByteOffset: 2, as: UInt8.self)
    p.storeBytes(of: padding, toByteOffset: 3, as: UInt8.self)
    writeLE(p, 4, inputCount); writeLE(p, 6, outputCount)
    writeLE(p, 8, tensorListOffset)
    writeLE(p, 12, UInt32(0)); writeLE(p, 16, UInt32(0))
    writeLE(p, 20, strideH); writeLE(p, 24, strideW)
    writeLE(p, 28, dilationH); writeLE(p, 32, dilationW)
    writeLE(p, 36, filterH); writeLE(p, 40, filterW)
    writeLE(p, 44, padTop); writeLE(p, 48, padLeft)
    writeLE(p, 52, padBottom); writeLE(p, 56, padRight)
    writeLE(p, 60, extra)
  }
}

// MARK: - Metadata

/// Channel order of the pixels the model expects.
public enum ChannelOrder: UInt8, Sendable {
  case rgb = 0
  case bgr = 1
  case gray = 2
}

/// Metadata block, 96 bytes.
///
/// Input preprocessing maps a uint8 pixel p of channel c to the real value
/// x = (p × pixelScale − mean[c]) / std[c], then quantizes it with the input
/// tensor's scale and zero point (round half away from zero, clamp to int8).
/// The runtime turns this into a 256-entry table per channel at context
/// creation, so classification stays integer-only.
///
/// | off | type | field |
/// |----:|------|-------|
/// | 0 | u32 | model name (string offset) |
/// | 4 | u32 | class count |
/// | 8 | u32 | offset of the u32 label string offsets (class count entries; 0 = no labels) |
/// | 12 | u32 | expected image width |
/// | 16 | u32 | expected image height |
/// | 20 | u32 | expected image channels |
/// | 24 | u8 | channel order (0 RGB, 1 BGR, 2 gray) |
/// | 25 | u8×3 | reserved, 0 |
/// | 28 | f32 | pixel scale (e.g. 1/255 or 1) |
/// | 32 | f32×4 | mean per channel |
/// | 48 | f32×4 | std per channel (non-zero) |
/// | 64 | u32×8 | reserved, 0 |
public struct MetadataRecord: Equatable, Sendable {
  public var nameOffset: UInt32 = ModelFormat.noString
  public var classCount: UInt32 = 0
  public var labelsOffset: UInt32 = 0
  public var imageWidth: UInt32 = 0
  public var imageHeight: UInt32 = 0
  public var imageChannels: UInt32 = 0
  public var channelOrder: UInt8 = ChannelOrder.rgb.rawValue
  public var pixelScale: Float = 1
  public var mean: (Float, Float, Float, Float) = (0, 0, 0, 0)
  public var std: (Float, Float, Float, Float) = (1, 1, 1, 1)

  public init() {}

  public static func == (a: MetadataRecord, b: MetadataRecord) -> Bool {
    a.nameOffset == b.nameOffset && a.classCount == b.classCount && a.labelsOffset == b.labelsOffset
      && a.imageWidth == b.imageWidth && a.imageHeight == b.imageHeight
      && a.imageChannels == b.imageChannels && a.channelOrder == b.channelOrder
      && a.pixelScale == b.pixelScale && a.mean == b.mean && a.std == b.std
  }

  public func meanValue(_ c: Int) -> Float {
    switch c { case 0: return mean.0; case 1: return mean.1; case 2: return mean.2; default: return mean.3 }
  }

  public func stdValue(_ c: Int) -> Float {
    switch c { case 0: return std.0; case 1: return std.1; case 2: return std.2; default: return std.3 }
  }

  public static func read(from p: UnsafeRawPointer) -> MetadataRecord {
    var m = MetadataRecord()
    m.nameOffset = readLE(p, 0, as: UInt32.self)
    m.classCount = readLE(p, 4, as: UInt32.self)
    m.labelsOffset = readLE(p, 8, as: UInt32.self)
    m.imageWidth = readLE(p, 12, as: UInt32.self)
    m.imageHeight = readLE(p, 16, as: UInt32.self)
    m.imageChannels = readLE(p, 20, as: UInt32.self)
    m.channelOrder = p.load(fromByteOffset: 24, as: UInt8.self)
    m.pixelScale = Float(bitPattern: readLE(p, 28, as: UInt32.self))
    m.mean = (Float(bitPattern: readLE(p, 32, as: UInt32.self)), Float(bitPattern: readLE(p, 36, as: UInt32.self)),
              Float(bitPattern: readLE(p, 40, as: UInt32.self)), Float(bitPattern: readLE(p, 44, as: UInt32.self)))
    m.std = (Float(bitPattern: readLE(p, 48, as: UInt32.self)), Float(bitPattern: readLE(p, 52, as: UInt32.self)),
             Float(bitPattern: readLE(p, 56, as: UInt32.self)), Float(bitPattern: readLE(p, 60, as: UInt32.self)))
    return m
  }

  public func write(to p: UnsafeMutableRawPointer) {
    writeLE(p, 0, nameOffset)
    writeLE(p, 4, classCount)
    writeLE(p, 8, labelsOffset)
    writeLE(p, 12, imageWidth)
    writeLE(p, 16, imageHeight)
    writeLE(p, 20, imageChannels)
    p.storeBytes(of: channelOrder, toByteOffset: 24, as: UInt8.self)
    p.storeBytes(of: UInt8(0), toByteOffset: 25, as: UInt8.self)
    p.storeBytes(of: UInt8(0), toByteOffset: 26, as: UInt8.self)
    p.storeBytes(of: UInt8(0), toByteOffset: 27, as: UInt8.self)
    writeLE(p, 28, pixelScale.bitPattern)
    writeLE(p, 32, mean.0.bitPattern); writeLE(p, 36, mean.1.bitPattern)
    writeLE(p, 40, mean.2.bitPattern); writeLE(p, 44, mean.3.bitPattern)
    writeLE(p, 48, std.0.bitPattern); writeLE(p, 52, std.1.bitPattern)
    writeLE(p, 56, std.2.bitPattern); writeLE(p, 60, std.3.bitPattern)
    var off = 64
    while off < ModelFormat.metadataSize { writeLE(p, off, UInt32(0)); off += 4 }
  }
}

// MARK: - Checksum

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of `count` bytes.
///
/// The checksum covers the whole file (weights included) and is verified at
/// every load, so on 64-bit hosts it takes 8 bytes a step through eight
/// 256-entry tables ("slicing by 8"), built on the stack for each call (8 KiB
/// of stack, about 4,000 operations; no static data): a 24 MB model loaded in
/// 219 ms with the bitwise loop, over 90 % of it the checksum. Microcontroller
/// builds keep the bitwise loop: no table in flash or on a small stack, and
/// their models are small.
public func crc32(_ p: UnsafeRawPointer, count: Int) -> UInt32 {
  #if arch(x86_64) || arch(arm64)
  return crc32Sliced(p, count: count)
  #else
  return crc32Bitwise(p, count: count)
  #endif
}

/// One bit at a time (the definition).
func crc32Bitwise(_ p: UnsafeRawPointer, count: Int) -> UInt32 {
  var crc: UInt32 = 0xFFFF_FFFF
  var i = 0
  while i < count {
    crc = crc32EightBits(crc ^ UInt32(p.load(fromByteOffset: i, as: UInt8.self)))
    i += 1
  }
  return ~crc
}

/// The CRC register after shifting 8 bits out of `c` (one byte's division step).
@inline(__always)
func crc32EightBits(_ c: UInt32) -> UInt32 {
  var crc = c
  var k = 0
  while k < 8 {
    crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1)))
    k &+= 1
  }
  return crc
}

#if arch(x86_64) || arch(arm64)
/// Eight bytes a step. Table k (entries 256k ..< 256k + 256) maps a byte to
/// the CRC register after that byte and k zero bytes: t0 is the bytewise
/// table and t[k][b] = (t[k-1][b] >> 8) ^ t0[t[k-1][b] & 0xFF]. The register
/// XORed into the first four bytes (little-endian) passes through the
/// tables with the most zero bytes after it.
func crc32Sliced(_ p: UnsafeRawPointer, count: Int) -> UInt32 {
  var t = InlineArray<2048, UInt32>(repeating: 0)
  var i = 0
  while i < 256 {
    t[i] = crc32EightBits(UInt32(truncatingIfNeeded: i))
    i &+= 1
  }
  while i < 2048 {
    let prev = t[i &- 256]
    t[i] = (prev >> 8) ^ t[Int(prev & 0xFF)]
    i &+= 1
  }
  var crc: UInt32 = 0xFFFF_FFFF
  var n = 0
  while n &+ 8 <= count {
    let lo = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: n, as: UInt32.self)) ^ crc
    let hi = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: n &+ 4, as: UInt32.self))
    crc = t[1792 &+ Int(lo & 0xFF)] ^ t[1536 &+ Int((lo >> 8) & 0xFF)]
      ^ t[1280 &+ Int((lo >> 16) & 0xFF)] ^ t[1024 &+ Int(lo >> 24)]
      ^ t[768 &+ Int(hi & 0xFF)] ^ t[512 &+ Int((hi >> 8) & 0xFF)]
      ^ t[256 &+ Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
    n &+= 8
  }
  while n < count {
    crc = (crc >> 8) ^ t[Int((crc ^ UInt32(p.load(fromByteOffset: n, as: UInt8.self))) & 0xFF)]
    n &+= 1
  }
  return ~crc
}
#endif
