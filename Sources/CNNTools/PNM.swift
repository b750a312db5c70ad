// Binary PGM (P5, grayscale) and PPM (P6, RGB) images with maxval 255.
//
// Header grammar (netpbm): magic, whitespace, width, whitespace, height,
// whitespace, maxval, exactly one whitespace byte, then width × height ×
// channels raster bytes, rows top to bottom. '#' starts a comment running to
// the end of the line anywhere before maxval's terminating whitespace.

import Foundation

/// An 8-bit image: row-major, channels interleaved (1 = gray, 3 = RGB).
public struct PNMImage: Equatable, Sendable {
  public let width: Int
  public let height: Int
  public let channels: Int
  public let pixels: [UInt8]

  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
    guard channels == 1 || channels == 3 else { throw PNMError.unsupportedChannels(channels) }
    guard width >= 1, height >= 1, width <= PNM.maxDimension, height <= PNM.maxDimension else {
      throw PNMError.invalidDimensions(width: width, height: height)
    }
    guard pixels.count == width * height * channels else {
      throw PNMError.pixelCountMismatch(expected: width * height * channels, got: pixels.count)
    }
    self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
  }
}

public enum PNMError: Error, Equatable, CustomStringConvertible {
  case notPNM
  case unsupportedFormat(String)
  case badHeader(String)
  case unsupportedMaxval(Int)
  case invalidDimensions(width: Int, height: Int)
  case truncated(expected: Int, got: Int)
  case unsupportedChannels(Int)
  case pixelCountMismatch(expected: Int, got: Int)
  case io(String)

  public var description: String {
    switch self {
    case .notPNM: return "not a PNM image (expected magic P5 or P6)"
    case .unsupportedFormat(let m): return "unsupported PNM format \(m): only binary P5 (PGM) and P6 (PPM) are supported"
    case .badHeader(let m): return "malformed PNM header: \(m)"
    case .unsupportedMaxval(let v): return "unsupported maxval \(v): only 8-bit images with maxval 255 are supported"
    case .invalidDimensions(let w, let h): return "invalid image size \(w)x\(h) (each side 1...\(PNM.maxDimension))"
    case .truncated(let e, let g): return "truncated PNM raster: expected \(e) bytes, got \(g)"
    case .unsupportedChannels(let c): return "unsupported channel count \(c): PGM has 1, PPM has 3"
    case .pixelCountMismatch(let e, let g): return "pixel buffer has \(g) bytes, image needs \(e)"
    case .io(let m): return m
    }
  }
}

public enum PNM {
  /// Largest accepted width or height.
  public static let maxDimension = 1 << 16

  /// Parses a P5 or P6 image. Bytes after the raster are ignored.
  public static func decode(_ bytes: [UInt8]) throws -> PNMImage {
    let h = try header(bytes)
    let count = h.width * h.height * h.channels
    guard bytes.count - h.rasterOffset >= count else {
      throw PNMError.truncated(expected: count, got: bytes.count - h.rasterOffset)
    }
    return try PNMImage(width: h.width, height: h.height, channels: h.channels,
                        pixels: Array(bytes[h.rasterOffset..<(h.rasterOffset + count)]))
  }

  /// The header of a P5 or P6 image (`bytes` may be just the file's start):
  /// size, channels and the offset where the raster begins.
  public static func header(_ bytes: [UInt8]) throws -> (width: Int, height: Int, channels: Int, rasterOffset: Int) {
    guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P") else { throw PNMError.notPNM }
    let channels: Int
    switch bytes[1] {
    case UInt8(ascii: "5"): channels = 1
    case UInt8(ascii: "6"): channels = 3
    case UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "7"):
      throw PNMError.unsupportedFormat("P" + String(UnicodeScalar(bytes[1])))
    default: throw PNMError.notPNM
    }
    var pos = 2
    func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }
    func number(_ what: String) throws -> Int {
      // Skip whitespace and comments; at least one separator is required.
      let start = pos
      while pos < bytes.count {
        if isSpace(bytes[pos]) { pos += 1 } else if bytes[pos] == UInt8(ascii: "#") {
          while pos < bytes.count, bytes[pos] != 0x0A, bytes[pos] != 0x0D { pos += 1 }
        } else { break }
      }
      guard pos > start else { throw PNMError.badHeader("missing whitespace before \(what)") }
      guard pos < bytes.count else { throw PNMError.badHeader("header ends before \(what)") }
      var v = 0, digits = 0
      while pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") {
        v = v * 10 + Int(bytes[pos] - UInt8(ascii: "0"))
        digits += 1; pos += 1
        guard v <= 1 << 24 else { throw PNMError.badHeader("\(what) is too large") }
      }
      guard digits > 0 else {
        throw PNMError.badHeader("expected \(what), found byte 0x\(String(bytes[pos], radix: 16))")
      }
      return v
    }
    let width = try number("width")
    let height = try number("height")
    let maxval = try number("maxval")
    guard pos < bytes.count, isSpace(bytes[pos]) else {
      throw PNMError.badHeader("maxval must be followed by one whitespace byte")
    }
    pos += 1
    guard width >= 1, height >= 1, width <= maxDimension, height <= maxDimension else {
      throw PNMError.invalidDimensions(width: width, height: height)
    }
    guard maxval == 255 else { throw PNMError.unsupportedMaxval(maxval) }
    return (width, height, channels, pos)
  }

  /// P5 for one channel, P6 for three; maxval 255.
  public static func encode(_ image: PNMImage) -> [UInt8] {
    let header = "\(image.channels == 1 ? "P5" : "P6")\n\(image.width) \(image.height)\n255\n"
    return Array(header.utf8) + image.pixels
  }

  public static func read(path: String) throws -> PNMImage {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw PNMError.io("cannot read \(path)")
    }
    return try decode([UInt8](data))
  }

  public static func write(_ image: PNMImage, to path: String) throws {
    do {
      try Data(encode(image)).write(to: URL(fileURLWithPath: path))
    } catch {
      throw PNMError.io("cannot write \(path): \(error.localizedDescription)")
    }
  }
}
