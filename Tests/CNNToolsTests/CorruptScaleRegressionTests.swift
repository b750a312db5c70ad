// Regression: a corrupted DS-CNN whose input scale became huge was accepted
// and then gave different bytes on the portable and AVX2 paths (a
// requantization left shift above 31). It must be refused at load with a
// message naming the op and tensor.
import Foundation
import Testing
import CNNRuntime
import CNNTools

@Suite struct CorruptScaleRegressionTests {
  @Test func dscnnWithAHugeInputScaleIsRefusedAtLoad() throws {
    let url = try sharedDataDir().appendingPathComponent("models/mlperf_tiny_kws_dscnn_int8.tflite")
    var bytes = try TFLiteImporter.importModel(bytes: [UInt8](try Data(contentsOf: url))).bytes
    // The reproduction: the low byte of the input tensor's scales offset set
    // to 0 (byte 0x6C of the format-v1 file the report used; 0x70 in v2),
    // so that the input scale is read from other bytes (~7e28), then the
    // size (offset 12) and CRC-32 (offset 16) fields repaired.
    let h = bytes.withUnsafeBytes { FileHeader.read(from: $0.baseAddress!) }
    func u32(_ o: Int) -> UInt32 { UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24 }
    let input = Int(u32(Int(h.ioTableOffset)))
    let field = Int(h.tensorTableOffset) + input * ModelFormat.tensorRecordSize + 32
    #expect(field == 0x70)
    #expect(bytes[field] != 0)
    bytes[field] = 0
    let patched = bytes.withUnsafeBytes { TensorRecord.read(from: $0.baseAddress! + field - 32) }
    let scale = Float(bitPattern: u32(Int(patched.scalesOffset)))
    #expect(scale > 1e27 && scale.isFinite, "input scale \(scale)")
    withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { for i in 0..<4 { bytes[12 + i] = $0[i] } }
    let crc = bytes.withUnsafeBytes { crc32($0.baseAddress! + ModelFormat.checksumStart,
                                             count: bytes.count - ModelFormat.checksumStart) }
    withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { bytes[16 + i] = $0[i] } }
    do {
      _ = try RuntimeModel(bytes: bytes)
      Issue.record("the corrupted DS-CNN loaded")
    } catch {
      #expect(error.status == .badOp, "\(error)")
      #expect(error.message.contains("op 0: Conv2D, tensor "), "\(error.message)")
      #expect(error.message.contains("requantization multiplier >= 2^31"), "\(error.message)")
    }
  }
}
