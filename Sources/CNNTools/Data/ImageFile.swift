// Image files for classification, calibration and evaluation: PNG and JPEG
// (libpng, libjpeg-turbo) and binary PGM/PPM (PNM.swift), detected by
// content. The result is an 8-bit gray or RGB image (PNMImage).

import _CNNImageCodecs
import Foundation

public enum ImageFile {
  /// File extensions treated as images when scanning folders.
  public static let extensions: Set<String> = ["png", "jpg", "jpeg", "pgm", "ppm", "pnm"]

  public static func decode(_ bytes: [UInt8]) throws -> PNMImage {
    if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 {
      return try decodeC(bytes, cnnrt_decode_png)
    }
    if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
      return try decodeC(bytes, cnnrt_decode_jpeg)
    }
    if bytes.count >= 2, bytes[0] == UInt8(ascii: "P") {
      do { return try PNM.decode(bytes) } catch { throw DataError("\(error)") }
    }
    throw DataError("not a PNG, JPEG, PGM or PPM image")
  }

  public static func read(path: String) throws -> PNMImage {
    guard let d = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read the file") }
    do { return try decode([UInt8](d)) } catch { throw DataError("\(path): \(error)") }
  }

  private typealias Decoder = (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<cnnrt_decoded_image>?,
                               UnsafeMutablePointer<CChar>?, Int) -> Int32

  private static func decodeC(_ bytes: [UInt8], _ decoder: Decoder) throws -> PNMImage {
    var img = cnnrt_decoded_image()
    var message = [CChar](repeating: 0, count: 256)
    let status = bytes.withUnsafeBufferPointer { b in
      message.withUnsafeMutableBufferPointer { m in decoder(b.baseAddress, b.count, &img, m.baseAddress, m.count) }
    }
    defer { cnnrt_image_free(&img) }
    guard status == 0, let px = img.pixels else {
      throw DataError(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    let n = Int(img.width) * Int(img.height) * Int(img.channels)
    do {
      return try PNMImage(width: Int(img.width), height: Int(img.height), channels: Int(img.channels),
                          pixels: Array(UnsafeBufferPointer(start: px, count: n)))
    } catch { throw DataError("\(error)") }
  }
}
