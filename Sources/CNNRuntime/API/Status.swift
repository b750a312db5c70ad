// Status codes returned by every fallible C API call, and the load-time
// diagnostic message writer.

/// Result of a cnnrt call. 0 is success, every error is negative. Values are
/// part of the ABI: they are never renumbered, new codes get new values.
@c(cnn_status) public enum CNNStatus: Int32, Error {
  /// Success.
  case ok = 0
  /// A required pointer is NULL, a size is zero or negative, or an index is out of range.
  case invalidArgument = -1
  /// An allocation made by a convenience call (cnn_model_load_file, cnn_context_create) failed.
  case outOfMemory = -2
  /// The model file cannot be opened or read.
  case ioError = -3
  /// The buffer does not start with the cnnrt model magic: not a cnnrt model.
  case badMagic = -4
  /// The model's format or quantization-scheme version is newer than this library reads: upgrade cnnrt, or re-export the model with a matching cnnrt.
  case unsupportedVersion = -5
  /// The buffer is shorter than the model it holds (truncated copy or download).
  case truncated = -6
  /// The model's checksum does not match its bytes (corrupted file).
  case checksumMismatch = -7
  /// A table, offset, size or string of the model lies outside the file or overlaps wrongly.
  case malformedModel = -8
  /// A tensor record is invalid: element type, rank, dimensions, quantization or constant data size.
  case badTensor = -9
  /// An op or the model's input/output table refers to a tensor index that does not exist.
  case badTensorIndex = -10
  /// An op code is unknown, or an op parameter (stride, dilation, padding, filter size, activation) is illegal.
  case badOp = -11
  /// Tensor shapes are inconsistent with an op's parameters (e.g. the output size is not (W − F + 2P)/S + 1).
  case shapeMismatch = -12
  /// The op list is not a valid graph: a tensor is read before it is produced, or produced twice.
  case badGraph = -13
  /// The caller-provided arena is smaller than cnn_context_arena_size() reports.
  case arenaTooSmall = -14
  /// A buffer is not aligned as documented (model data: 16 bytes; arena: CNN_ARENA_ALIGNMENT).
  case misaligned = -15
  /// The image has 0 channels, or a channel count the model input cannot be fed from.
  case unsupportedImage = -16
  /// The model has no output the call can use (e.g. cnn_classify on a model whose output is not a class vector).
  case unsupportedModel = -17
}

extension CNNStatus {
  /// A static, NUL-terminated English description.
  public var staticDescription: StaticString {
    switch self {
    case .ok: return "ok"
    case .invalidArgument: return "invalid argument (NULL pointer, zero size or index out of range)"
    case .outOfMemory: return "out of memory"
    case .ioError: return "cannot open or read the model file"
    case .badMagic: return "not a cnnrt model (bad magic)"
    case .unsupportedVersion: return "model format version not supported by this library"
    case .truncated: return "model data is truncated"
    case .checksumMismatch: return "model checksum mismatch (corrupted data)"
    case .malformedModel: return "malformed model (offset or size out of bounds)"
    case .badTensor: return "invalid tensor in model"
    case .badTensorIndex: return "tensor index out of range"
    case .badOp: return "invalid op or op parameter"
    case .shapeMismatch: return "tensor shapes inconsistent with op parameters"
    case .badGraph: return "invalid op graph (tensor read before written, or written twice)"
    case .arenaTooSmall: return "arena too small"
    case .misaligned: return "buffer not aligned as required"
    case .unsupportedImage: return "image channel count not supported by this model"
    case .unsupportedModel: return "model not supported by this call"
    }
  }
}

/// Writes a diagnostic into a caller-provided C buffer (may be absent), always
/// NUL-terminated, truncating when full. Built from static strings and
/// integers only, so it needs no allocation.
struct MessageWriter {
  private let buffer: UnsafeMutablePointer<CChar>?
  private let capacity: Int
  private var length = 0

  init(buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
    self.buffer = capacity > 0 ? buffer : nil
    self.capacity = capacity
    if let b = self.buffer { b[0] = 0 }
  }

  mutating func append(_ s: StaticString) {
    guard let b = buffer else { return }
    let p = s.utf8Start
    var i = 0
    while i < s.utf8CodeUnitCount && length < capacity - 1 {
      b[length] = CChar(bitPattern: p[i])
      length += 1
      i += 1
    }
    b[length] = 0
  }

  mutating func append(_ value: Int) {
    guard let b = buffer else { return }
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
      (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = value.magnitude
    var count = 0
    withUnsafeMutableBytes(of: &digits) { d in
      repeat {
        d[count] = UInt8(truncatingIfNeeded: n % 10) &+ 48
        n /= 10
        count += 1
      } while n > 0
      if value < 0 && length < capacity - 1 { b[length] = 45; length += 1 }
      while count > 0 && length < capacity - 1 {
        count -= 1
        b[length] = CChar(bitPattern: d[count])
        length += 1
      }
    }
    b[length] = 0
  }
}

/// A load-time failure: the status plus a message describing where.
struct LoadError: Error {
  var status: CNNStatus
  var what: StaticString
  var index: Int
  var detail: StaticString

  init(_ status: CNNStatus, _ what: StaticString, index: Int = -1, _ detail: StaticString = "") {
    self.status = status; self.what = what; self.index = index; self.detail = detail
  }

  func write(to w: inout MessageWriter) {
    w.append(what)
    if index >= 0 { w.append(" "); w.append(index) }
    if detail.utf8CodeUnitCount > 0 { w.append(": "); w.append(detail) }
  }
}
