// Library version. tools/gen_header.py reads the three constants below to
// write CNN_VERSION_MAJOR/MINOR/PATCH into Include/cnnrt.h.
import _CNNRuntimeShims

public let cnnVersionMajor: UInt32 = 0
public let cnnVersionMinor: UInt32 = 3
public let cnnVersionPatch: UInt32 = 0

/// Returns the version of the loaded library as (major << 16) | (minor << 8) | patch.
/// Compare it with CNN_VERSION_NUMBER to detect a header/library mismatch.
@c(cnn_version) public func cnnVersion() -> UInt32 {
  (cnnVersionMajor << 16) | (cnnVersionMinor << 8) | cnnVersionPatch
}

/// Returns the version of the loaded library as a static NUL-terminated
/// string, e.g. "0.3.0". Never NULL; do not free.
@c(cnn_version_string) public func cnnVersionString() -> UnsafePointer<CChar> {
  let s: StaticString = "0.3.0"
  return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Returns a static, NUL-terminated English description of `status`
/// ("unknown status" for values this library does not define). Never NULL;
/// do not free. Thread-safe.
@c(cnn_status_string) public func cnnStatusString(_ status: Int32) -> UnsafePointer<CChar> {
  let s = statusDescription(status)
  return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}
