// Status codes returned by every fallible C API call, and the load-time
// diagnostic message writer.
@_exported import _CNNRuntimeShims

// `CNNStatus` is the C enum `cnn_status` (cnnrt_types.h), imported with
// Swift case names: one definition for C and Swift. (A Swift `@c enum` is
// not used: Swift 6.3 mis-handles such enums across module boundaries.)

extension CNNStatus {
  /// A static, NUL-terminated English description.
  public var staticDescription: StaticString { statusDescription(rawValue) }
}

/// Description of a raw status value; "unknown status" for values this
/// library does not define. Works on the raw value so that an out-of-range
/// number from C never becomes a CNNStatus (that conversion would trap).
func statusDescription(_ raw: Int32) -> StaticString {
  switch raw {
  case CNNStatus.ok.rawValue: return "ok"
  case CNNStatus.invalidArgument.rawValue: return "invalid argument (NULL pointer, zero size or index out of range)"
  case CNNStatus.outOfMemory.rawValue: return "out of memory"
  case CNNStatus.ioError.rawValue: return "cannot open or read the model file"
  case CNNStatus.badMagic.rawValue: return "not a cnnrt model (bad magic)"
  case CNNStatus.unsupportedVersion.rawValue: return "model format version not supported by this library"
  case CNNStatus.truncated.rawValue: return "model data is truncated"
  case CNNStatus.checksumMismatch.rawValue: return "model checksum mismatch (corrupted data)"
  case CNNStatus.malformedModel.rawValue: return "malformed model (offset or size out of bounds)"
  case CNNStatus.badTensor.rawValue: return "invalid tensor in model"
  case CNNStatus.badTensorIndex.rawValue: return "tensor index out of range"
  case CNNStatus.badOp.rawValue: return "invalid op or op parameter"
  case CNNStatus.shapeMismatch.rawValue: return "tensor shapes inconsistent with op parameters"
  case CNNStatus.badGraph.rawValue: return "invalid op graph (tensor read before written, or written twice)"
  case CNNStatus.arenaTooSmall.rawValue: return "arena too small"
  case CNNStatus.misaligned.rawValue: return "buffer not aligned as required"
  case CNNStatus.unsupportedImage.rawValue: return "image channel count not supported by this model"
  case CNNStatus.unsupportedModel.rawValue: return "model not supported by this call"
  default: return "unknown status"
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

  /// A NUL-terminated string (a name inside validated model bytes).
  mutating func append(cString s: UnsafePointer<CChar>) {
    guard let b = buffer else { return }
    var i = 0
    while s[i] != 0 && length < capacity - 1 {
      b[length] = s[i]
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
/// (`@unchecked Sendable`: `tensorName` points into the model bytes being
/// loaded and is only read while the load call runs.)
struct LoadError: Error, @unchecked Sendable {
  var status: CNNStatus
  var what: StaticString
  var index: Int
  var detail: StaticString
  /// The op kind, for errors about an op ("" otherwise).
  var opName: StaticString = ""
  /// A tensor the error is about (-1: none) and its name (may be "").
  var tensor: Int = -1
  var tensorName: UnsafePointer<CChar>? = nil

  init(_ status: CNNStatus, _ what: StaticString, index: Int = -1, _ detail: StaticString = "") {
    self.status = status; self.what = what; self.index = index; self.detail = detail
  }

  func write(to w: inout MessageWriter) {
    w.append(what)
    if index >= 0 { w.append(" "); w.append(index) }
    if opName.utf8CodeUnitCount > 0 { w.append(": "); w.append(opName) }
    if tensor >= 0 {
      w.append(", tensor "); w.append(tensor)
      if let n = tensorName, n[0] != 0 { w.append(" '"); w.append(cString: n); w.append("'") }
    }
    if detail.utf8CodeUnitCount > 0 { w.append(": "); w.append(detail) }
  }
}
