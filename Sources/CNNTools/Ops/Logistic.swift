// Logistic (sigmoid), tools side: TFLite LOGISTIC (int8 and float), ONNX
// Sigmoid, float evaluation, quantization (output fixed at scale 1/256, zero
// point −128; the input keeps its full range) and the builder's rules.

import CNNRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FloatGraph.Kind {
  public static let logistic = Self("logistic")
}

enum LogisticOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.logistic]
  static let opCodes: [OpCode] = [.logistic]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.logistic]
  static let onnxOpTypes = ["Sigmoid"]
  static let needsFullRangeInput = true

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...1)
    try im.addUnaryOp(op, .logistic)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    try im.node(op, .logistic, [try im.input(op, 0)])
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let out = try im.output(n, x.onnxShape, x.layout)
    im.emit(n.node(.logistic, [x.tensor], out))
  }

  static func checkShapes(_ c: FloatNodeCheck) throws {
    try c.sameElements(reshapes: false)
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    for k in 0..<e.out.count { e.out[k] = 1 / (1 + expf(-e.x[k])) }
  }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, _) = q.input(n)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) { try q.b.logistic(x, name: name) }
    return (out, ActivationQuant(scale: 1.0 / 256, zeroPoint: -128))
  }

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(1)
    try c.checkPlain(); try c.noActivation()
    return try c.int8Activation(0, "input").shape
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    try c.unitIntervalQuant(output)
  }
}

extension ModelBuilder {
  /// Output scale 1/256, zero point -128.
  @discardableResult
  public mutating func logistic(_ input: TensorID, name: String? = nil) throws -> TensorID {
    try addWithNewOutput(.logistic, [input], OpOptions(), scale: 1.0 / 256, zeroPoint: -128, name: name)
  }
}

// MARK: Swish (x · LOGISTIC(x)) as one table

/// A TFLite MUL of x by LOGISTIC(x) (swish, as Keras EfficientNet's
/// activations convert): both ops are functions of x's int8 byte alone, so
/// the importer gives the pair one LookupTable whose 256 entries are the
/// runtime's own LOGISTIC and MUL arithmetic applied in turn (the MUL's
/// output bytes, bit for bit, for every input byte). One pass over the
/// tensor instead of two, and no LOGISTIC output tensor. Taken only where
/// the LOGISTIC output is read by that MUL alone and is no model output or
/// requested extra output, the MUL has no fused activation, and the runtime
/// would load the pair as they are (LOGISTIC output at 1/256, −128; a MUL
/// multiplier within range); otherwise both import as themselves.
struct SwishFusion {
  /// TFLite index of the LOGISTIC op the MUL absorbs.
  let logistic: Int
  /// TFLite tensor index of x.
  let input: Int
  let table: [Int8]
}

extension LogisticOp {
  /// The MUL ops (by TFLite index) that take their LOGISTIC input as a table.
  static func swishFusions(_ im: TFLiteInt8Importer, keep: Set<Int>) -> [Int: SwishFusion] {
    let g = im.graph!
    let B = TFLiteBuiltinOperator.self
    var readers: [Int: Int] = [:]
    for op in g.operators { for t in op.inputs where t >= 0 { readers[t, default: 0] += 1 } }
    var producer: [Int: TFLiteOperator] = [:]
    for op in g.operators { for t in op.outputs where t >= 0 { producer[t] = op } }
    var fusions: [Int: SwishFusion] = [:]
    for m in g.operators where im.builtin(m) == B.mul && m.inputs.count == 2 && m.outputs.count == 1 {
      guard case .mul(let act) = m.options, act == .none else { continue }
      for k in 0..<2 {
        let l = m.inputs[k], x = m.inputs[1 - k], out = m.outputs[0]
        guard l >= 0, x >= 0, l != x, let lop = producer[l], im.builtin(lop) == B.logistic,
              lop.inputs == [x], lop.outputs == [l], lop.index < m.index,
              readers[l] == 1, !g.outputs.contains(l), !keep.contains(l),
              g.tensors[x].shape == g.tensors[l].shape, g.tensors[x].shape == g.tensors[out].shape,
              let (sx, zx) = try? im.int8Quant(x, context: ""), let (sl, zl) = try? im.int8Quant(l, context: ""),
              let (so, zo) = try? im.int8Quant(out, context: ""),
              sl == 1.0 / 256, zl == -128 else { continue }
        let lp = prepareLogistic(inputScale: sx, inputZeroPoint: zx)
        let (s1, z1, s2, z2) = k == 0 ? (sl, zl, sx, zx) : (sx, zx, sl, zl)
        let mp = prepareMul(input1Scale: s1, input1ZeroPoint: z1, input2Scale: s2, input2ZeroPoint: z2,
                            outputScale: so, outputZeroPoint: zo, activationMin: -128, activationMax: 127)
        guard mp.outputShift <= 31 else { continue }
        let table: [Int8] = (-128...127).map { v in
          var xb = Int8(v), lb: Int8 = 0, ob: Int8 = 0
          logisticReference(params: lp, count: 1, input: &xb, output: &lb)
          var a = k == 0 ? lb : xb, b = k == 0 ? xb : lb
          mulReference(params: mp, count: 1, input1: &a, input2: &b, output: &ob)
          return ob
        }
        fusions[m.index] = SwishFusion(logistic: lop.index, input: x, table: table)
        break
      }
    }
    return fusions
  }

  /// Imports MUL `op` (x · LOGISTIC(x)) as a LookupTable on x.
  static func importSwish(_ op: TFLiteNode, _ fusion: SwishFusion, _ im: inout TFLiteInt8Importer) throws {
    let g = im.graph!
    let x = try im.activationInput(fusion.input, op.ctx)
    let out = try im.outputActivation(op.op, op.ctx)
    let t = try TFLiteInt8Importer.wrap(op.ctx) {
      try im.builder.addConstant(fusion.table, shape: [256], scale: 1,
                                 name: g.tensors[op.op.outputs[0]].name + "_swish_table")
    }
    try im.addOp(op, .lookupTable, [x, t], out)
  }
}
