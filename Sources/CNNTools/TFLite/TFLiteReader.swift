// TFLiteReader: a hand-written, bounds-checked reader for the part of the
// TensorFlow Lite FlatBuffers schema (tensorflow/lite/schema/schema.fbs,
// file identifier "TFL3") that importers need.
//
// FlatBuffers in brief (all little-endian):
//   - byte 0: u32 offset of the root table; bytes 4..<8: file identifier.
//   - a table at position t starts with an i32 `soffset`; its vtable is at
//     t − soffset: u16 vtable size, u16 table size, then one u16 per field id
//     giving the field's offset inside the table (0 = absent, use the default).
//   - a reference field (table, vector, string) holds a u32 offset relative to
//     the field's own position; a vector is a u32 count followed by elements;
//     a vector of tables holds u32 offsets, each relative to its own slot; a
//     string is a byte vector (NUL-terminated by writers; not required here).
//   - a union is two fields: a u8 type (id n) and an offset to a table (id n+1).
//
// The input is untrusted: every position, vtable, field, vector length and
// index is checked before it is read, with overflow-safe arithmetic, and any
// problem throws `TFLiteError.malformed` with the path of the object
// ("subgraphs[0].tensors[7].quantization.scale") and the offending numbers.
// Nothing here traps on any input.
//
// The reader keeps every tensor type readable (float models share it); it
// does not judge whether a model is importable — that is the importers' job.

// MARK: - Errors

/// Why a TFLite model could not be read or imported.
public enum TFLiteError: Error, Equatable, CustomStringConvertible {
  /// The bytes are not a well-formed TFLite FlatBuffer (truncated, corrupt,
  /// out-of-range offsets or indices).
  case malformed(String)
  /// A well-formed model that uses something the importer does not support.
  case unsupported(String)
  /// Well-formed, but inconsistent (shapes, quantization) for the operation.
  case invalidModel(String)
  /// The import options do not fit the model (labels, extra outputs, preprocessing).
  case invalidOptions(String)

  public var description: String {
    switch self {
    case .malformed(let m): return "malformed TFLite file: \(m)"
    case .unsupported(let m): return "unsupported TFLite model: \(m)"
    case .invalidModel(let m): return "invalid TFLite model: \(m)"
    case .invalidOptions(let m): return "invalid import options: \(m)"
    }
  }

  public var message: String {
    switch self {
    case .malformed(let m), .unsupported(let m), .invalidModel(let m), .invalidOptions(let m): return m
    }
  }
}

// MARK: - Schema enums

/// TFLite `TensorType` (schema enum, stored as a byte). Unknown values stay representable.
public struct TFLiteTensorType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: Int8
  public init(rawValue: Int8) { self.rawValue = rawValue }

  public static let float32 = Self(rawValue: 0)
  public static let float16 = Self(rawValue: 1)
  public static let int32 = Self(rawValue: 2)
  public static let uint8 = Self(rawValue: 3)
  public static let int64 = Self(rawValue: 4)
  public static let string = Self(rawValue: 5)
  public static let bool = Self(rawValue: 6)
  public static let int16 = Self(rawValue: 7)
  public static let complex64 = Self(rawValue: 8)
  public static let int8 = Self(rawValue: 9)
  public static let float64 = Self(rawValue: 10)
  public static let complex128 = Self(rawValue: 11)
  public static let uint64 = Self(rawValue: 12)
  public static let resource = Self(rawValue: 13)
  public static let variant = Self(rawValue: 14)
  public static let uint32 = Self(rawValue: 15)
  public static let uint16 = Self(rawValue: 16)
  public static let int4 = Self(rawValue: 17)

  private static let names = ["FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16",
                              "COMPLEX64", "INT8", "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT",
                              "UINT32", "UINT16", "INT4"]

  /// The schema name ("INT8"), or "TYPE_<n>" for values this reader does not know.
  public var name: String {
    rawValue >= 0 && Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : "TYPE_\(rawValue)"
  }
  public var description: String { name }

  /// Bytes per element for fixed-size types (nil for strings, resources, variants, int4).
  public var elementSize: Int? {
    switch self {
    case .int8, .uint8, .bool: return 1
    case .float16, .int16, .uint16: return 2
    case .float32, .int32, .uint32: return 4
    case .float64, .int64, .uint64, .complex64: return 8
    case .complex128: return 16
    default: return nil
    }
  }

  public var isFloatingPoint: Bool { self == .float32 || self == .float16 || self == .float64 }
}

/// TFLite `Padding`.
public enum TFLitePadding: Int8, Sendable {
  case same = 0
  case valid = 1
}

/// TFLite `ActivationFunctionType`.
public enum TFLiteActivation: Int8, Sendable, CustomStringConvertible {
  case none = 0
  case relu = 1
  case reluN1To1 = 2
  case relu6 = 3
  case tanh = 4
  case signBit = 5

  public var description: String {
    switch self {
    case .none: return "NONE"
    case .relu: return "RELU"
    case .reluN1To1: return "RELU_N1_TO_1"
    case .relu6: return "RELU6"
    case .tanh: return "TANH"
    case .signBit: return "SIGN_BIT"
    }
  }
}

/// TFLite `BuiltinOperator` codes and names.
public enum TFLiteBuiltinOperator {
  public static let add: Int32 = 0
  public static let averagePool2D: Int32 = 1
  public static let conv2D: Int32 = 3
  public static let depthwiseConv2D: Int32 = 4
  public static let dequantize: Int32 = 6
  public static let fullyConnected: Int32 = 9
  public static let logistic: Int32 = 14
  public static let maxPool2D: Int32 = 17
  public static let reshape: Int32 = 22
  public static let softmax: Int32 = 25
  public static let custom: Int32 = 32
  public static let pad: Int32 = 34
  public static let transpose: Int32 = 39
  public static let mean: Int32 = 40
  public static let sum: Int32 = 74
  public static let reduceMax: Int32 = 82
  public static let squeeze: Int32 = 43
  public static let padV2: Int32 = 60
  public static let transposeConv: Int32 = 67
  public static let quantize: Int32 = 114
  // binary
  public static let mul: Int32 = 18
  public static let sub: Int32 = 41
  public static let div: Int32 = 42
  public static let maximum: Int32 = 55
  public static let minimum: Int32 = 57
  // shape
  public static let depthToSpace: Int32 = 5
  public static let spaceToDepth: Int32 = 26
  public static let stridedSlice: Int32 = 45
  public static let split: Int32 = 49
  public static let slice: Int32 = 65
  public static let expandDims: Int32 = 70
  public static let pack: Int32 = 83
  public static let unpack: Int32 = 88
  public static let splitV: Int32 = 102
  public static let gather: Int32 = 36
  public static let tile: Int32 = 69
  // activations
  public static let relu: Int32 = 19
  public static let relu6: Int32 = 21
  public static let tanh: Int32 = 28
  public static let prelu: Int32 = 54
  public static let leakyRelu: Int32 = 98
  public static let hardSwish: Int32 = 117
  // join
  public static let concatenation: Int32 = 2
  public static let resizeBilinear: Int32 = 23
  public static let resizeNearestNeighbor: Int32 = 97
  /// Codes below this fit the byte-wide `deprecated_builtin_code` field.
  public static let placeholderForGreaterOpCodes: Int32 = 127

  /// The schema name of a builtin code ("TRANSPOSE_CONV"), or "BUILTIN_<n>" when unknown.
  public static func name(_ code: Int32) -> String {
    if code >= 0, Int(code) < names.count { return names[Int(code)] }
    if code == 225 { return "TEMP_STREAMING_CONV_2D" }
    return "BUILTIN_\(code)"
  }

  // Index = code, from schema.fbs (0 … 205).
  private static let names: [String] = [
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
    "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
    "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
    "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
    "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE",
    "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
    "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR",
    "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE",
    "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE",
    "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK",
    "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
    "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
    "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D",
    "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE",
    "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU",
    "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC", "STABLEHLO_ADD", "STABLEHLO_DIVIDE", "STABLEHLO_MULTIPLY", "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE", "STABLEHLO_CLAMP", "STABLEHLO_CONCATENATE", "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION", "STABLEHLO_SLICE", "STABLEHLO_CUSTOM_CALL", "STABLEHLO_REDUCE", "STABLEHLO_ABS",
    "STABLEHLO_AND", "STABLEHLO_COSINE", "STABLEHLO_EXPONENTIAL", "STABLEHLO_FLOOR", "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM", "STABLEHLO_NEGATE", "STABLEHLO_OR", "STABLEHLO_POWER", "STABLEHLO_REMAINDER",
    "STABLEHLO_RSQRT", "STABLEHLO_SELECT", "STABLEHLO_SUBTRACT", "STABLEHLO_TANH", "STABLEHLO_SCATTER",
    "STABLEHLO_COMPARE", "STABLEHLO_CONVERT", "STABLEHLO_DYNAMIC_SLICE", "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD", "STABLEHLO_IOTA", "STABLEHLO_DOT_GENERAL", "STABLEHLO_REDUCE_WINDOW", "STABLEHLO_SORT",
    "STABLEHLO_WHILE", "STABLEHLO_GATHER", "STABLEHLO_TRANSPOSE", "DILATE", "STABLEHLO_RNG_BIT_GENERATOR",
    "REDUCE_WINDOW",
  ]
}

// MARK: - Model types

/// Quantization parameters of a tensor: real = scale × (q − zero_point).
public struct TFLiteQuantization: Equatable, Sendable {
  public var min: [Float]
  public var max: [Float]
  public var scale: [Float]
  public var zeroPoint: [Int64]
  /// Axis of per-channel scales (meaningful when `scale.count > 1`).
  public var quantizedDimension: Int
  /// A `details` union (custom quantization) is present: scale/zero point are then not authoritative.
  public var hasDetails: Bool
}

public struct TFLiteTensor: Sendable {
  public var index: Int
  /// As stored; -1 entries (unknown sizes) are kept.
  public var shape: [Int]
  public var shapeSignature: [Int]?
  public var type: TFLiteTensorType
  /// Index into `TFLiteModel.buffers` (0 = the empty sentinel).
  public var buffer: Int
  public var name: String
  public var quantization: TFLiteQuantization?
  public var isVariable: Bool
  public var isSparse: Bool

  public var elementCount: Int? {
    var n = 1
    for d in shape {
      guard d >= 0 else { return nil }
      let (p, o) = n.multipliedReportingOverflow(by: d)
      if o { return nil }
      n = p
    }
    return n
  }
}

/// `OperatorCode`: which builtin (or custom) op an operator runs.
public struct TFLiteOperatorCode: Sendable {
  /// The effective builtin code: max(builtin_code, deprecated_builtin_code), as TFLite resolves it.
  public var builtinCode: Int32
  public var deprecatedBuiltinCode: Int8
  public var extendedBuiltinCode: Int32
  public var customCode: String?
  public var version: Int32

  public var builtinName: String {
    builtinCode == TFLiteBuiltinOperator.custom ? "CUSTOM(\(customCode ?? "?"))" : TFLiteBuiltinOperator.name(builtinCode)
  }
}

public struct TFLiteConv2DOptions: Equatable, Sendable {
  public var padding: TFLitePadding
  public var strideW: Int
  public var strideH: Int
  public var activation: TFLiteActivation
  public var dilationW: Int
  public var dilationH: Int
}

public struct TFLiteDepthwiseConv2DOptions: Equatable, Sendable {
  public var padding: TFLitePadding
  public var strideW: Int
  public var strideH: Int
  public var depthMultiplier: Int
  public var activation: TFLiteActivation
  public var dilationW: Int
  public var dilationH: Int
}

public struct TFLiteTransposeConvOptions: Equatable, Sendable {
  public var padding: TFLitePadding
  public var strideW: Int
  public var strideH: Int
  public var activation: TFLiteActivation
}

public struct TFLitePool2DOptions: Equatable, Sendable {
  public var padding: TFLitePadding
  public var strideW: Int
  public var strideH: Int
  public var filterWidth: Int
  public var filterHeight: Int
  public var activation: TFLiteActivation
}

public struct TFLiteFullyConnectedOptions: Equatable, Sendable {
  public var activation: TFLiteActivation
  /// 0 = DEFAULT, 1 = SHUFFLED4x16INT8.
  public var weightsFormat: Int8
  public var keepNumDims: Bool
  public var asymmetricQuantizeInputs: Bool
}

/// The `builtin_options` union of an operator, for the option tables this reader decodes.
public enum TFLiteBuiltinOptions: Equatable, Sendable {
  case none
  case conv2D(TFLiteConv2DOptions)
  case depthwiseConv2D(TFLiteDepthwiseConv2DOptions)
  case pool2D(TFLitePool2DOptions)
  case fullyConnected(TFLiteFullyConnectedOptions)
  case softmax(beta: Float)
  case add(activation: TFLiteActivation)
  case reshape(newShape: [Int]?)
  case reducer(keepDims: Bool)
  case pad
  case squeeze(dims: [Int])
  // binary
  case mul(activation: TFLiteActivation)
  case sub(activation: TFLiteActivation)
  case div(activation: TFLiteActivation)
  case transposeConv(TFLiteTransposeConvOptions)
  // shape
  case stridedSlice(TFLiteStridedSliceOptions)
  /// SPLIT and SPLIT_V.
  case split(numSplits: Int)
  case unpack(num: Int, axis: Int)
  /// DEPTH_TO_SPACE and SPACE_TO_DEPTH.
  case blockSize(Int)
  case pack(valuesCount: Int, axis: Int)
  case gather(axis: Int, batchDims: Int)
  // activations
  case leakyRelu(alpha: Float)
  // join
  case concatenation(axis: Int, activation: TFLiteActivation)
  /// ResizeBilinearOptions and ResizeNearestNeighborOptions.
  case resize(alignCorners: Bool, halfPixelCenters: Bool)
  /// Another union member (its table is not decoded).
  case other(type: UInt8)

  /// Union type codes (BuiltinOptions, NONE = 0).
  public static let conv2DType: UInt8 = 1
  public static let depthwiseConv2DType: UInt8 = 2
  public static let pool2DType: UInt8 = 5
  public static let fullyConnectedType: UInt8 = 8
  public static let softmaxType: UInt8 = 9
  public static let addType: UInt8 = 11
  public static let reshapeType: UInt8 = 17
  public static let padType: UInt8 = 22
  public static let reducerType: UInt8 = 27
  public static let squeezeType: UInt8 = 30
  // binary
  public static let mulType: UInt8 = 21
  public static let subType: UInt8 = 28
  public static let divType: UInt8 = 29
  public static let transposeConvType: UInt8 = 49
  // shape
  public static let stridedSliceType: UInt8 = 32
  public static let splitType: UInt8 = 35
  public static let splitVType: UInt8 = 79
  public static let unpackType: UInt8 = 64
  public static let depthToSpaceType: UInt8 = 94
  public static let spaceToDepthType: UInt8 = 19
  public static let packType: UInt8 = 59
  public static let gatherType: UInt8 = 23
  // activations
  public static let leakyReluType: UInt8 = 75
  // join
  public static let concatenationType: UInt8 = 10
  public static let resizeBilinearType: UInt8 = 15
  public static let resizeNearestNeighborType: UInt8 = 74
}

public struct TFLiteOperator: Sendable {
  public var index: Int
  public var opcodeIndex: Int
  /// Tensor indices; -1 marks an absent optional input.
  public var inputs: [Int]
  public var outputs: [Int]
  public var intermediates: [Int]
  /// Raw union type of `builtin_options`.
  public var builtinOptionsType: UInt8
  public var options: TFLiteBuiltinOptions
  public var hasCustomOptions: Bool
}

public struct TFLiteSubgraph: Sendable {
  public var name: String?
  public var tensors: [TFLiteTensor]
  public var inputs: [Int]
  public var outputs: [Int]
  public var operators: [TFLiteOperator]
}

/// Where a buffer's bytes are in the file (inside the FlatBuffer's `data`
/// vector, or appended after it via `offset`/`size`).
public struct TFLiteBuffer: Sendable {
  public var index: Int
  /// Byte range in `TFLiteModel.bytes`; empty for buffers without data.
  public var range: Range<Int>
  /// The data lives outside the FlatBuffer (offset/size fields).
  public var isExternal: Bool
}

// MARK: - Model

/// A parsed TFLite model. All indices inside are checked: every tensor's
/// buffer exists, every operator's opcode index and tensor indices exist.
public struct TFLiteModel: Sendable {
  public let bytes: [UInt8]
  public let version: UInt32
  public let description: String?
  public let operatorCodes: [TFLiteOperatorCode]
  public let subgraphs: [TFLiteSubgraph]
  public let buffers: [TFLiteBuffer]

  /// Parses `bytes`; throws `TFLiteError.malformed` naming the first problem.
  public init(bytes: [UInt8]) throws {
    self.bytes = bytes
    let fb = FlatBuffer(bytes)
    guard bytes.count >= 8 else {
      throw TFLiteError.malformed("file is \(bytes.count) bytes, too short for a FlatBuffer header (8 bytes)")
    }
    let ident = bytes[4..<8]
    guard ident.elementsEqual("TFL3".utf8) else {
      let shown = ident.map { $0 >= 32 && $0 < 127 ? String(UnicodeScalar($0)) : "." }.joined()
      throw TFLiteError.malformed("file identifier is \"\(shown)\", expected \"TFL3\" (not a TFLite model?)")
    }
    let root = try fb.table(at: Int(try fb.u32(0, "root offset")), "")

    version = try root.scalar(0, UInt32.self, default: 0)
    description = try root.string(3, "description")

    // Buffers first: tensors refer to them.
    var buffers: [TFLiteBuffer] = []
    if let vec = try root.vector(4, elementSize: 4, "buffers") {
      buffers.reserveCapacity(vec.count)
      for i in 0..<vec.count {
        let b = try vec.table(i)
        var range = 0..<0
        var external = false
        if let data = try b.vector(0, elementSize: 1, "data") {
          range = data.start..<(data.start + data.count)
        }
        let offset = try b.scalar(1, UInt64.self, default: 0)
        let size = try b.scalar(2, UInt64.self, default: 0)
        if offset > 1 {
          guard range.isEmpty else {
            throw TFLiteError.malformed("buffers[\(i)] has both inline data and an external offset")
          }
          guard offset <= UInt64(bytes.count), size <= UInt64(bytes.count) - offset else {
            throw TFLiteError.malformed(
              "buffers[\(i)]: external data [\(offset), +\(size)) lies outside the \(bytes.count)-byte file")
          }
          range = Int(offset)..<Int(offset + size)
          external = true
        }
        buffers.append(TFLiteBuffer(index: i, range: range, isExternal: external))
      }
    }
    self.buffers = buffers

    var codes: [TFLiteOperatorCode] = []
    if let vec = try root.vector(1, elementSize: 4, "operator_codes") {
      codes.reserveCapacity(vec.count)
      for i in 0..<vec.count {
        let t = try vec.table(i)
        let deprecated = try t.scalar(0, Int8.self, default: 0)
        let extended = try t.scalar(3, Int32.self, default: 0)
        codes.append(TFLiteOperatorCode(
          builtinCode: Swift.max(extended, Int32(deprecated)), deprecatedBuiltinCode: deprecated,
          extendedBuiltinCode: extended, customCode: try t.string(1, "custom_code"),
          version: try t.scalar(2, Int32.self, default: 1)))
      }
    }
    self.operatorCodes = codes

    var subgraphs: [TFLiteSubgraph] = []
    if let vec = try root.vector(2, elementSize: 4, "subgraphs") {
      for i in 0..<vec.count {
        subgraphs.append(try Self.readSubgraph(try vec.table(i), index: i, bufferCount: buffers.count,
                                               opcodeCount: codes.count))
      }
    }
    self.subgraphs = subgraphs
  }

  /// The bytes of buffer `index` (empty for the sentinel and for activations).
  public func bufferData(_ index: Int) throws -> ArraySlice<UInt8> {
    guard index >= 0, index < buffers.count else {
      throw TFLiteError.malformed("buffer index \(index) out of range (model has \(buffers.count) buffers)")
    }
    return bytes[buffers[index].range]
  }

  /// The constant data of `tensor`, or nil when its buffer is empty.
  public func constantData(of tensor: TFLiteTensor) throws -> ArraySlice<UInt8>? {
    let d = try bufferData(tensor.buffer)
    return d.isEmpty ? nil : d
  }

  /// Little-endian int32 (`size` 4) or int64 (`size` 8) values of a constant
  /// (axes, paddings); `data.count` must be a multiple of `size`.
  static func littleEndianIntegers(_ data: ArraySlice<UInt8>, size: Int) -> [Int] {
    var out: [Int] = []
    var p = data.startIndex
    while p < data.endIndex {
      var v: UInt64 = 0
      for k in 0..<size { v |= UInt64(data[p + k]) << (8 * UInt64(k)) }
      out.append(size == 4 ? Int(Int32(truncatingIfNeeded: v)) : Int(Int64(bitPattern: v)))
      p += size
    }
    return out
  }

  /// The builtin name of an operator's op ("CONV_2D").
  public func operatorName(_ op: TFLiteOperator) -> String {
    op.opcodeIndex < operatorCodes.count ? operatorCodes[op.opcodeIndex].builtinName : "opcode #\(op.opcodeIndex)"
  }

  // MARK: Tables

  private static func readSubgraph(_ t: FlatBuffer.Table, index s: Int, bufferCount: Int,
                                   opcodeCount: Int) throws -> TFLiteSubgraph {
    let path = "subgraphs[\(s)]"
    var tensors: [TFLiteTensor] = []
    if let vec = try t.vector(0, elementSize: 4, "tensors") {
      tensors.reserveCapacity(vec.count)
      for i in 0..<vec.count {
        tensors.append(try readTensor(try vec.table(i), index: i, path: "\(path).tensors[\(i)]",
                                      bufferCount: bufferCount))
      }
    }
    func tensorIndices(_ id: Int, _ what: String, allowAbsent: Bool) throws -> [Int] {
      let raw = try t.fb.int32Vector(try t.vector(id, elementSize: 4, id == 1 ? "inputs" : "outputs"), what)
      for (k, v) in raw.enumerated() where !(allowAbsent && v == -1) {
        guard v >= 0, v < tensors.count else {
          throw TFLiteError.malformed("\(what)[\(k)]: tensor index \(v) out of range (subgraph has \(tensors.count) tensors)")
        }
      }
      return raw.map { Int($0) }
    }
    let inputs = try tensorIndices(1, "\(path).inputs", allowAbsent: false)
    let outputs = try tensorIndices(2, "\(path).outputs", allowAbsent: false)
    var ops: [TFLiteOperator] = []
    if let vec = try t.vector(3, elementSize: 4, "operators") {
      ops.reserveCapacity(vec.count)
      for i in 0..<vec.count {
        let o = try vec.table(i)
        let opPath = "\(path).operators[\(i)]"
        let opcode = try o.scalar(0, UInt32.self, default: 0)
        guard Int(opcode) < opcodeCount else {
          throw TFLiteError.malformed("\(opPath): opcode index \(opcode) out of range (model has \(opcodeCount) operator codes)")
        }
        func indices(_ id: Int, _ name: String, allowAbsent: Bool) throws -> [Int] {
          let raw = try o.fb.int32Vector(try o.vector(id, elementSize: 4, name), "\(opPath).\(name)")
          for (k, v) in raw.enumerated() where !(allowAbsent && v == -1) {
            guard v >= 0, v < tensors.count else {
              throw TFLiteError.malformed(
                "\(opPath).\(name)[\(k)]: tensor index \(v) out of range (subgraph has \(tensors.count) tensors)")
            }
          }
          return raw.map { Int($0) }
        }
        let optType = try o.scalar(3, UInt8.self, default: 0)
        let options = try readOptions(o, typeField: 3, valueField: 4, type: optType, path: "\(opPath).builtin_options")
        ops.append(TFLiteOperator(
          index: i, opcodeIndex: Int(opcode),
          inputs: try indices(1, "inputs", allowAbsent: true),
          outputs: try indices(2, "outputs", allowAbsent: false),
          intermediates: try indices(8, "intermediates", allowAbsent: true),
          builtinOptionsType: optType, options: options,
          hasCustomOptions: (try o.vector(5, elementSize: 1, "custom_options")).map { $0.count > 0 } ?? false))
      }
    }
    return TFLiteSubgraph(name: try t.string(4, "name"), tensors: tensors, inputs: inputs, outputs: outputs, operators: ops)
  }

  private static func readTensor(_ t: FlatBuffer.Table, index: Int, path: String,
                                 bufferCount: Int) throws -> TFLiteTensor {
    let shape = try t.fb.int32Vector(try t.vector(0, elementSize: 4, "shape"), "\(path).shape").map { Int($0) }
    let type = TFLiteTensorType(rawValue: try t.scalar(1, Int8.self, default: 0))
    let buffer = try t.scalar(2, UInt32.self, default: 0)
    guard Int(buffer) < bufferCount else {
      throw TFLiteError.malformed("\(path): buffer index \(buffer) out of range (model has \(bufferCount) buffers)")
    }
    var quant: TFLiteQuantization? = nil
    if let q = try t.table(4, "quantization") {
      let qp = "\(path).quantization"
      let scale = try q.fb.floatVector(try q.vector(2, elementSize: 4, "scale"), "\(qp).scale")
      let zp = try q.fb.int64Vector(try q.vector(3, elementSize: 8, "zero_point"), "\(qp).zero_point")
      quant = TFLiteQuantization(
        min: try q.fb.floatVector(try q.vector(0, elementSize: 4, "min"), "\(qp).min"),
        max: try q.fb.floatVector(try q.vector(1, elementSize: 4, "max"), "\(qp).max"),
        scale: scale, zeroPoint: zp,
        quantizedDimension: Int(try q.scalar(6, Int32.self, default: 0)),
        hasDetails: try q.scalar(4, UInt8.self, default: 0) != 0)
    }
    let signature = try t.vector(7, elementSize: 4, "shape_signature")
    return TFLiteTensor(
      index: index, shape: shape,
      shapeSignature: signature == nil ? nil : try t.fb.int32Vector(signature, "\(path).shape_signature").map { Int($0) },
      type: type, buffer: Int(buffer), name: try t.string(3, "name") ?? "",
      quantization: quant, isVariable: try t.scalar(5, UInt8.self, default: 0) != 0,
      isSparse: try t.table(6, "sparsity") != nil)
  }

  private static func readOptions(_ o: FlatBuffer.Table, typeField: Int, valueField: Int, type: UInt8,
                                  path: String) throws -> TFLiteBuiltinOptions {
    if type == 0 { return .none }
    let known: Set<UInt8> = [
      1, 2, 5, 8, 9, 11, 17, 22, 27, 30,
      TFLiteBuiltinOptions.transposeConvType,
      21, 28, 29,  // binary
      19, 23, 32, 35, 59, 64, 79, 94,  // shape
      75,  // activations: LeakyReluOptions
      10, 15, 74,  // join
    ]
    guard known.contains(type) else { return .other(type: type) }
    guard let t = try o.table(valueField, "builtin_options") else {
      // A union type without a table: TFLite uses zero-initialised options.
      throw TFLiteError.malformed("\(path): options type \(type) is set but the options table is missing")
    }
    func padding(_ id: Int) throws -> TFLitePadding {
      let v = try t.scalar(id, Int8.self, default: 0)
      guard let p = TFLitePadding(rawValue: v) else { throw TFLiteError.malformed("\(path): unknown padding \(v)") }
      return p
    }
    func activation(_ id: Int) throws -> TFLiteActivation {
      let v = try t.scalar(id, Int8.self, default: 0)
      guard let a = TFLiteActivation(rawValue: v) else {
        throw TFLiteError.malformed("\(path): unknown fused activation \(v)")
      }
      return a
    }
    func int(_ id: Int, _ d: Int32) throws -> Int { Int(try t.scalar(id, Int32.self, default: d)) }
    func bool(_ id: Int) throws -> Bool { try t.scalar(id, UInt8.self, default: 0) != 0 }
    switch type {
    case TFLiteBuiltinOptions.conv2DType:
      return .conv2D(TFLiteConv2DOptions(
        padding: try padding(0), strideW: try int(1, 0), strideH: try int(2, 0), activation: try activation(3),
        dilationW: try int(4, 1), dilationH: try int(5, 1)))
    case TFLiteBuiltinOptions.depthwiseConv2DType:
      return .depthwiseConv2D(TFLiteDepthwiseConv2DOptions(
        padding: try padding(0), strideW: try int(1, 0), strideH: try int(2, 0), depthMultiplier: try int(3, 0),
        activation: try activation(4), dilationW: try int(5, 1), dilationH: try int(6, 1)))
    case TFLiteBuiltinOptions.pool2DType:
      return .pool2D(TFLitePool2DOptions(
        padding: try padding(0), strideW: try int(1, 0), strideH: try int(2, 0), filterWidth: try int(3, 0),
        filterHeight: try int(4, 0), activation: try activation(5)))
    case TFLiteBuiltinOptions.fullyConnectedType:
      return .fullyConnected(TFLiteFullyConnectedOptions(
        activation: try activation(0), weightsFormat: try t.scalar(1, Int8.self, default: 0),
        keepNumDims: try bool(2), asymmetricQuantizeInputs: try bool(3)))
    case TFLiteBuiltinOptions.softmaxType:
      return .softmax(beta: try t.scalar(0, Float.self, default: 0))
    case TFLiteBuiltinOptions.addType:
      return .add(activation: try activation(0))
    case TFLiteBuiltinOptions.reshapeType:
      let v = try t.vector(0, elementSize: 4, "new_shape")
      return .reshape(newShape: v == nil ? nil : try t.fb.int32Vector(v, "\(path).new_shape").map { Int($0) })
    case TFLiteBuiltinOptions.padType:
      return .pad
    case TFLiteBuiltinOptions.reducerType:
      return .reducer(keepDims: try bool(0))
    case TFLiteBuiltinOptions.transposeConvType:
      return .transposeConv(TFLiteTransposeConvOptions(
        padding: try padding(0), strideW: try int(1, 0), strideH: try int(2, 0), activation: try activation(3)))
    case TFLiteBuiltinOptions.squeezeType:
      return .squeeze(dims: try t.fb.int32Vector(try t.vector(0, elementSize: 4, "squeeze_dims"), "\(path).squeeze_dims").map { Int($0) })
    // binary
    case TFLiteBuiltinOptions.mulType:
      return .mul(activation: try activation(0))
    case TFLiteBuiltinOptions.subType:
      return .sub(activation: try activation(0))
    case TFLiteBuiltinOptions.divType:
      return .div(activation: try activation(0))
    // shape
    case TFLiteBuiltinOptions.stridedSliceType:
      return .stridedSlice(TFLiteStridedSliceOptions(
        beginMask: try int(0, 0), endMask: try int(1, 0), ellipsisMask: try int(2, 0), newAxisMask: try int(3, 0),
        shrinkAxisMask: try int(4, 0), offset: try bool(5)))
    case TFLiteBuiltinOptions.splitType, TFLiteBuiltinOptions.splitVType:
      return .split(numSplits: try int(0, 0))
    case TFLiteBuiltinOptions.unpackType:
      return .unpack(num: try int(0, 0), axis: try int(1, 0))
    case TFLiteBuiltinOptions.depthToSpaceType, TFLiteBuiltinOptions.spaceToDepthType:
      return .blockSize(try int(0, 0))
    case TFLiteBuiltinOptions.gatherType:
      return .gather(axis: try int(0, 0), batchDims: try int(1, 0))
    case TFLiteBuiltinOptions.packType:
      return .pack(valuesCount: try int(0, 0), axis: try int(1, 0))
    // activations
    case TFLiteBuiltinOptions.leakyReluType:
      return .leakyRelu(alpha: try t.scalar(0, Float.self, default: 0))
    // join
    case TFLiteBuiltinOptions.concatenationType:
      return .concatenation(axis: try int(0, 0), activation: try activation(1))
    case TFLiteBuiltinOptions.resizeBilinearType:
      return .resize(alignCorners: try bool(2), halfPixelCenters: try bool(3))
    case TFLiteBuiltinOptions.resizeNearestNeighborType:
      return .resize(alignCorners: try bool(0), halfPixelCenters: try bool(1))
    default:
      return .other(type: type)
    }
  }
}

/// StridedSliceOptions (masks: bit i = axis i).
public struct TFLiteStridedSliceOptions: Equatable, Sendable {
  public var beginMask: Int
  public var endMask: Int
  public var ellipsisMask: Int
  public var newAxisMask: Int
  public var shrinkAxisMask: Int
  public var offset: Bool
}

// MARK: - FlatBuffer access (bounds-checked)

/// Checked little-endian reads over the file bytes.
struct FlatBuffer {
  let bytes: [UInt8]
  init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// Throws unless [pos, pos + size) lies in the file.
  func check(_ pos: Int, _ size: Int, _ what: @autoclosure () -> String) throws {
    guard pos >= 0, size >= 0, pos <= bytes.count, size <= bytes.count - pos else {
      throw TFLiteError.malformed(
        "\(what()) at offset \(pos) (\(size) bytes) lies outside the \(bytes.count)-byte file (truncated?)")
    }
  }

  func load<T: FixedWidthInteger>(_ pos: Int, _ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
    try check(pos, MemoryLayout<T>.size, what())
    var v: T = 0
    for k in 0..<MemoryLayout<T>.size { v |= T(truncatingIfNeeded: bytes[pos + k]) << (8 * k) }
    return v
  }

  func u32(_ pos: Int, _ what: @autoclosure () -> String) throws -> UInt32 { try load(pos, UInt32.self, what()) }

  /// The table whose start (its soffset) is at `pos`.
  func table(at pos: Int, _ path: String) throws -> Table {
    let soffset = try load(pos, Int32.self, "\(path) table")
    let vtable = pos - Int(soffset)
    let vtSize = Int(try load(vtable, UInt16.self, "\(path) vtable"))
    guard vtSize >= 4, vtSize % 2 == 0 else {
      throw TFLiteError.malformed("\(path): vtable at offset \(vtable) has invalid size \(vtSize)")
    }
    try check(vtable, vtSize, "\(path) vtable")
    let tableSize = Int(try load(vtable + 2, UInt16.self, "\(path) vtable"))
    guard tableSize >= 4 else {
      throw TFLiteError.malformed("\(path): table at offset \(pos) has invalid size \(tableSize)")
    }
    try check(pos, tableSize, "\(path) table")
    return Table(fb: self, pos: pos, vtable: vtable, vtableSize: vtSize, tableSize: tableSize, path: path)
  }

  struct Vector {
    let fb: FlatBuffer
    /// Position of element 0.
    let start: Int
    let count: Int
    let elementSize: Int
    let path: String

    /// Element `i` of a vector of tables.
    func table(_ i: Int) throws -> Table {
      guard i >= 0, i < count else { throw TFLiteError.malformed("\(path): element \(i) of \(count) requested") }
      let slot = start + i * 4
      let rel = try fb.u32(slot, "\(path)[\(i)]")
      return try fb.table(at: slot + Int(rel), "\(path)[\(i)]")
    }
  }

  struct Table {
    let fb: FlatBuffer
    let pos: Int
    let vtable: Int
    let vtableSize: Int
    let tableSize: Int
    let path: String

    /// Absolute position of field `id` (nil if absent), checked to hold `size` bytes inside the table.
    func field(_ id: Int, size: Int) throws -> Int? {
      let entry = 4 + 2 * id
      guard entry + 2 <= vtableSize else { return nil }
      let off = Int(try fb.load(vtable + entry, UInt16.self, "\(path) vtable"))
      if off == 0 { return nil }
      guard off >= 4, off + size <= tableSize else {
        throw TFLiteError.malformed(
          "\(path): field \(id) at table offset \(off) (\(size) bytes) lies outside the \(tableSize)-byte table")
      }
      return pos + off
    }

    func scalar<T: FixedWidthInteger>(_ id: Int, _ type: T.Type, default d: T) throws -> T {
      guard let p = try field(id, size: MemoryLayout<T>.size) else { return d }
      return try fb.load(p, T.self, "\(path) field \(id)")
    }

    func scalar(_ id: Int, _ type: Float.Type, default d: Float) throws -> Float {
      guard let p = try field(id, size: 4) else { return d }
      return Float(bitPattern: try fb.load(p, UInt32.self, "\(path) field \(id)"))
    }

    /// Path of a child object named `name` (or "field<id>").
    func child(_ id: Int, _ name: String?) -> String {
      let n = name ?? "field\(id)"
      return path.isEmpty ? n : "\(path).\(n)"
    }

    /// Target position of reference field `id`.
    func reference(_ id: Int, _ name: String? = nil) throws -> Int? {
      guard let p = try field(id, size: 4) else { return nil }
      let rel = try fb.u32(p, child(id, name))
      let target = p + Int(rel)
      try fb.check(target, 4, "\(child(id, name)) (referenced from offset \(p))")
      return target
    }

    func table(_ id: Int, _ name: String? = nil) throws -> Table? {
      guard let target = try reference(id, name) else { return nil }
      return try fb.table(at: target, child(id, name))
    }

    func vector(_ id: Int, elementSize: Int, _ name: String? = nil) throws -> Vector? {
      guard let target = try reference(id, name) else { return nil }
      let what = child(id, name)
      let count = Int(try fb.u32(target, "\(what) length"))
      let (bytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
      guard !overflow else { throw TFLiteError.malformed("\(what): vector of \(count) elements is too long") }
      try fb.check(target + 4, bytes, "\(what) (vector of \(count) elements)")
      return Vector(fb: fb, start: target + 4, count: count, elementSize: elementSize, path: what)
    }

    func string(_ id: Int, _ name: String? = nil) throws -> String? {
      guard let v = try vector(id, elementSize: 1, name) else { return nil }
      var s = fb.bytes[v.start..<(v.start + v.count)]
      if let nul = s.firstIndex(of: 0) { s = s[..<nul] }
      return String(decoding: s, as: UTF8.self)
    }
  }

  func int32Vector(_ v: Vector?, _ what: String) throws -> [Int32] {
    guard let v else { return [] }
    return try (0..<v.count).map { try load(v.start + 4 * $0, Int32.self, "\(what)[\($0)]") }
  }

  func int64Vector(_ v: Vector?, _ what: String) throws -> [Int64] {
    guard let v else { return [] }
    return try (0..<v.count).map { try load(v.start + 8 * $0, Int64.self, "\(what)[\($0)]") }
  }

  func floatVector(_ v: Vector?, _ what: String) throws -> [Float] {
    guard let v else { return [] }
    return try (0..<v.count).map { Float(bitPattern: try load(v.start + 4 * $0, UInt32.self, "\(what)[\($0)]")) }
  }
}
