// Decoding of ONNX TensorProto constants and node attributes, with every
// size checked before anything is allocated or indexed (model bytes are
// untrusted: a bad file must throw, never trap).

import Foundation

/// An ONNX constant (initializer, Constant node, or dequantized weights) in
/// ONNX layout: row-major over `dims`.
struct ONNXConstant {
  var dims: [Int]
  /// Values as Float (integers converted; int32/int64 above 2^24 lose precision).
  var floats: [Float]
  /// Exact values of integer tensors (nil for floating-point tensors).
  var ints: [Int64]?
  /// Set for constants produced by DequantizeLinear: the quantization they carry (ONNX axis).
  var quant: ONNXQuant? = nil
  /// TensorProto data type when read from a file (0 otherwise).
  var dataType: Int32 = 0

  var count: Int { floats.count }
}

/// Quantization parameters read from QuantizeLinear / DequantizeLinear.
struct ONNXQuant: Equatable {
  var scales: [Float]
  /// As stored in the ONNX file (uint8 zero points are 0...255).
  var zeroPoints: [Int64]
  /// Axis in the ONNX layout when per channel, nil when per tensor.
  var axis: Int?
  /// TensorProto data type of the quantized values (2 uint8, 3 int8, 6 int32).
  var dataType: Int32

  /// The int8 view (uint8 shifted by −128, exact).
  var int8ZeroPoints: [Int32] { zeroPoints.map { Int32(truncatingIfNeeded: dataType == 2 ? $0 - 128 : $0) } }
}

enum ONNXDataType {
  static let float: Int32 = 1, uint8: Int32 = 2, int8: Int32 = 3, uint16: Int32 = 4, int16: Int32 = 5
  static let int32: Int32 = 6, int64: Int32 = 7, bool: Int32 = 9, float16: Int32 = 10, double: Int32 = 11
  static let uint32: Int32 = 12, uint64: Int32 = 13

  static func name(_ t: Int32) -> String {
    switch t {
    case 1: return "FLOAT"; case 2: return "UINT8"; case 3: return "INT8"; case 4: return "UINT16"
    case 5: return "INT16"; case 6: return "INT32"; case 7: return "INT64"; case 8: return "STRING"
    case 9: return "BOOL"; case 10: return "FLOAT16"; case 11: return "DOUBLE"; case 12: return "UINT32"
    case 13: return "UINT64"; case 16: return "BFLOAT16"
    default: return "data type \(t)"
    }
  }
}

/// Largest constant we accept (elements): 256 Mi, far above any CNN the
/// runtime targets, and small enough that counts × 8 bytes cannot overflow.
let onnxMaxElements = 1 << 28

/// Element count of `dims`, or nil when a dimension is negative or the
/// product is too large.
func onnxElementCount(_ dims: [Int]) -> Int? {
  var n = 1
  for d in dims {
    guard d >= 0 else { return nil }
    let (p, o) = n.multipliedReportingOverflow(by: d)
    guard !o, p <= onnxMaxElements else { return nil }
    n = p
  }
  return n
}

extension ONNXConstant {
  /// Decodes a TensorProto. `what` names it in errors.
  init(_ t: ONNXTensorProto, what: String) throws {
    func fail(_ m: String) -> FloatGraphError { .invalidModel("\(what): \(m)") }
    if t.hasDataLocation, t.dataLocation == .external {
      throw FloatGraphError.unsupported("\(what): external tensor data (save the model with its weights inside the .onnx file)")
    }
    guard t.dims.count <= 8 else { throw fail("\(t.dims.count) dimensions") }
    let dims = try t.dims.map { d -> Int in
      guard d >= 0, d <= Int64(onnxMaxElements) else { throw fail("dimension \(d)") }
      return Int(d)
    }
    guard let n = onnxElementCount(dims) else { throw fail("shape \(dims) is too large") }
    let type = t.dataType
    let raw = t.rawData
    let hasRaw = t.hasRawData
    func rawCheck(_ size: Int) throws {
      guard raw.count == n * size else { throw fail("\(raw.count) raw bytes for shape \(dims) of \(ONNXDataType.name(type))") }
    }
    func typedCheck(_ c: Int, _ field: String) throws {
      guard c == n else { throw fail("\(c) \(field) values for shape \(dims)") }
    }
    func rawInts(_ size: Int, signed: Bool) -> [Int64] {
      raw.withUnsafeBytes { (p: UnsafeRawBufferPointer) -> [Int64] in
        var out = [Int64](repeating: 0, count: n)
        for i in 0..<n {
          var v: UInt64 = 0
          for k in 0..<size { v |= UInt64(p[i * size + k]) << (8 * UInt64(k)) }
          if signed && size < 8 {
            let shift = UInt64(64 - 8 * size)
            out[i] = Int64(bitPattern: v << shift) >> Int64(shift)
          } else {
            out[i] = Int64(bitPattern: v)
          }
        }
        return out
      }
    }
    var floats: [Float]
    var ints: [Int64]? = nil
    switch type {
    case ONNXDataType.float:
      if hasRaw {
        try rawCheck(4)
        let bits = rawInts(4, signed: false)
        floats = bits.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
      } else {
        try typedCheck(t.floatData.count, "float_data")
        floats = t.floatData
      }
    case ONNXDataType.double:
      if hasRaw {
        try rawCheck(8)
        floats = rawInts(8, signed: false).map { Float(Double(bitPattern: UInt64(bitPattern: $0))) }
      } else {
        try typedCheck(t.doubleData.count, "double_data")
        floats = t.doubleData.map { Float($0) }
      }
    case ONNXDataType.float16:
      let bits: [Int64]
      if hasRaw { try rawCheck(2); bits = rawInts(2, signed: false) } else {
        try typedCheck(t.int32Data.count, "int32_data"); bits = t.int32Data.map { Int64($0) }
      }
      floats = bits.map { FloatGraph.halfToFloat(UInt16(truncatingIfNeeded: $0)) }
    case ONNXDataType.uint8, ONNXDataType.int8, ONNXDataType.uint16, ONNXDataType.int16, ONNXDataType.int32,
      ONNXDataType.bool:
      let size = type == ONNXDataType.int32 ? 4 : (type == ONNXDataType.uint16 || type == ONNXDataType.int16) ? 2 : 1
      let signed = type == ONNXDataType.int8 || type == ONNXDataType.int16 || type == ONNXDataType.int32
      if hasRaw { try rawCheck(size); ints = rawInts(size, signed: signed) } else {
        try typedCheck(t.int32Data.count, "int32_data"); ints = t.int32Data.map { Int64($0) }
      }
      floats = ints!.map { Float($0) }
    case ONNXDataType.int64, ONNXDataType.uint32, ONNXDataType.uint64:
      if hasRaw {
        try rawCheck(type == ONNXDataType.uint32 ? 4 : 8)
        ints = rawInts(type == ONNXDataType.uint32 ? 4 : 8, signed: type == ONNXDataType.int64)
      } else if type == ONNXDataType.int64 {
        try typedCheck(t.int64Data.count, "int64_data"); ints = t.int64Data
      } else {
        try typedCheck(t.uint64Data.count, "uint64_data"); ints = t.uint64Data.map { Int64(bitPattern: $0) }
      }
      floats = ints!.map { Float($0) }
    default:
      throw FloatGraphError.unsupported("\(what): tensor of \(ONNXDataType.name(type))")
    }
    self.init(dims: dims, floats: floats, ints: ints, quant: nil, dataType: type)
  }

  /// Integer values (exact for integer tensors; floats must be integral).
  func integers(_ what: String) throws -> [Int] {
    if let ints { return ints.map { Int(truncatingIfNeeded: $0) } }
    return try floats.map { f in
      guard f.isFinite, f == f.rounded(), abs(f) < 1e15 else {
        throw FloatGraphError.invalidModel("\(what): \(f) is not an integer")
      }
      return Int(f)
    }
  }
}

/// Attribute access for one node, with type checks.
struct ONNXAttributes {
  let byName: [String: ONNXAttributeProto]
  let ctx: String

  init(_ node: ONNXNodeProto, ctx: String) {
    var m: [String: ONNXAttributeProto] = [:]
    for a in node.attribute where m[a.name] == nil { m[a.name] = a }
    byName = m
    self.ctx = ctx
  }

  func has(_ name: String) -> Bool { byName[name] != nil }

  func int(_ name: String, _ d: Int) throws -> Int {
    guard let a = byName[name] else { return d }
    guard a.hasI, a.i >= -(1 << 40), a.i <= 1 << 40 else { throw FloatGraphError.invalidModel("\(ctx): attribute \(name) must be an int") }
    return Int(a.i)
  }

  func float(_ name: String, _ d: Float) throws -> Float {
    guard let a = byName[name] else { return d }
    guard a.hasF, a.f.isFinite else { throw FloatGraphError.invalidModel("\(ctx): attribute \(name) must be a finite float") }
    return a.f
  }

  func ints(_ name: String) throws -> [Int]? {
    guard let a = byName[name] else { return nil }
    guard a.ints.count <= 64 else { throw FloatGraphError.invalidModel("\(ctx): attribute \(name) has \(a.ints.count) values") }
    return try a.ints.map { v in
      guard v >= -(1 << 40), v <= 1 << 40 else { throw FloatGraphError.invalidModel("\(ctx): attribute \(name) value \(v)") }
      return Int(v)
    }
  }

  func floats(_ name: String) -> [Float]? { byName[name].map { $0.floats } }

  func string(_ name: String, _ d: String) -> String {
    guard let a = byName[name], a.hasS else { return d }
    return String(decoding: a.s, as: UTF8.self)
  }

  func tensor(_ name: String) -> ONNXTensorProto? {
    guard let a = byName[name], a.hasT else { return nil }
    return a.t
  }
}
