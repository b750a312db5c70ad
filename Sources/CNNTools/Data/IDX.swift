// MNIST IDX files (LeCun's format), plain or gzip-compressed: a 4-byte
// magic (0, 0, type, rank), `rank` big-endian u32 dimensions, then the
// values row-major. Only unsigned-byte data (type 0x08) is read; that is
// what image and label files hold.

import Foundation

public struct IDXArray: Sendable, Equatable {
  public let shape: [Int]
  public let values: [UInt8]

  public init(bytes input: [UInt8], what: String = "IDX file") throws {
    let b: [UInt8]
    if Inflate.isGzip(input) {
      do { b = try Inflate.inflate(input) } catch { throw DataError("\(what): \(error)") }
    } else {
      b = input
    }
    guard b.count >= 4, b[0] == 0, b[1] == 0 else { throw DataError("\(what): not an IDX file (bad magic)") }
    guard b[2] == 0x08 else {
      throw DataError("\(what): IDX element type 0x\(String(b[2], radix: 16)) is not supported (only unsigned bytes, 0x08)")
    }
    let rank = Int(b[3])
    guard rank >= 1, rank <= 4, b.count >= 4 + 4 * rank else { throw DataError("\(what): bad IDX header (rank \(rank))") }
    var shape: [Int] = []
    var count = 1
    for d in 0..<rank {
      let p = 4 + 4 * d
      let v = Int(b[p]) << 24 | Int(b[p + 1]) << 16 | Int(b[p + 2]) << 8 | Int(b[p + 3])
      guard v >= 1, v <= 1 << 28 else { throw DataError("\(what): bad IDX dimension \(v)") }
      count = count.multipliedReportingOverflow(by: v).partialValue
      guard count <= 1 << 31 else { throw DataError("\(what): IDX array too large") }
      shape.append(v)
    }
    let start = 4 + 4 * rank
    guard b.count - start >= count else {
      throw DataError("\(what): truncated: \(shape) needs \(count) bytes of data, the file has \(b.count - start)")
    }
    self.shape = shape
    self.values = Array(b[start..<(start + count)])
  }

  public static func load(path: String) throws -> IDXArray {
    guard let d = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read the file") }
    return try IDXArray(bytes: [UInt8](d), what: path)
  }

  /// Whether the bytes look like an IDX file (gzip or plain).
  public static func looksLikeIDX(_ b: [UInt8], path: String) -> Bool {
    if path.contains("idx") { return true }
    return b.count >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08 && (1...4).contains(b[3])
  }
}
