// In-memory representation of a loaded model.
//
// A model is one block of memory (allocated once by cnn_model_load_memory, or
// provided by the caller to cnn_model_load_static) that holds a ModelState
// followed by its tensor table, prepared ops and per-channel requantization
// arrays. Constant tensors (weights, biases, strings) are NOT copied: they are
// used in place from the caller's model bytes (zero-copy).
import _CNNRuntimeShims

/// One tensor, resolved and validated at load.
struct TensorInfo {
  var type: ElementType
  var rank: Int
  /// Shape padded on the left with 1s to four dimensions.
  var dims: Dims4
  var count: Int
  var byteSize: Int
  var quantKind: QuantKind
  /// Scale of the tensor (first channel's for per-channel tensors).
  var scale: Float
  /// Byte offset of the f32 scale array in the file (0 = none).
  var scalesOffset: Int
  var scaleCount: Int
  var zeroPoint: Int32
  /// Constant data inside the model bytes, or nil for activations.
  var constData: UnsafeRawPointer?
  var nameOffset: UInt32
  /// Activations: byte offset in the activation pool (set by the planner).
  var arenaOffset: Int
  /// Op index that writes this tensor; -1 for model inputs and constants.
  var producer: Int
  /// Lifetime in op indices, inclusive (planner input).
  var firstUse: Int
  var lastUse: Int
  var isModelInput: Bool
  var isModelOutput: Bool
  /// In-place placement: the tensor whose bytes hold this one (-1: none, the
  /// planner places it on its own), at `aliasOffset` bytes into them. Set at
  /// load by an op that writes its output over its input's bytes or reads it
  /// there (`OpPrepareContext.placeInputInOutput`); the planner resolves
  /// chains to the outermost tensor before placing.
  var aliasRoot: Int = -1
  var aliasOffset: Int = 0

  var isActivation: Bool { constData == nil }
}

/// One op as loaded: its tensors and its unit's prepared data (in the
/// model block; the unit's `Data` type, see Ops/OpUnit.swift).
struct PreparedOp {
  var code: OpCode
  var inputCount: Int
  var outputCount: Int
  /// The op's u32 tensor list in the model bytes (inputs, then outputs),
  /// range-checked at load.
  var tensorList: UnsafeRawPointer
  /// The op unit's `Data`, prepared at load.
  var data: UnsafeMutableRawPointer
  var paramCount: Int64
  var macs: Int64

  /// Tensor index of input `k`; -1 when absent (an optional input, or past the count).
  @inline(__always)
  func input(_ k: Int) -> Int32 {
    k < inputCount ? Int32(bitPattern: readLE(tensorList, 4 * k, as: UInt32.self)) : -1
  }

  /// Tensor index of output `k` (k < outputCount).
  @inline(__always)
  func output(_ k: Int) -> Int32 {
    Int32(bitPattern: readLE(tensorList, 4 * (inputCount + k), as: UInt32.self))
  }

  /// The first output.
  @inline(__always) var output: Int32 { output(0) }
}

/// The model block's header.
struct ModelState {
  var data: UnsafeRawPointer
  var size: Int
  /// Model bytes owned by the model (cnn_model_load_file), freed with it.
  var ownedData: UnsafeMutableRawPointer?
  /// True when the block itself was allocated by the library.
  var ownsBlock: Bool
  var header: FileHeader
  var tensors: UnsafeMutablePointer<TensorInfo>
  var tensorCount: Int
  var ops: UnsafeMutablePointer<PreparedOp>
  var opCount: Int
  var inputCount: Int
  var outputCount: Int
  var hasMetadata: Bool
  var metadata: MetadataRecord
  /// Bytes of the activation pool chosen by the memory planner.
  var activationBytes: Int
  /// Bytes of every activation tensor added up (what one buffer per tensor would need).
  var unplannedActivationBytes: Int
  /// Total bytes a context needs (cnn_context_arena_size).
  var contextBytes: Int
  /// Byte offset, within a context arena, of each region.
  var poolOffset: Int
  var profileOffset: Int
  /// The uint8 pixel → int8 input tables of model input 0, 256 entries per
  /// channel (up to 4), built at load from the preprocessing metadata.
  var pixelTable: UnsafeMutablePointer<Int8>
  /// Kernel path chosen at load (cnnrt_cpu.h numbering; CNNRT_ISA caps it).
  var kernelISA: Int32

  func tensor(_ i: Int) -> UnsafeMutablePointer<TensorInfo> { tensors + i }

  /// Tensor index of model input/output `i` (validated at load).
  func inputTensor(_ i: Int) -> Int {
    Int(readLE(data, Int(header.ioTableOffset) + 4 * i, as: UInt32.self))
  }

  func outputTensor(_ i: Int) -> Int {
    Int(readLE(data, Int(header.ioTableOffset) + 4 * (inputCount + i), as: UInt32.self))
  }

  /// A NUL-terminated string of the string table (validated at load), or "".
  func string(_ offset: UInt32) -> UnsafePointer<CChar> {
    if offset == ModelFormat.noString {
      return emptyCString()
    }
    return (data + Int(header.stringTableOffset) + Int(offset)).assumingMemoryBound(to: CChar.self)
  }

  /// Scale `c` of a tensor (validated offset).
  func scale(of t: TensorInfo, channel c: Int) -> Float {
    Float(bitPattern: readLE(data, t.scalesOffset + 4 * c, as: UInt32.self))
  }

  func label(_ i: Int) -> UnsafePointer<CChar> {
    guard hasMetadata, metadata.labelsOffset != 0, i >= 0, i < Int(metadata.classCount) else {
      return emptyCString()
    }
    return string(readLE(data, Int(metadata.labelsOffset) + 4 * i, as: UInt32.self))
  }
}

@inline(__always)
func emptyCString() -> UnsafePointer<CChar> {
  let s: StaticString = ""
  return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

@inline(__always)
func alignUp(_ x: Int, _ a: Int) -> Int { (x + a - 1) & ~(a - 1) }

/// Memory alignment of the model block and of a context arena.
let blockAlignment = 64
/// Alignment of each tensor inside the activation pool.
let tensorAlignment = 64
