// The model checksum (CRC-32, IEEE): the sliced form used on 64-bit hosts
// against the bitwise definition and the standard check value.
import Testing
@testable import CNNRuntime

@Suite struct ChecksumTests {
  @Test func crc32HasTheStandardCheckValue() {
    let s: [UInt8] = Array("123456789".utf8)
    // The CRC-32 (IEEE 802.3) check value of "123456789".
    #expect(s.withUnsafeBytes { crc32($0.baseAddress!, count: 9) } == 0xCBF4_3926)
    #expect(s.withUnsafeBytes { crc32Bitwise($0.baseAddress!, count: 9) } == 0xCBF4_3926)
    #expect(s.withUnsafeBytes { crc32($0.baseAddress!, count: 0) } == 0)
  }

  @Test func slicedEqualsBitwiseOnEveryLengthAndAlignment() {
    // Lengths 0-80 (the 8-byte steps and every tail) at offsets 0-7, and a
    // long run; bytes from a fixed xorshift so every table entry is reached.
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    let bytes: [UInt8] = (0..<4200).map { _ in
      x ^= x << 13; x ^= x >> 7; x ^= x << 17
      return UInt8(truncatingIfNeeded: x >> 29)
    }
    var checked = 0
    bytes.withUnsafeBytes { b in
      for offset in 0..<8 {
        for n in 0...80 {
          let p = b.baseAddress! + offset
          #expect(crc32Sliced(p, count: n) == crc32Bitwise(p, count: n), "offset \(offset), \(n) bytes")
          checked += 1
        }
      }
      #expect(crc32Sliced(b.baseAddress! + 3, count: 4190) == crc32Bitwise(b.baseAddress! + 3, count: 4190))
    }
    #expect(checked == 648)
  }
}
