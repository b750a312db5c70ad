// Helpers shared by the loader tests: load model bytes, patch a model file.
@testable import CNNRuntime
import CNNTools

/// The load error for `bytes`, or nil when they load.
func loadFailure(_ bytes: [UInt8]) -> RuntimeError? {
  do { _ = try RuntimeModel(bytes: bytes); return nil } catch { return error }
}

/// Rewrites the header's CRC-32 after a patch.
func repairChecksum(_ bytes: inout [UInt8]) {
  let crc = bytes.withUnsafeBytes { crc32($0.baseAddress! + ModelFormat.checksumStart,
                                           count: bytes.count - ModelFormat.checksumStart) }
  withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { bytes[16 + i] = $0[i] } }
}
