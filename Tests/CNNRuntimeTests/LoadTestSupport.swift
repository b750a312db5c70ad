// Helpers shared by the loader tests: load model bytes, patch a model file.
@testable import CNNRuntime
import CNNTools
import Testing

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

/// `bytes` with `edit` applied and the checksum recomputed.
func patched(_ bytes: [UInt8], _ edit: (UnsafeMutableRawPointer, FileHeader) -> Void) -> [UInt8] {
  var out = bytes
  out.withUnsafeMutableBytes { raw in
    let base = raw.baseAddress!
    edit(base, FileHeader.read(from: base))
    var h = FileHeader.read(from: base)
    h.checksum = crc32(UnsafeRawPointer(base + ModelFormat.checksumStart), count: Int(h.fileSize) - ModelFormat.checksumStart)
    h.write(to: base)
  }
  return out
}

/// `bytes` with op record `index` edited (checksum recomputed).
func editOp(_ bytes: [UInt8], _ index: Int, _ edit: (inout OpRecord) -> Void) -> [UInt8] {
  patched(bytes) { base, h in
    let p = base + Int(h.opTableOffset) + index * ModelFormat.opRecordSize
    var r = OpRecord.read(from: p)
    edit(&r)
    r.write(to: p)
  }
}

/// `bytes` with tensor record `index` edited (checksum recomputed).
func editTensor(_ bytes: [UInt8], _ index: Int, _ edit: (inout TensorRecord) -> Void) -> [UInt8] {
  patched(bytes) { base, h in
    let p = base + Int(h.tensorTableOffset) + index * ModelFormat.tensorRecordSize
    var r = TensorRecord.read(from: p)
    edit(&r)
    r.write(to: p)
  }
}

/// Expects `bytes` to be refused with `status` and a message naming op `op` and containing `text`.
func expectLoadFailure(op: Int, _ bytes: [UInt8], _ status: CNNStatus, _ text: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
  let e = loadFailure(bytes)
  #expect(e?.status == status, "\(e?.description ?? "loaded")", sourceLocation: sourceLocation)
  #expect(e?.message.contains("op \(op):") == true && e?.message.contains(text) == true,
          "\(e?.description ?? "loaded")", sourceLocation: sourceLocation)
}
