// NumPy .npy / .npz readers (calibration and evaluation data). Deflated .npz
// members are inflated with zlib (Inflate.swift).

import Foundation

public struct NPYError: Error, CustomStringConvertible {
  public let description: String
  public init(_ d: String) { description = d }
}

/// One NumPy array: dtype descriptor, shape, raw little-endian data.
public struct NPYArray: Sendable {
  public let descr: String
  public let shape: [Int]
  public let data: [UInt8]

  public var count: Int { shape.reduce(1, *) }

  /// Parses a .npy file's bytes.
  public init(npy b: [UInt8], what: String = "npy") throws {
    guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else {
      throw NPYError("\(what): not a .npy array")
    }
    let major = b[6]
    let start = major == 1 ? 10 : 12
    guard b.count >= start else { throw NPYError("\(what): truncated header") }
    let headerLen = major == 1 ? Int(b[8]) | Int(b[9]) << 8
                               : Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
    guard start + headerLen <= b.count else { throw NPYError("\(what): truncated header") }
    let header = String(decoding: b[start..<(start + headerLen)], as: UTF8.self)
    func value(_ key: String) -> Substring? {
      guard let r = header.range(of: "'\(key)':") else { return nil }
      return header[r.upperBound...].drop { $0 == " " }
    }
    guard let d = value("descr"), d.first == "'", let end = d.dropFirst().firstIndex(of: "'"),
          let s = value("shape"), s.first == "(", let close = s.firstIndex(of: ")") else {
      throw NPYError("\(what): cannot parse header \(header)")
    }
    descr = String(d[d.index(after: d.startIndex)..<end])
    guard !(value("fortran_order")?.hasPrefix("True") ?? false) else { throw NPYError("\(what): Fortran order is not supported") }
    shape = s[s.index(after: s.startIndex)..<close].split(separator: ",")
      .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    data = Array(b[(start + headerLen)...])
    guard let size = elementSize, data.count >= count * size else {
      throw NPYError("\(what): dtype \(descr) with shape \(shape) needs more than the \(data.count) data bytes")
    }
  }

  var elementSize: Int? {
    switch descr {
    case "|u1", "|i1", "|b1": return 1
    case "<f4", "<i4", "<u4": return 4
    case "<f8", "<i8", "<u8": return 8
    case "<f2", "<i2", "<u2": return 2
    default: return nil
    }
  }

  /// Whether the array holds uint8 values (image pixels).
  public var isUInt8: Bool { descr == "|u1" }

  /// The values as Float (uint8/int8/int16/int32/int64/float16/32/64).
  public func floats() throws -> [Float] {
    let n = count
    var out = [Float](repeating: 0, count: n)
    try data.withUnsafeBytes { raw in
      switch descr {
      case "|u1": for i in 0..<n { out[i] = Float(raw[i]) }
      case "|i1": for i in 0..<n { out[i] = Float(Int8(bitPattern: raw[i])) }
      case "<f4": for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
      case "<f8": for i in 0..<n { out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
      case "<i4": for i in 0..<n { out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
      case "<i8": for i in 0..<n { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
      case "<i2": for i in 0..<n { out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
      case "<u2": for i in 0..<n { out[i] = Float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
      default: throw NPYError("dtype \(descr) is not a supported numeric type")
      }
    }
    return out
  }

  /// Reads a .npy file, or the array of a .npz file (`key`, default: the
  /// first member, "arr_0" when present).
  public static func load(path: String, key: String? = nil) throws -> NPYArray {
    guard let d = FileManager.default.contents(atPath: path) else { throw NPYError("\(path): cannot read the file") }
    let b = [UInt8](d)
    if b.count >= 4, b[0] == 0x50, b[1] == 0x4B { return try NPZ(bytes: b, path: path).array(key) }
    return try NPYArray(npy: b, what: path)
  }
}

/// A NumPy .npz (zip) archive.
public struct NPZ {
  public let path: String
  public let members: [String: (method: UInt16, offset: Int, size: Int)]
  let bytes: [UInt8]

  public init(path: String) throws {
    guard let d = FileManager.default.contents(atPath: path) else { throw NPYError("\(path): cannot read the file") }
    try self.init(bytes: [UInt8](d), path: path)
  }

  public init(bytes b: [UInt8], path: String) throws {
    func u16(_ p: Int) -> Int { Int(b[p]) | Int(b[p + 1]) << 8 }
    func u32(_ p: Int) -> Int { u16(p) | u16(p + 2) << 16 }
    guard b.count >= 22, let eocd = stride(from: b.count - 22, through: max(0, b.count - 65_557), by: -1)
      .first(where: { u32($0) == 0x0605_4B50 }) else { throw NPYError("\(path): not a zip (.npz) file") }
    var p = u32(eocd + 16)
    var m: [String: (UInt16, Int, Int)] = [:]
    for _ in 0..<u16(eocd + 10) {
      guard p + 46 <= b.count, u32(p) == 0x0201_4B50 else { throw NPYError("\(path): bad zip central directory") }
      let method = UInt16(u16(p + 10)), csize = u32(p + 20), nameLen = u16(p + 28)
      let extraLen = u16(p + 30), commentLen = u16(p + 32), local = u32(p + 42)
      guard p + 46 + nameLen <= b.count else { throw NPYError("\(path): bad zip central directory") }
      let name = String(decoding: b[(p + 46)..<(p + 46 + nameLen)], as: UTF8.self)
      guard csize != 0xFFFF_FFFF, local + 30 <= b.count else { throw NPYError("\(path): zip64 archives are not supported") }
      let dataStart = local + 30 + u16(local + 26) + u16(local + 28)
      guard dataStart + csize <= b.count else { throw NPYError("\(path): member \(name) is truncated") }
      m[name] = (method, dataStart, csize)
      p += 46 + nameLen + extraLen + commentLen
    }
    self.path = path
    self.members = m
    self.bytes = b
  }

  /// Array names (member names without ".npy"), sorted.
  public var keys: [String] { members.keys.filter { $0.hasSuffix(".npy") }.map { String($0.dropLast(4)) }.sorted() }

  public func array(_ key: String? = nil) throws -> NPYArray {
    let k = key ?? (keys.contains("arr_0") ? "arr_0" : keys.first ?? "")
    guard let e = members[k + ".npy"] else { throw NPYError("\(path) has no array \"\(k)\" (has \(keys))") }
    let npy: [UInt8]
    switch e.method {
    case 0: npy = Array(bytes[e.offset..<(e.offset + e.size)])
    case 8:
      do { npy = try Inflate.inflate(Array(bytes[e.offset..<(e.offset + e.size)]), raw: true) } catch {
        throw NPYError("\(path): member \(k).npy: \(error)")
      }
    default: throw NPYError("\(path): member \(k).npy uses zip compression method \(e.method) (only stored or deflated)")
    }
    return try NPYArray(npy: npy, what: "\(path):\(k)")
  }
}
