// LookupTable (cnnrt's own int8 op: out = table[in + 128]), tools side: the
// quantization of elementwise functions TFLite Micro has no int8 kernel for.
// ONNX HardSigmoid (y = max(0, min(1, alpha·x + beta)), defaults 0.2, 0.5)
// becomes a `.hardSigmoid` node; its output is fixed at scale 1/256, zero
// point −128 (the [0, 1) range of Logistic: 1.0 itself reads 255/256), and
// the table entry of each input byte q is
// clamp(round-half-away(f(s_in · (q − zp_in)) · 256) − 128, −128, 127),
// computed in double.

import CNNRuntime

extension FloatGraph.Kind {
  /// Node.alpha, Node.beta: y = max(0, min(1, alpha·x + beta)).
  public static let hardSigmoid = Self("hardSigmoid")
}

enum LookupTableOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.hardSigmoid]
  static let opCodes: [OpCode] = [.lookupTable]
  static let onnxOpTypes = ["HardSigmoid"]

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let out = try im.output(n, x.onnxShape, x.layout)
    var nd = n.node(.hardSigmoid, [x.tensor], out)
    nd.alpha = try n.a.float("alpha", 0.2)
    nd.beta = try n.a.float("beta", 0.5)
    guard nd.alpha.isFinite, nd.beta.isFinite else { throw n.invalid("alpha / beta must be finite") }
    im.emit(nd)
  }

  static func checkShapes(_ c: FloatNodeCheck) throws { try c.sameElements(reshapes: false) }

  static func hardSigmoid(_ x: Double, alpha: Double, beta: Double) -> Double { max(0, min(1, alpha * x + beta)) }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let a = Double(e.node.alpha), b = Double(e.node.beta)
    for k in 0..<e.out.count { e.out[k] = Float(hardSigmoid(Double(e.x[k]), alpha: a, beta: b)) }
  }

  /// max(0, min(1, αx + β)) is constant outside the ramp between −β/α and (1 − β)/α.
  static func usefulInputRange(_ n: FloatGraph.Node) -> (min: Float, max: Float)? {
    guard n.alpha != 0, n.alpha.isFinite, n.beta.isFinite else { return nil }
    let a = -n.beta / n.alpha, b = (1 - n.beta) / n.alpha
    return (min(a, b), max(a, b))
  }

  /// The table of `f` for an input quantization and an output quantization.
  static func table(input: ActivationQuant, output: ActivationQuant, _ f: (Double) -> Double) -> [Int8] {
    (-128...127).map { q in
      let y = f(Double(input.scale) * Double(q - Int(input.zeroPoint)))
      let t = (y / Double(output.scale)).rounded(.toNearestOrAwayFromZero) + Double(output.zeroPoint)
      return Int8(max(-128, min(127, t.isNaN ? 0 : t)))
    }
  }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let oq = ActivationQuant(scale: 1.0 / 256, zeroPoint: -128)
    let a = Double(n.alpha), b = Double(n.beta)
    let t = table(input: xq, output: oq) { hardSigmoid($0, alpha: a, beta: b) }
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.lookupTable(x, table: t, outputScale: oq.scale, outputZeroPoint: oq.zeroPoint, name: name)
    }
    return (out, oq)
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    let shape = try c.unaryElementwiseShape(inputs: 2)
    let t = try c.required(1, "table")
    guard t.isConstant, t.elementType == .int8, t.shape.reduce(1, *) == 256 else {
      throw ModelBuilderError.invalidOp("\(c.opName): the table must be a constant int8 tensor of 256 values")
    }
    return shape
  }
}

extension ModelBuilder {
  /// out = table[in + 128] (`table`: the 256 output bytes for the input bytes −128…127).
  @discardableResult
  public mutating func lookupTable(_ input: TensorID, table: [Int8], outputScale: Float, outputZeroPoint: Int32,
                                   name: String? = nil) throws -> TensorID {
    guard table.count == 256 else { throw ModelBuilderError.invalidData("lookup table: \(table.count) values, expected 256") }
    let t = try addConstant(table, shape: [256], scale: 1, name: name.map { "\($0)_table" })
    return try addWithNewOutput(.lookupTable, [input, t], OpOptions(), scale: outputScale,
                                zeroPoint: outputZeroPoint, name: name)
  }
}
