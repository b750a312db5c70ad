// Image files for classification, calibration and evaluation: PNG and JPEG
// (libpng, libjpeg-turbo) and binary PGM/PPM (PNM.swift), detected by
// content. The result is an 8-bit gray or RGB image (PNMImage).

import _CNNImageCodecs
import Foundation

public enum ImageFile {
  /// File extensions treated as images when scanning folders.
  public static let extensions: Set<String> = ["png", "jpg", "jpeg", "pgm", "ppm", "pnm"]

  /// The images of a folder, sorted by name: those in its class sub-folders
  /// (each labelled with the sub-folder's name) when it has any, else the
  /// images directly inside it. Hidden entries are skipped; a folder without
  /// images is an error.
  public static func list(folder path: String) throws -> (files: [(path: String, label: String?)], classFolders: [String]) {
    let fm = FileManager.default
    let entries = try fm.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
    func isImage(_ name: String) -> Bool { extensions.contains((name as NSString).pathExtension.lowercased()) }
    var files: [(path: String, label: String?)] = []
    let classDirs = entries.filter { isDirectory(path + "/" + $0) }
    for c in classDirs {
      let inner = try fm.contentsOfDirectory(atPath: path + "/" + c).filter { !$0.hasPrefix(".") && isImage($0) }.sorted()
      files += inner.map { (path + "/" + c + "/" + $0, c) }
    }
    if files.isEmpty { files = entries.filter { isImage($0) }.map { (path + "/" + $0, nil) } }
    guard !files.isEmpty else {
      throw DataError("\(path): the folder has no images (.png, .jpg, .jpeg, .pgm, .ppm) and no class sub-folders with images")
    }
    return (files, classDirs)
  }

  public static func isDirectory(_ path: String) -> Bool {
    var d: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
  }

  public static func decode(_ bytes: [UInt8]) throws -> PNMImage {
    if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 {
      return try decodeC(bytes, info: cnnrt_png_info, decode: cnnrt_decode_png_into)
    }
    if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
      return try decodeC(bytes, info: cnnrt_jpeg_info, decode: cnnrt_decode_jpeg_into)
    }
    if bytes.count >= 2, bytes[0] == UInt8(ascii: "P") {
      do { return try PNM.decode(bytes) } catch { throw DataError("\(error)") }
    }
    throw DataError("not a PNG, JPEG, PGM or PPM image")
  }

  /// Reads and decodes the image at `path`. Errors name the file once:
  /// "PATH: reason".
  public static func read(path: String) throws -> PNMImage {
    do {
      if let image = try readPNM(path) { return image }
    } catch let e as DataError { throw DataError("\(path): \(e)") }
    catch { throw DataError("\(path): \(error)") }
    let bytes: [UInt8]
    do { bytes = try readFile(path) } catch { throw DataError("\(path): cannot read the file") }
    do { return try decode(bytes) } catch { throw DataError("\(path): \(error)") }
  }

  /// Largest decoded image, in bytes of pixels (the PNG/JPEG decoders' cap too).
  static let maxPixelBytes = 256 << 20

  /// A PGM/PPM file read without a second copy: the header from the file's
  /// first bytes, then the raster straight into the image's array. nil when
  /// the file is not a PNM image.
  static func readPNM(_ path: String) throws -> PNMImage? {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw DataError("cannot read the file") }
    defer { try? handle.close() }
    let size = Int(try handle.seekToEnd())
    try handle.seek(toOffset: 0)
    let prefix = [UInt8](try handle.read(upToCount: min(size, 1 << 16)) ?? Data())
    guard prefix.count >= 2, prefix[0] == UInt8(ascii: "P") else { return nil }
    let h: (width: Int, height: Int, channels: Int, rasterOffset: Int)
    do { h = try PNM.header(prefix) } catch { throw DataError("\(error)") }
    let count = h.width * h.height * h.channels
    guard count <= maxPixelBytes else {
      throw DataError("image of \(h.width) x \(h.height) x \(h.channels) exceeds the 256 MiB pixel limit")
    }
    guard size - h.rasterOffset >= count else {
      throw DataError("\(PNMError.truncated(expected: count, got: size - h.rasterOffset))")
    }
    let fd = handle.fileDescriptor
    let pixels = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      var done = 0
      while done < count {
        let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(h.rasterOffset + done))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw DataError("short read") }
        done += n
      }
      initialized = count
    }
    do { return try PNMImage(width: h.width, height: h.height, channels: h.channels, pixels: pixels) }
    catch { throw DataError("\(error)") }
  }

  /// The file's bytes, read straight into one array (no intermediate Data copy).
  static func readFile(_ path: String) throws -> [UInt8] {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    let size = Int(try handle.seekToEnd())
    try handle.seek(toOffset: 0)
    var bytes = [UInt8](repeating: 0, count: size)
    let fd = handle.fileDescriptor
    var done = 0
    try bytes.withUnsafeMutableBytes { buffer in
      while done < size {
        let n = Glibc.read(fd, buffer.baseAddress! + done, size - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw DataError("short read") }
        done += n
      }
    }
    return bytes
  }

  private typealias Info = (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<cnnrt_decoded_image>?,
                            UnsafeMutablePointer<CChar>?, Int) -> Int32
  private typealias DecodeInto = (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?, Int,
                                  UnsafeMutablePointer<CChar>?, Int) -> Int32

  /// Header first, then the pixels decoded straight into the image's own
  /// array: the decoded image exists once in memory (a 16000 x 16000 PNG
  /// peaks at one pixel buffer, not two).
  private static func decodeC(_ bytes: [UInt8], info: Info, decode: DecodeInto) throws -> PNMImage {
    var img = cnnrt_decoded_image()
    var message = [CChar](repeating: 0, count: 256)
    func failure() -> DataError {
      DataError(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    let status = bytes.withUnsafeBufferPointer { b in
      message.withUnsafeMutableBufferPointer { m in info(b.baseAddress, b.count, &img, m.baseAddress, m.count) }
    }
    guard status == 0 else { throw failure() }
    let width = Int(img.width), height = Int(img.height), channels = Int(img.channels)
    let n = width * height * channels  // at most 256 MiB: checked by the info call
    let pixels = try [UInt8](unsafeUninitializedCapacity: n) { buffer, count in
      let st = bytes.withUnsafeBufferPointer { b in
        message.withUnsafeMutableBufferPointer { m in
          decode(b.baseAddress, b.count, buffer.baseAddress, n, m.baseAddress, m.count)
        }
      }
      guard st == 0 else { throw failure() }
      count = n
    }
    do {
      return try PNMImage(width: width, height: height, channels: channels, pixels: pixels)
    } catch { throw DataError("\(error)") }
  }
}
