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
    // The reproduction: byte 0x6C set to 0, then the size (offset 12) and
    // CRC-32 (offset 16) fields repaired.
    #expect(bytes[0x6C] != 0)
    bytes[0x6C] = 0
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
