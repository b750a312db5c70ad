// UnaryFunction, tools side: ONNX elementwise functions that TFLite Micro has
// no int8 kernel for in these forms, each quantized as cnnrt's LookupTable
// (out = table[in + 128]): Elu, Celu, Selu, Softplus, Softsign, Mish, Gelu
// (exact or tanh approximation), Erf, Exp, Abs, Neg, ThresholdedRelu and
// Swish. The output quantization comes from calibration (unlike HardSigmoid's
// fixed one, LookupTable.swift); the table entry of input byte q is
// clamp(round-half-away(f(s_in · (q − zp_in)) / s_out) + zp_out, −128, 127),
// f computed in double. Every int8 input byte thus gets the int8 value
// nearest to the float function of the value it stands for.

import CNNRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The C library's functions under names the enum's cases (exp, erf, abs) do not hide.
private func libmExp(_ x: Double) -> Double { exp(x) }
private func libmExpm1(_ x: Double) -> Double { expm1(x) }
private func libmLog1p(_ x: Double) -> Double { log1p(x) }
private func libmTanh(_ x: Double) -> Double { tanh(x) }
private func libmErf(_ x: Double) -> Double { erf(x) }

extension FloatGraph.Kind {
  /// Node.ints[0]: the `UnaryFunction` (raw value); Node.alpha, Node.beta: its parameters.
  public static let unaryFunction = Self("unaryFunction")
}

/// The functions, by ONNX op type; `alpha` / `beta` are the ONNX attributes
/// named in each case (defaults from the operator definitions).
enum UnaryFunction: Int, CaseIterable {
  case elu, celu, selu, softplus, softsign, mish, gelu, geluTanh, erf, exp, abs, neg, thresholdedRelu, swish

  /// ONNX op type → function, or nil for another op (Gelu: see `init(gelu:)`).
  static let byONNX: [String: UnaryFunction] = [
    "Elu": .elu, "Celu": .celu, "Selu": .selu, "Softplus": .softplus, "Softsign": .softsign, "Mish": .mish,
    "Gelu": .gelu, "Erf": .erf, "Exp": .exp, "Abs": .abs, "Neg": .neg, "ThresholdedRelu": .thresholdedRelu,
    "Swish": .swish,
  ]

  /// (alpha, beta) attribute names and defaults; nil where unused.
  var parameters: (alpha: (String, Float)?, beta: (String, Float)?) {
    switch self {
    case .elu, .celu: return (("alpha", 1), nil)
    case .selu: return (("alpha", 1.67326319217681884765625), ("gamma", 1.05070102214813232421875))
    case .thresholdedRelu: return (("alpha", 1), nil)
    case .swish: return (("alpha", 1), nil)
    default: return (nil, nil)
    }
  }

  func apply(_ x: Double, alpha a: Double, beta b: Double) -> Double {
    switch self {
    case .elu: return x < 0 ? a * libmExpm1(x) : x
    case .celu: return max(0, x) + min(0, a * libmExpm1(x / a))
    case .selu: return x > 0 ? b * x : b * (a * libmExp(x) - a)
    case .softplus: return Self.softplus(x)
    case .softsign: return x / (1 + Swift.abs(x))
    case .mish: return x * libmTanh(Self.softplus(x))
    case .gelu: return 0.5 * x * (1 + libmErf(x / 2.0.squareRoot()))
    case .geluTanh: return 0.5 * x * (1 + libmTanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    case .erf: return libmErf(x)
    case .exp: return libmExp(x)
    case .abs: return Swift.abs(x)
    case .neg: return -x
    case .thresholdedRelu: return x > a ? x : 0
    case .swish: return x / (1 + libmExp(-a * x))
    }
  }

  /// log(1 + e^x) without overflow for large x.
  static func softplus(_ x: Double) -> Double { x > 30 ? x : libmLog1p(libmExp(x)) }
}

enum UnaryFunctionOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.unaryFunction]
  static let onnxOpTypes = Array(UnaryFunction.byONNX.keys).sorted()
  static let calibratesOutput = true

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    guard var f = UnaryFunction.byONNX[n.proto.opType] else { throw n.unsupported("not an elementwise function") }
    if f == .gelu {
      switch n.a.string("approximate", "none") {
      case "none": break
      case "tanh": f = .geluTanh
      case let other: throw n.unsupported("Gelu approximate '\(other)'")
      }
    }
    let x = try im.activation(n, 0)
    let out = try im.output(n, x.onnxShape, x.layout)
    var nd = n.node(.unaryFunction, [x.tensor], out)
    nd.ints = [f.rawValue]
    let p = f.parameters
    if let (name, d) = p.alpha { nd.alpha = try n.a.float(name, d) }
    if let (name, d) = p.beta { nd.beta = try n.a.float(name, d) }
    guard nd.alpha.isFinite, nd.beta.isFinite else { throw n.invalid("parameters must be finite") }
    if f == .celu && nd.alpha == 0 { throw n.invalid("Celu alpha must not be 0") }
    im.emit(nd)
  }

  static func function(_ n: FloatGraph.Node) -> UnaryFunction {
    guard let k = n.ints.first, let f = UnaryFunction(rawValue: k) else {
      preconditionFailure("unaryFunction node without a function")
    }
    return f
  }

  static func checkShapes(_ c: FloatNodeCheck) throws {
    guard let k = c.node.ints.first, UnaryFunction(rawValue: k) != nil else { throw c.fail("unknown function") }
    try c.sameElements(reshapes: false)
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let f = function(e.node), a = Double(e.node.alpha), b = Double(e.node.beta)
    for k in 0..<e.out.count { e.out[k] = Float(f.apply(Double(e.x[k]), alpha: a, beta: b)) }
  }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let oq = try q.own(n.output)
    let f = function(n), a = Double(n.alpha), b = Double(n.beta)
    let t = LookupTableOp.table(input: xq, output: oq) { f.apply($0, alpha: a, beta: b) }
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.lookupTable(x, table: t, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }
}
