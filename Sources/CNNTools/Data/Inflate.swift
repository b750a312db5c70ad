// zlib inflate (gzip files, deflated zip members) through the tools' C
// decoding target; libcnnrt itself never links zlib.
import _CNNImageCodecs
import Foundation

public enum Inflate {
  /// Inflates gzip/zlib data (`raw` false) or a raw deflate stream (`raw`
  /// true, as in zip members). Refuses output larger than `limit` bytes.
  public static func inflate(_ bytes: [UInt8], raw: Bool = false, limit: Int = 1 << 31) throws -> [UInt8] {
    var out: UnsafeMutablePointer<UInt8>? = nil
    var size = 0
    var message = [CChar](repeating: 0, count: 256)
    let status = bytes.withUnsafeBufferPointer { b in
      message.withUnsafeMutableBufferPointer { m in
        cnnrt_inflate(b.baseAddress, b.count, raw ? 1 : 0, limit, &out, &size, m.baseAddress, m.count)
      }
    }
    guard status == 0, let out else {
      throw DataError(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    defer { free(out) }
    return Array(UnsafeBufferPointer(start: out, count: size))
  }

  /// Whether `bytes` start with the gzip magic.
  public static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }
}

/// A data file that cannot be read or does not hold what was asked for.
public struct DataError: Error, CustomStringConvertible, Equatable {
  public let description: String
  public init(_ d: String) { description = d }
}
